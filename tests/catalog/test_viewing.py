"""What a viewer sees: order, the per-revision cache, search, usage, the quick row's ranker seam, tabs and
the schedule window under a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from atrium.catalog import ranking
from atrium.catalog import service as catalog
from atrium.catalog.errors import ServiceNotFound
from atrium.catalog.schemas import ServiceRead, Viewer
from atrium.catalog.service import catalogue
from atrium.kit import clock
from tests.catalog.factories import definition, make_customer, publish, staff, viewer


@pytest.fixture()
def s(db) -> Iterator:  # type: ignore[no-untyped-def, type-arg]
    """A session on a catalogue synced from the built-in definitions."""
    with db.session() as session:
        catalog.sync_definitions(session)
        yield session
        session.rollback()


@contextmanager
def frozen(at: datetime) -> Iterator[clock.FrozenClock]:
    fake = clock.FrozenClock(at)
    previous = clock.use(fake)
    try:
        yield fake
    finally:
        clock.use(previous)


@contextmanager
def statements(session) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def keys(services: list[ServiceRead]) -> list[str]:
    return [x.key for x in services]


def test_a_person_sees_the_person_services_by_line_then_rank(s) -> None:  # type: ignore[no-untyped-def]
    seen = keys(catalog.visible_services(s, viewer(s, make_customer(s))))
    assert seen[:3] == ["retail.transfer", "retail.qr_pay", "retail.limits"]
    assert "life.home" in seen and "security.centre" in seen and "service.messages" in seen
    assert "enterprise.company" not in seen and "enterprise.merchant" not in seen
    lines = [x.split(".")[0] for x in seen]
    assert lines == sorted(lines, key=["retail", "cards", "loans", "wealth", "life", "enterprise", "rural",
                                       "security", "service"].index)


def test_each_identity_sees_its_own_services(s) -> None:  # type: ignore[no-untyped-def]
    person = make_customer(s, company_role="finance", merchant=True)
    company = keys(catalog.visible_services(s, viewer(s, person, "company_operator")))
    merchant = keys(catalog.visible_services(s, viewer(s, person, "merchant")))
    assert "enterprise.company" in company and "retail.transfer" not in company
    assert "enterprise.merchant" in merchant and "enterprise.company" not in merchant
    with pytest.raises(ServiceNotFound):
        catalog.find_visible(s, viewer(s, person, "merchant"), "enterprise.company")
    company = catalog.find_visible(s, viewer(s, person, "company_operator"), "enterprise.company")
    assert company.target == "/biz"


def test_the_decoded_catalogue_is_cached_per_revision_with_one_query(s) -> None:  # type: ignore[no-untyped-def]
    person = make_customer(s)
    who = viewer(s, person)
    first = catalogue.load(s)
    with statements(s) as seen:
        for _ in range(5):
            catalog.visible_services(s, who)
    assert len(seen) == 5 and all("catalog_revision" in q for q in seen)  # the stamp, nothing else
    assert catalogue.load(s) is first
    maker, checker = staff(s, "cache-m"), staff(s, "cache-c")
    publish(s, maker, checker, definition())
    assert catalogue.load(s) is not first and "wealth.pension" in keys(catalog.visible_services(s, who))


def test_a_rolled_back_change_never_serves_from_the_cache(db) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        catalog.sync_definitions(s)
        maker, checker = staff(s, "rb-m"), staff(s, "rb-c")
        s.commit()
        publish(s, maker, checker, definition("wealth.gone"))
        assert "wealth.gone" in catalogue.load(s).by_key
        s.rollback()
        assert "wealth.gone" not in catalogue.load(s).by_key


def test_search_finds_visible_services_by_name_keyword_and_either_language(s) -> None:  # type: ignore[no-untyped-def]
    who = viewer(s, make_customer(s))
    assert keys(catalog.search(s, who, "转账", "zh"))[0] == "retail.transfer"
    assert keys(catalog.search(s, who, "payee", "en")) == ["retail.transfer"]
    assert "retail.transfer" in keys(catalog.search(s, who, "TRANSFER", "zh"))  # the other language, any case
    assert keys(catalog.search(s, who, "security centre", "en"))[0] == "security.centre"
    assert catalog.search(s, who, "   ", "zh") == []
    assert catalog.search(s, who, "转账 不存在的词", "zh") == []  # every word must match
    assert keys(catalog.search(s, who, "企业", "zh")) == ["service.identities"]  # not the hidden overview


def test_record_use_feeds_frequently_used_for_that_identity_only(s) -> None:  # type: ignore[no-untyped-def]
    person = make_customer(s, company_role="owner")
    me, company = viewer(s, person), viewer(s, person, "company_operator")
    for key, times in (("security.phishing_check", 3), ("retail.limits", 1)):
        for _ in range(times):
            catalog.record_use(s, me, key)
    catalog.record_use(s, company, "enterprise.company")
    assert keys(catalog.frequently_used(s, me)) == ["security.phishing_check", "retail.limits"]
    assert keys(catalog.frequently_used(s, me, limit=1)) == ["security.phishing_check"]
    assert keys(catalog.frequently_used(s, company)) == ["enterprise.company"]
    with pytest.raises(ServiceNotFound):
        catalog.record_use(s, me, "enterprise.company")  # not one a person may open
    assert keys(catalog.frequently_used(s, viewer(s, make_customer(s)))) == []


def test_the_quick_row_follows_own_use_then_rank(s) -> None:  # type: ignore[no-untyped-def]
    who = viewer(s, make_customer(s))
    default = keys(catalog.home_quick(s, who, limit=4))
    assert default == ["retail.transfer", "retail.qr_pay", "retail.limits", "life.home"]
    catalog.record_use(s, who, "security.phishing_check")
    assert keys(catalog.home_quick(s, who, limit=4))[0] == "security.phishing_check"


class Greedy:
    """A faulty ranker: reverses the order and slips in a service the viewer cannot see, twice."""

    name = "greedy"

    def __init__(self, extra: ServiceRead) -> None:
        self.extra = extra

    def rank(self, viewer: Viewer, candidates: list[ServiceRead], usage: dict[str, int]) -> list[ServiceRead]:
        return [self.extra, *reversed(candidates), candidates[0]]


def test_a_registered_ranker_orders_the_quick_row_but_cannot_leak(s) -> None:  # type: ignore[no-untyped-def]
    person = make_customer(s, company_role="owner")
    who = viewer(s, person)
    hidden = catalog.find_visible(s, viewer(s, person, "company_operator"), "enterprise.company")
    candidates = keys(catalog.home_quick(s, who, limit=20))
    ranking.register_ranker(Greedy(hidden))
    assert ranking.current_ranker().name == "greedy"
    assert keys(catalog.home_quick(s, who, limit=20)) == list(reversed(candidates))
    with pytest.raises(TypeError):
        ranking.register_ranker(object())  # type: ignore[arg-type]


def test_tabs_follow_the_identity(s) -> None:  # type: ignore[no-untyped-def]
    person = make_customer(s, company_role="finance", merchant=True)
    mine = [t.key for t in catalog.tabs_for(s, viewer(s, person))]
    assert mine == ["home", "transfer", "scan", "services", "me"]
    company = catalog.tabs_for(s, viewer(s, person, "company_operator"))
    assert [t.key for t in company] == ["home", "enterprise.company", "messages", "services", "me"]
    assert company[1].href == "/biz" and company[1].text("en") == "Company overview"
    merchant = [t.href for t in catalog.tabs_for(s, viewer(s, person, "merchant"))]
    assert merchant == ["/", "/merchant", "/messages", "/services", "/settings"]


def test_a_service_tab_is_dropped_when_its_service_is_hidden_and_no_layout_falls_back(db) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        person = make_customer(s, company_role="finance")
        assert [t.key for t in catalog.tabs_for(s, viewer(s, person))] == ["home", "services", "me"]  # empty
        catalog.sync_definitions(s)
        maker, checker = staff(s, "tab-m"), staff(s, "tab-c")
        from atrium.catalog.schemas import ProposalCreate

        p = catalog.propose(s, maker, ProposalCreate(kind="switch", service_key="enterprise.company",
                                                     base_version=1, enabled=False))
        catalog.approve(s, checker, p.id)
        tabs = [t.key for t in catalog.tabs_for(s, viewer(s, person, "company_operator"))]
        assert tabs == ["home", "messages", "services", "me"]
        s.rollback()


def test_the_window_is_honoured_with_the_clock(s) -> None:  # type: ignore[no-untyped-def]
    start = datetime(2030, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=7)
    maker, checker = staff(s, "win-m"), staff(s, "win-c")
    publish(s, maker, checker, definition("wealth.spring", name={"zh": "春节理财", "en": "Spring savings"}),
            window=(start, end))
    who = viewer(s, make_customer(s))
    second = timedelta(seconds=1)
    for at, shown in ((start - second, False), (start, True), (end - second, True), (end, False)):
        with frozen(at):
            assert ("wealth.spring" in keys(catalog.visible_services(s, who))) is shown, at
            assert (catalog.search(s, who, "春节", "zh") != []) is shown
    assert catalog.service_status(True, start, end, start - timedelta(days=1)) == "scheduled"
    assert catalog.service_status(True, start, end, end) == "ended"


def test_the_viewer_carries_age_tenure_and_identity(s) -> None:  # type: ignore[no-untyped-def]
    person = make_customer(s, age=67, locale="en", tenure_days=400, company_role="finance")
    me = viewer(s, person, ui_mode="elder").attributes
    assert me["age"] == 67 and me["kyc"] is True and me["locale"] == "en" and me["ui_mode"] == "elder"
    assert me["tenure_days"] == 400 and me["identity_kind"] == "person" and "identity_role" not in me
    company = viewer(s, person, "company_operator")
    assert company.identity_role == "finance" and company.attributes["identity_role"] == "finance"
    young = viewer(s, make_customer(s)).attributes
    assert "age" not in young and young["kyc"] is False


def test_concurrent_first_uses_are_all_counted(db) -> None:  # type: ignore[no-untyped-def]
    import threading

    with db.unit_of_work() as s:
        catalog.sync_definitions(s)
        person = make_customer(s)
        who = viewer(s, person)
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def use() -> None:
        try:
            start.wait()
            db.run(lambda s: catalog.record_use(s, who, "retail.transfer"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    with db.read_session() as s:
        from atrium.catalog import repository

        assert repository.usage(s, person.customer_id, "person") == {"retail.transfer": 4}
