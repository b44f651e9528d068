"""Home: the person's totals, account cards and recent entries, and the parts assembled from the catalogue —
quick functions (through the ranking seam), "frequently used" (following the person's own use), notices
with the unread badge, the identity chip. What the catalogue parts show is compared with the catalogue's
own answer for the same viewer, never with a list written here."""

from __future__ import annotations

from datetime import timedelta

import pytest

from atrium.accounts import service as accounts
from atrium.catalog import ranking
from atrium.catalog import service as catalog
from atrium.catalog.schemas import ServiceRead, Viewer
from atrium.identity import service as identity
from atrium.kit import clock
from atrium.messages import service as messages
from atrium.messages.schemas import NoticeCreate
from atrium.web.mobile.i18n import LOCALE_COOKIE
from atrium.web.mobile.pages.home import LAYOUTS, layout_for
from tests.web.mobile import shell_support as shell
from tests.web.mobile.factories import deposit
from tests.web.mobile.shell_support import section, tiles


@pytest.fixture(autouse=True)
def catalogue(db) -> None:  # type: ignore[no-untyped-def]
    shell.sync_catalogue(db)


def _quick(db, customer_id: str, identity=None, limit: int = LAYOUTS["standard"].quick) -> list[str]:  # type: ignore[no-untyped-def]
    v = shell.viewer(db, customer_id, identity)
    with db.read_session() as s:
        return [x.key for x in catalog.home_quick(s, v, limit=limit)]


def _frequent(db, customer_id: str, identity=None) -> list[str]:  # type: ignore[no-untyped-def]
    v = shell.viewer(db, customer_id, identity)
    with db.read_session() as s:
        return [x.key for x in catalog.frequently_used(s, v, limit=LAYOUTS["standard"].frequent)]


def test_home_shows_totals_cards_and_recent(signed_in, customer, db):
    current, savings = customer.accounts
    deposit(db, savings, 30_000, "Gift")
    r = signed_in.get("/")
    assert r.status_code == 200
    html = r.text
    assert "下午好" in html or "早上好" in html or "晚上好" in html
    assert "王美" in html
    assert "¥12,800.00" in html  # 12,500 + 300 across both CNY accounts
    assert current.masked_number in html and savings.masked_number in html
    assert current.number not in html  # never the full number
    assert "账面余额" in html and "可用余额" in html
    assert "Gift" in html and "Salary" in html
    assert f'href="/accounts/{current.id}"' in html
    assert 'href="/" class="tab-home" aria-current="page"' in html
    assert '<link rel="stylesheet" href="/static/mobile/css/shell.css' in html


def test_totals_are_kept_per_currency(signed_in, customer, db):
    with db.unit_of_work() as s:
        usd = accounts.open_account(s, customer_id=customer.customer_id, product="current", currency="USD")
    deposit(db, usd, 2_500)
    html = signed_in.get("/").text
    assert "¥12,500.00" in html
    assert "US$25.00" in html


def test_a_customer_without_accounts_sees_an_empty_state(client, db):
    from tests.web.mobile.factories import login, seed_customer

    who = seed_customer(db, username="new", balance_minor=0, savings=False)
    with db.unit_of_work() as s:
        accounts.close_account(s, customer_id=who.customer_id, account_id=who.accounts[0].id)
    login(client, who)
    r = client.get("/")
    assert r.status_code == 200
    assert "您还没有账户" in r.text


def test_closed_accounts_are_not_counted(signed_in, customer, db):
    with db.unit_of_work() as s:
        accounts.close_account(s, customer_id=customer.customer_id, account_id=customer.accounts[1].id)
    html = signed_in.get("/").text
    assert customer.accounts[1].masked_number not in html
    assert "共 1 个账户" in html


# --- from the catalogue -----------------------------------------------------------------------------------


def test_the_quick_row_is_the_catalogue_s_quick_row(signed_in, customer, db):
    html = signed_in.get("/").text
    expected = _quick(db, customer.customer_id)
    assert expected, "the built-in catalogue places services in the quick row"
    assert tiles(section(html, "quick-head")) == expected
    for key in expected:
        assert f'href="/go/{key}"' in html
    assert 'href="/services"' in section(html, "quick-head")


def test_the_quick_row_goes_through_the_ranking_seam(signed_in, customer, db):
    class Backwards:
        name = "backwards-for-test"

        def rank(
            self, viewer: Viewer, candidates: list[ServiceRead], usage: dict[str, int]
        ) -> list[ServiceRead]:
            return list(reversed(candidates))[:3]

    default = _quick(db, customer.customer_id)
    ranking.register_ranker(Backwards())
    try:
        html = signed_in.get("/").text
        expected = _quick(db, customer.customer_id)
    finally:
        ranking.reset_ranker()
    assert len(expected) == 3 and expected != default[:3]
    assert tiles(section(html, "quick-head")) == expected


