"""Message templates: built-ins written insert-only, edits as versions (checked, by a manager, never
overwriting a concurrent edit), new staff templates, and messages made from the version current at send
time."""

from __future__ import annotations

import pytest

from atrium.bootstrap import reference_data
from atrium.messages import definitions
from atrium.messages import service as messages
from atrium.messages.domain import Money
from atrium.messages.errors import (
    InvalidLink,
    InvalidTemplate,
    NotMessageManager,
    StaleTemplate,
    TemplateExists,
    TemplateNotFound,
)
from atrium.messages.schemas import TemplateEdit
from tests.messages.factories import inbox_of, person

WORDS = {"title_zh": "收到", "body_zh": "收到{amount}", "title_en": "In", "body_en": "Got {amount}"}


def edit(db, key: str, base: int, role: str = "operator", **words: str):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return messages.edit_template(s, staff_id="stf_1", staff_role=role, key=key, base_version=base,
                                      data=TemplateEdit(channels=["push"], **(WORDS | words)))


def test_the_bootstrap_writes_the_builtins_once_and_keeps_staff_edits(db) -> None:
    with db.unit_of_work() as s:
        reference_data(s)
    with db.read_session() as s:
        keys = {t.key for t in messages.list_templates(s)}
    assert keys == set(definitions.builtin().templates)
    edit(db, "transfer.received", 1)
    with db.unit_of_work() as s:
        assert messages.ensure_builtin_templates(s) == 0
        reference_data(s)
    with db.read_session() as s:
        t = messages.get_template(s, "transfer.received")
    assert t.current_version == 2 and t.current.title_zh == "收到"


def test_an_edit_is_a_new_version_and_messages_use_the_current_one(db) -> None:
    me = person(db, "me", balance_minor=0)
    values = {"amount": Money(1_00, "CNY"), "account": "1234", "account_id": "acc_1"}
    with db.unit_of_work() as s:
        messages.send_templated(s, customer_id=me.id, template_key="transfer.received", values=values,
                                dedup_key="a")
    edit(db, "transfer.received", 1)
    with db.unit_of_work() as s:
        messages.send_templated(s, customer_id=me.id, template_key="transfer.received", values=values,
                                dedup_key="b")
    old, new = inbox_of(db, me.id)
    assert (old.title, old.template_version) == ("收到转账", 1)
    assert (new.title, new.body, new.template_version) == ("收到", "收到¥1.00", 2)
    assert new.link is None  # the edit dropped the link


def test_saving_the_same_words_twice_adds_no_version(db) -> None:
    edit(db, "qr.paid", 1)
    assert edit(db, "qr.paid", 1).current_version == 2  # the double submit of the same form


def test_a_concurrent_edit_is_refused(db) -> None:
    edit(db, "qr.paid", 1)
    with pytest.raises(StaleTemplate):
        edit(db, "qr.paid", 1, body_zh="另一个{amount}")


@pytest.mark.parametrize(("words", "error"), [
    ({"body_zh": "{password}"}, InvalidTemplate),
    ({"body_en": "{amount.__globals__}"}, InvalidTemplate),
    ({"title_zh": ""}, InvalidTemplate),
    ({"body_en": "x" * 1001}, InvalidTemplate),
])
def test_edits_are_checked(db, words: dict[str, str], error: type[Exception]) -> None:
    with pytest.raises(error):
        edit(db, "qr.paid", 1, **words)


def test_links_stay_on_this_site_and_channels_follow_the_category(db) -> None:
    with pytest.raises(InvalidLink), db.unit_of_work() as s:
        messages.ensure_builtin_templates(s)
        messages.edit_template(s, staff_id="stf_1", staff_role="operator", key="qr.paid", base_version=1,
                               data=TemplateEdit(channels=[], link="https://evil.example", **WORDS))
    with pytest.raises(InvalidTemplate), db.unit_of_work() as s:
        sms = TemplateEdit(channels=["sms"], **dict.fromkeys(WORDS, "x"))
        messages.create_template(s, staff_id="stf_1", staff_role="operator", key="notice.x",
                                 category="service", data=sms)


def test_only_managers_change_templates(db) -> None:
    with pytest.raises(NotMessageManager):
        edit(db, "qr.paid", 1, role="risk_analyst")
    with pytest.raises(NotMessageManager):
        edit(db, "qr.paid", 1, role=None)  # type: ignore[arg-type]


def test_new_staff_templates(db) -> None:
    plain = dict.fromkeys(WORDS, "words")
    with db.unit_of_work() as s:
        made = messages.create_template(s, staff_id="stf_1", staff_role="operator", key=" Promo.Spring ",
                                        category="marketing", data=TemplateEdit(channels=["push"], **plain))
        assert made.key == "promo.spring" and not made.builtin and made.placeholders == []
        again = messages.create_template(s, staff_id="stf_1", staff_role="operator", key="promo.spring",
                                         category="marketing", data=TemplateEdit(channels=["push"], **plain))
        assert again.current_version == 1
    for key, category, data, error in [
        ("promo.spring", "marketing", {**plain, "title_en": "other"}, TemplateExists),
        ("transfer.completed", "marketing", plain, TemplateExists),
        ("promo.x", "transaction", plain, InvalidTemplate),
        ("promo.y", "marketing", {**plain, "body_zh": "{amount}"}, InvalidTemplate),
        ("Promo", "marketing", plain, InvalidTemplate),
    ]:
        with pytest.raises(error), db.unit_of_work() as s:
            messages.create_template(s, staff_id="stf_1", staff_role="operator", key=key, category=category,
                                     data=TemplateEdit(channels=["push"], **data))


def test_unknown_templates(db) -> None:
    with pytest.raises(TemplateNotFound), db.read_session() as s:
        messages.get_template(s, "no.such")
    me = person(db, "me", balance_minor=0)
    with pytest.raises(TemplateNotFound), db.unit_of_work() as s:
        messages.send_templated(s, customer_id=me.id, template_key="no.such", values={}, dedup_key="x")
