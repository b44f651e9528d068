"""The inbox's pure rules: channels per category and the customer's choices, template placeholders and
rendering (money per locale through Babel), links, retry timing, and the built-in definitions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atrium.messages import definitions, domain
from atrium.messages.domain import Label, Moment, Money
from atrium.messages.errors import InvalidLink, InvalidPreferences, InvalidTemplate

LABELS = {"zh": {"reason:AC04": "收款账户已销户", "reason:*": "原因未说明"},
          "en": {"reason:AC04": "the receiving account is closed", "reason:*": "no reason given"}}


def test_defaults_push_transactions_and_always_security() -> None:
    choices = domain.resolve_choices(None)
    assert choices == {
        "transaction": {"sms": False, "push": True},
        "security": {"sms": True, "push": True},
        "service": {"push": False},
        "marketing": {"push": False},
    }


def test_stored_choices_cannot_switch_security_off_or_add_sms_to_notices() -> None:
    stored = {"security": {"sms": False, "push": False}, "service": {"sms": True},
              "transaction": {"sms": True}}
    choices = domain.resolve_choices(stored)
    assert choices["security"] == {"sms": True, "push": True}
    assert "sms" not in choices["service"]
    assert choices["transaction"] == {"sms": True, "push": True}


@pytest.mark.parametrize("wanted", [
    {"security": {"sms": False}},
    {"security": {"push": False}},
    {"service": {"sms": True}},
    {"marketing": {"sms": True}},
    {"gossip": {"push": True}},
])
def test_impossible_choices_are_refused(wanted) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidPreferences):
        domain.check_choices(wanted)


def test_channels_to_send_follow_template_rule_and_choice() -> None:
    choices = domain.resolve_choices({"transaction": {"sms": True, "push": False}})
    assert domain.channels_to_send("transaction", ("push", "sms"), choices) == ("sms",)
    assert domain.channels_to_send("transaction", ("push",), choices) == ()
    assert domain.channels_to_send("security", ("push", "sms"), choices) == ("sms", "push")
    assert domain.channels_to_send("security", (), choices) == ()  # a template without channels: inbox only


def test_marketing_needs_consent() -> None:
    assert not domain.may_receive("marketing", False)
    assert domain.may_receive("marketing", True)
    assert all(domain.may_receive(c, False) for c in ("transaction", "security", "service"))


def test_placeholders_are_plain_names_only() -> None:
    assert domain.placeholders("您{amount}到账，尾号{account}") == ["amount", "account"]
    assert domain.placeholders("braces {{kept}}") == []
    for bad in ("{amount.__class__}", "{amount[0]}", "{amount!r}", "{amount:>10}", "{}", "{0}", "{ amount}",
                "open {", "close }"):
        with pytest.raises(InvalidTemplate):
            domain.placeholders(bad)


def test_check_text_refuses_unknown_placeholders_and_empty_or_long_text() -> None:
    assert domain.check_text(" {amount} ", {"amount"}, limit=10, field="body") == "{amount}"
    with pytest.raises(InvalidTemplate) as err:
        domain.check_text("{password}", {"amount"}, limit=100, field="body")
    assert err.value.extra == {"field": "body", "unknown": ["password"]}
    with pytest.raises(InvalidTemplate):
        domain.check_text("  ", set(), limit=10, field="title")
    with pytest.raises(InvalidTemplate):
        domain.check_text("x" * 11, set(), limit=10, field="title")


def test_render_formats_money_dates_and_labels_per_locale() -> None:
    values = {"amount": Money(123456, "CNY"), "reason": Label("reason:AC04"), "day": date(2025, 3, 1),
              "when": Moment(datetime(2025, 3, 1, 2, 30, tzinfo=UTC)), "yen": Money(500, "JPY")}
    text = "{amount}|{reason}|{day}|{when}|{yen}"
    zh = domain.render(text, values, "zh", LABELS).split("|")
    en = domain.render(text, values, "en", LABELS).split("|")
    assert zh[:3] == ["¥1,234.56", "收款账户已销户", "2025年3月1日"]
    assert en[:3] == ["CN¥1,234.56", "the receiving account is closed", "March 1, 2025"]
    assert "10:30" in zh[3] and "10:30" in en[3]  # Beijing time
    assert zh[4] == "JP¥500" and en[4] == "¥500"


def test_unknown_labels_fall_back_to_the_group_word_then_the_key() -> None:
    assert domain.render("{r}", {"r": Label("reason:ZZ99")}, "en", LABELS) == "no reason given"
    assert domain.render("{r}", {"r": Label("other:x")}, "en", LABELS) == "other:x"


def test_a_missing_value_stays_visible_instead_of_crashing() -> None:
    assert domain.render("to {counterparty}", {}, "en") == "to {counterparty}"


NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)


@given(st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=40),
       st.dictionaries(NAMES, st.text(max_size=20), max_size=4))
def test_rendering_puts_each_value_exactly_where_its_placeholder_was(literal: str, values: dict) -> None:  # type: ignore[type-arg]
    names = sorted(values)
    text = literal + "".join(f"{{{n}}}-" for n in names)
    assert domain.placeholders(text) == names
    assert domain.render(text, values, "en") == literal + "".join(f"{values[n]}-" for n in names)


@pytest.mark.parametrize("link", ["/accounts/acc_1", "/limits", "/messages/msg_1?x=1"])
def test_site_paths_are_links(link: str) -> None:
    assert domain.safe_link(link) == link


@pytest.mark.parametrize("link", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)",
                                  "/\\evil", "/a b", "accounts", "/" + "x" * 300, "/a\nb"])
def test_anything_else_is_not_a_link(link: str) -> None:
    with pytest.raises(InvalidLink):
        domain.safe_link(link)
    assert domain.safe_link("") is None and domain.safe_link(None) is None


def test_retry_delay_doubles_up_to_the_cap() -> None:
    assert [domain.retry_delay_s(n, 30, 200) for n in (1, 2, 3, 4, 5)] == [30, 60, 120, 200, 200]


def test_sms_text_per_language() -> None:
    assert domain.sms_text("转账成功", "已完成。", "zh") == "转账成功：已完成。"
    assert domain.sms_text("Done", "Paid.", "en") == "Done: Paid."


def test_the_builtin_definitions_are_valid_and_complete() -> None:
    d = definitions.builtin()
    assert {"transfer.completed", "transfer.received", "transfer.returned", "transfer.failed", "qr.paid",
            "order.executed", "order.failed", "order.suspended", "limits.changed",
            "security.changed"} <= set(d.templates)
    assert d.templates["security.changed"].category == "security"
    assert set(d.labels["zh"]) == set(d.labels["en"])
    for t in d.templates.values():
        for locale in ("zh", "en"):
            assert set(domain.placeholders(t.texts[locale].body)) <= t.placeholders


def test_a_broken_definition_fails_loudly() -> None:
    broken = {"category": "transaction", "channels": ["push"], "placeholders": [],
              "zh": {"title": "a", "body": "{amount}"}, "en": {"title": "a", "body": "b"}}
    raw = {"templates": {"x.y": broken}, "labels": {"zh": {}, "en": {}}}
    with pytest.raises(InvalidTemplate):
        definitions.parse(raw)