def test_frequently_used_follows_the_person_s_own_use(signed_in, customer, db):
    assert tiles(section(signed_in.get("/").text, "frequent-head")) == []
    grid = tiles(signed_in.get("/services").text, within="service-results")
    first, second = grid[-1], grid[-2]  # the catalogue's last ones: not what a default order would show
    for key in (first, first, second):
        assert signed_in.get(f"/go/{key}", follow_redirects=False).status_code in (200, 303)
    html = signed_in.get("/").text
    assert tiles(section(html, "frequent-head")) == _frequent(db, customer.customer_id) == [first, second]
    for _ in range(2):
        signed_in.get(f"/go/{second}", follow_redirects=False)
    assert tiles(section(signed_in.get("/").text, "frequent-head")) == [second, first]


def test_use_in_one_identity_does_not_leak_into_another(signed_in, customer, db):
    company = shell.add_company(db, customer.customer_id)
    person_key = tiles(signed_in.get("/services").text, within="service-results")[0]
    signed_in.get(f"/go/{person_key}", follow_redirects=False)
    shell.switch(signed_in, company.id)
    html = signed_in.get("/").text
    assert tiles(section(html, "frequent-head")) == _frequent(db, customer.customer_id, company) == []
    assert tiles(section(html, "quick-head")) == _quick(db, customer.customer_id, company)


def test_a_company_operator_s_home_shows_the_company_not_the_accounts(signed_in, customer, db):
    company = shell.add_company(db, customer.customer_id)
    shell.switch(signed_in, company.id)
    html = signed_in.get("/").text
    assert "上海青禾贸易有限公司" in html and 'href="/biz"' in html
    assert customer.accounts[0].masked_number not in html and "¥12,500.00" not in html
    quick = _quick(db, customer.customer_id, company)
    assert tiles(section(html, "quick-head")) == quick
    assert any(k.startswith("enterprise.") for k in quick)


def _notice(db, *, audience: str = "all", title: str = "系统维护", link: str | None = "/security") -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    with db.unit_of_work() as s:
        messages.publish_notice(s, staff_id="stf_test", staff_role="operator", data=NoticeCreate(
            title_zh=title, body_zh="周日凌晨两点至四点暂停服务。", title_en="Maintenance " + audience,
            body_en="Service pauses on Sunday 02:00-04:00.", link=link, audience=audience,  # type: ignore[arg-type]
            starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=1), to_inbox=False,
        ))


def test_notices_for_the_identity_show_on_the_home(signed_in, customer, db):
    _notice(db)
    _notice(db, audience="company_operator", title="企业网银升级")
    html = signed_in.get("/").text
    notices = section(html, "notices-head")
    assert "系统维护" in notices and "企业网银升级" not in notices and 'href="/security"' in notices
    company = shell.add_company(db, customer.customer_id)
    shell.switch(signed_in, company.id)
    assert "企业网银升级" in section(signed_in.get("/").text, "notices-head")
    signed_in.cookies.set(LOCALE_COOKIE, "en")
    assert "Maintenance company_operator" in signed_in.get("/").text


def test_the_messages_entry_carries_the_unread_count(signed_in, customer, db):
    html = signed_in.get("/").text
    assert 'href="/messages" aria-label="消息"' in html and "unread-badge" not in html
    with db.unit_of_work() as s:
        for i in range(3):
            messages.deliver(s, customer_id=customer.customer_id, category="service", title=f"t{i}", body="b",
                             link=None, locale="zh", dedup_key=f"home-test-{i}", source="test", channels=[])
    html = signed_in.get("/").text
    assert 'aria-label="消息，3 条未读"' in html
    assert '<span class="unread-badge" aria-hidden="true">3</span>' in html


def test_the_identity_chip_names_who_you_act_as(signed_in, customer, db):
    html = signed_in.get("/").text
    chip = html[html.index('<a class="identity-chip'):]
    chip = chip[: chip.index("</a>")]
    assert 'href="/identities"' in chip and "个人" in chip and "#user" in chip
    company = shell.add_company(db, customer.customer_id)
    shell.switch(signed_in, company.id)
    html = signed_in.get("/").text
    chip = html[html.index('<a class="identity-chip'):]
    chip = chip[: chip.index("</a>")]
    assert "上海青禾贸易有限公司 · 财务" in chip and "#bank" in chip and "个人" not in chip


def test_in_elder_mode_the_home_shows_fewer_items(signed_in, customer, db):
    for i in range(6):
        deposit(db, customer.accounts[0], 100 + i, f"Refund {i}")
    with db.unit_of_work() as s:
        identity.set_ui_mode(s, customer.customer_id, "elder")
    html = signed_in.get("/").text
    assert 'class="mode-elder"' in html
    layout = layout_for("elder")
    quick = _quick(db, customer.customer_id, limit=layout.quick)
    assert tiles(section(html, "quick-head")) == quick and len(quick) <= layout.quick
    assert 'id="frequent-head"' not in html  # nothing used yet: the empty row is left out
    assert section(html, "recent-head").count('<a class="row"') == layout.recent


def test_elder_mode_shows_fewer_items():
    elder, standard = layout_for("elder"), layout_for("standard")
    assert elder.quick < standard.quick and elder.frequent < standard.frequent
    assert elder.recent < standard.recent and elder.notices <= standard.notices
    assert layout_for("unknown") == standard
