"""Service notices and broadcasts: shown on the home page to their audience within their window, put in
inboxes by the broadcast job in batches (never twice), withdrawn everywhere; marketing reaches only those
who consented; only message managers publish."""

from __future__ import annotations

from datetime import timedelta

import pytest

from atrium.identity import identities
from atrium.kit import clock
from atrium.messages import service as messages
from atrium.messages.errors import InvalidNotice, NotMessageManager
from atrium.messages.schemas import NoticeCreate, PreferencesUpdate, TemplateEdit
from atrium.messages.tasks import run_broadcasts
from tests.messages.factories import inbox_of, person


def notice(**extra: object) -> NoticeCreate:
    now = clock.now()
    values: dict[str, object] = {
        "title_zh": "系统维护", "body_zh": "周六凌晨维护。", "title_en": "Maintenance",
        "body_en": "On Saturday.",
        "starts_at": now - timedelta(hours=1), "ends_at": now + timedelta(days=1), "audience": "all",
    }
    return NoticeCreate.model_validate(values | extra)


def publish(db, data: NoticeCreate, key: str | None = None):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        row = messages.publish_notice(s, staff_id="stf_1", staff_role="operator", data=data, request_key=key)
        return row.id


def test_only_message_managers_publish(db) -> None:
    with pytest.raises(NotMessageManager), db.unit_of_work() as s:
        messages.publish_notice(s, staff_id="stf_2", staff_role="account_manager", data=notice())


def test_a_window_must_end_after_it_starts_and_carry_a_time_zone(db) -> None:
    now = clock.now()
    with pytest.raises(InvalidNotice), db.unit_of_work() as s:
        messages.publish_notice(s, staff_id="stf_1", staff_role="operator",
                                data=notice(starts_at=now, ends_at=now - timedelta(seconds=1)))
    with pytest.raises(InvalidNotice), db.unit_of_work() as s:
        messages.publish_notice(s, staff_id="stf_1", staff_role="operator",
                                data=notice(starts_at=now.replace(tzinfo=None)))


def test_current_notices_follow_window_audience_and_language(db) -> None:
    me = person(db, "me", balance_minor=0)
    now = clock.now()
    everyone = publish(db, notice())
    publish(db, notice(title_en="Merchants only", audience="merchant"))
    publish(db, notice(title_en="Later", starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2)))
    publish(db, notice(title_en="Over", starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1)))
    with db.read_session() as s:
        as_person = messages.current_notices(s, me.id, locale="en", identity_kind="person", limit=5)
        as_merchant = messages.current_notices(s, me.id, locale="zh", identity_kind="merchant", limit=5)
        one = messages.current_notices(s, me.id, locale="en", identity_kind="merchant", limit=1)
    assert [n.title for n in as_person] == ["Maintenance"] and as_person[0].id == everyone
    assert sorted(n.title for n in as_merchant) == ["系统维护", "系统维护"]
    assert len(one) == 1


def test_the_broadcast_reaches_everyone_in_batches_once(db) -> None:
    people = [person(db, f"p{i}", balance_minor=0, locale="en" if i % 2 else "zh") for i in range(5)]
    nid = publish(db, notice())
    with db.read_session() as s:
        (b,) = messages.list_broadcasts(s)
    results = []
    for _ in range(4):
        results.append(db.run(lambda s: messages.run_broadcast_batch(s, b.id, batch=2)))
    assert [r.reached for r in results] == [2, 2, 1, 0] and results[2].finished and results[3].finished
    titles = {p.username: [m.title for m in inbox_of(db, p.id)] for p in people}
    assert titles == {"p0": ["系统维护"], "p1": ["Maintenance"], "p2": ["系统维护"], "p3": ["Maintenance"],
                      "p4": ["系统维护"]}
    assert run_broadcasts(db) == 0  # done: nothing more, nothing twice
    with db.read_session() as s:
        (shown,) = messages.current_notices(s, people[0].id, locale="zh", identity_kind="person", limit=3)
        (b,) = messages.list_broadcasts(s)
    assert shown.id == nid and shown.message_id is not None and shown.read is False
    assert (b.status, b.reached, b.skipped) == ("done", 5, 0)


def test_a_notice_for_merchants_reaches_only_merchants(db) -> None:
    shop, plain = person(db, "shop", balance_minor=0), person(db, "plain", balance_minor=0)
    with db.unit_of_work() as s:
        identities.add_identity(s, customer_id=shop.id, kind="merchant", org_name="Shop", org_ref="MER-1")
    publish(db, notice(audience="merchant"))
    assert run_broadcasts(db) == 1
    assert len(inbox_of(db, shop.id)) == 1 and inbox_of(db, plain.id) == []


def test_withdrawing_stops_the_broadcast_and_empties_the_inboxes(db) -> None:
    people = [person(db, f"w{i}", balance_minor=0) for i in range(3)]
    nid = publish(db, notice())
    with db.read_session() as s:
        (b,) = messages.list_broadcasts(s)
    db.run(lambda s: messages.run_broadcast_batch(s, b.id, batch=2))
    with db.unit_of_work() as s:
        messages.withdraw_notice(s, staff_id="stf_1", staff_role="administrator", notice_id=nid)
        # Withdrawing again changes nothing.
        messages.withdraw_notice(s, staff_id="stf_1", staff_role="administrator", notice_id=nid)
    assert run_broadcasts(db) == 0
    with db.read_session() as s:
        assert all(messages.unread_count(s, p.id) == 0 for p in people)
        assert messages.current_notices(s, people[0].id, locale="zh", identity_kind="person", limit=3) == []
        assert messages.list_broadcasts(s)[0].status == "cancelled"


def test_the_same_publish_form_twice_is_one_notice(db) -> None:
    assert publish(db, notice(), key="req_1") == publish(db, notice(), key="req_1")
    with db.read_session() as s:
        assert len(messages.list_notices(s)) == 1 and len(messages.list_broadcasts(s)) == 1


def test_marketing_reaches_only_consenting_customers_with_the_version_pinned(db) -> None:
    yes, no = person(db, "yes", balance_minor=0), person(db, "no", balance_minor=0)
    words = {"title_zh": "优惠", "body_zh": "限时优惠。", "title_en": "Offer", "body_en": "For a while."}
    with db.unit_of_work() as s:
        messages.update_preferences(s, yes.id, PreferencesUpdate(marketing_opt_in=True))
        messages.create_template(s, staff_id="stf_1", staff_role="operator", key="promo.one",
                                 category="marketing", data=TemplateEdit(channels=["push"], **words))
        messages.start_marketing(s, staff_id="stf_1", staff_role="operator", template_key="promo.one")
        # Edited after the send started: the broadcast still sends the version it started with.
        messages.edit_template(s, staff_id="stf_1", staff_role="operator", key="promo.one", base_version=1,
                               data=TemplateEdit(channels=["push"], **(words | {"title_zh": "新优惠"})))
    assert run_broadcasts(db) == 1
    assert [m.title for m in inbox_of(db, yes.id)] == ["优惠"] and inbox_of(db, no.id) == []
    with db.read_session() as s:
        (b,) = messages.list_broadcasts(s)
    assert (b.reached, b.skipped) == (1, 1)
    # Consent is checked for each message, not only for broadcasts.
    with db.unit_of_work() as s:
        assert messages.send_templated(s, customer_id=no.id, template_key="promo.one", values={},
                                       dedup_key="direct") is None
