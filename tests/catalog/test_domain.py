"""Pure catalogue rules: the audience-rule language, definition validation, windows, maker-checker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from atrium.catalog import domain
from atrium.catalog.errors import InvalidDefinition, InvalidRule, SelfApproval, StaleProposal

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def leaf(attr: str, op: str, value: object = None) -> dict:
    rule: dict = {"attr": attr, "op": op}
    if op != "exists":
        rule["value"] = value
    return rule


# --- evaluation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "attributes", "expected"),
    [
        (leaf("age", "gte", 60), {"age": 60}, True),
        (leaf("age", "gte", 60), {"age": 59}, False),
        (leaf("age", "gt", 60), {"age": 60}, False),
        (leaf("age", "lt", 18), {"age": 17.5}, True),
        (leaf("age", "lte", 18), {"age": 18}, True),
        (leaf("age", "eq", 60), {"age": 60.0}, True),
        (leaf("kyc", "eq", True), {"kyc": 1}, False),  # a boolean equals only a boolean
        (leaf("score", "eq", 1), {"score": True}, False),
        (leaf("locale", "eq", "zh"), {"locale": "zh"}, True),
        (leaf("locale", "ne", "zh"), {"locale": "en"}, True),
        (leaf("locale", "in", ["zh", "en"]), {"locale": "en"}, True),
        (leaf("locale", "not_in", ["zh"]), {"locale": "en"}, True),
        (leaf("tags", "in", ["vip", "new"]), {"tags": ["old", "vip"]}, True),
        (leaf("tags", "not_in", ["vip"]), {"tags": ["old", "vip"]}, False),
        (leaf("tags", "contains", "vip"), {"tags": ["vip"]}, True),
        (leaf("tags", "contains", "vi"), {"tags": ["vip"]}, False),
        (leaf("name", "contains", "vi"), {"name": "david"}, True),
        (leaf("age", "contains", 6), {"age": 60}, False),
        (leaf("day", "gte", "2025-01-01"), {"day": "2025-02-01"}, True),  # strings order as strings
        (leaf("age", "gte", "60"), {"age": 70}, False),  # no ordering across types
        (leaf("age", "exists"), {"age": None}, True),
        (leaf("age", "exists"), {}, False),
    ],
)
def test_comparisons(rule, attributes, expected) -> None:  # type: ignore[no-untyped-def]
    domain.validate_rule(rule)
    assert domain.evaluate(rule, attributes) is expected


@pytest.mark.parametrize("op", ["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains"])
def test_a_missing_attribute_never_matches_a_comparison(op: str) -> None:
    value = ["x"] if op in ("in", "not_in") else 1
    rule = leaf("age", op, value)
    assert domain.evaluate(rule, {"other": 1}) is False
    assert domain.evaluate({"not": rule}, {"other": 1}) is True  # only `not` turns it around


def test_combinators() -> None:
    elder = leaf("age", "gte", 60)
    english = leaf("locale", "eq", "en")
    assert domain.evaluate({"all": [elder, english]}, {"age": 70, "locale": "en"})
    assert not domain.evaluate({"all": [elder, english]}, {"age": 70, "locale": "zh"})
    assert domain.evaluate({"any": [elder, english]}, {"age": 70, "locale": "zh"})
    assert not domain.evaluate({"any": [elder, english]}, {"age": 20, "locale": "zh"})
    assert domain.evaluate({"not": {"any": [elder, english]}}, {"age": 20})
    assert domain.evaluate(None, {})  # no rule: everyone


# --- rule validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "path", "words"),
    [
        ([], "audience", "an object"),
        ({}, "audience", "all / any / not"),
        ({"all": []}, "audience.all", "non-empty list"),
        ({"any": "x"}, "audience.any", "non-empty list"),
        ({"all": [leaf("age", "gte", 1)], "any": [leaf("age", "gte", 1)]}, "audience", "stands alone"),
        ({"all": [leaf("age", "gte", 1), {"attr": "age", "op": "gtt", "value": 1}]}, "audience.all[1].op",
         "unknown operator 'gtt'"),
        ({"not": {"attr": "Age!", "op": "eq", "value": 1}}, "audience.not.attr", "attribute name"),
        ({"attr": "age", "op": "in", "value": 3}, "audience.value", "non-empty list"),
        ({"attr": "age", "op": "in", "value": []}, "audience.value", "non-empty list"),
        ({"attr": "age", "op": "gte", "value": True}, "audience.value", "number or a string"),
        ({"attr": "age", "op": "eq", "value": [1]}, "audience.value", "one string"),
        ({"attr": "age", "op": "eq", "value": float("nan")}, "audience.value", "one string"),
        ({"attr": "age", "op": "eq"}, "audience.value", "needs a value"),
        ({"attr": "age", "op": "exists", "value": 1}, "audience.value", "takes no value"),
        ({"attr": "age", "op": "eq", "value": 1, "why": 2}, "audience.why", "unknown field"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_bad_part(rule, path, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidRule) as caught:
        domain.validate_rule(rule)
    assert caught.value.extra["path"] == path
    assert words in caught.value.detail and caught.value.detail.startswith(path)


def test_rules_are_bounded_in_depth_and_size() -> None:
    deep: dict = leaf("age", "gte", 1)
    for _ in range(domain.MAX_DEPTH + 1):
        deep = {"not": deep}
    with pytest.raises(InvalidRule, match="nest"):
        domain.validate_rule(deep)
    with pytest.raises(InvalidRule, match="more than"):
        domain.validate_rule({"any": [leaf("age", "eq", i) for i in range(domain.MAX_NODES + 1)]})


def test_describe_reads_like_prose() -> None:
    rule = {"all": [leaf("age", "gte", 60), {"not": leaf("locale", "in", ["en"])}, leaf("kyc", "exists")]}
    expected = ["all of:", "  age ≥ 60", "  not:", '    locale in ["en"]', "  kyc is known"]
    assert domain.describe(rule) == expected
    assert domain.describe(None) == ["everyone"]


# --- definitions --------------------------------------------------------------------------------------


def good(**changes: object) -> dict:
    data = {"key": "wealth.pension", "line": "wealth", "name": {"zh": "养老", "en": "Pension"},
            "description": {"zh": "", "en": ""}, "keywords": {"zh": ["养老"]}, "icon": "wallet",
            "target": "/limits", "identity_kinds": ["person"], "permissions": [], "channels": ["app"],
            "placements": ["grid"], "rank": 5, "audience": None}
    data.update(changes)
    return data


def test_a_good_definition_passes() -> None:
    domain.validate_definition(good())
    domain.validate_definition(good(target="https://wealth.atrium.example/pension?from=app"))
    domain.validate_definition(good(audience=leaf("age", "gte", 50), identity_kinds=["person", "merchant"]))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"key": "Wealth.Pension"}, "key"),
        ({"key": "pension"}, "key"),
        ({"key": "loans.pension"}, "key"),  # a key starts with its line
        ({"line": "casino", "key": "casino.x"}, "line"),
        ({"name": {"zh": "养老"}}, "name.en"),
        ({"name": {"zh": " ", "en": "Pension"}}, "name.zh"),
        ({"name": {"zh": "养老", "en": "x" * 41}}, "name.en"),
        ({"name": {"zh": "养老", "en": "P", "fr": "P"}}, "name.fr"),
        ({"keywords": {"en": ["", "x"]}}, "keywords.en"),
        ({"icon": "Wallet Icon"}, "icon"),
        ({"target": "limits"}, "target"),
        ({"target": "//evil.example/x"}, "target"),
        ({"target": "http://wealth.example"}, "target"),
        ({"target": "https://user@evil.example"}, "target"),
        ({"target": "javascript:alert(1)"}, "target"),
        ({"target": "/a b"}, "target"),
        ({"identity_kinds": []}, "identity_kinds"),
        ({"identity_kinds": ["robot"]}, "identity_kinds"),
        ({"identity_kinds": ["person", "person"]}, "identity_kinds"),
        ({"channels": ["tv"]}, "channels"),
        ({"placements": ["banner"]}, "placements"),
        ({"permissions": ["Finance Dept"]}, "permissions"),
        ({"rank": -1}, "rank"),
        ({"rank": True}, "rank"),
    ],
)
def test_a_bad_definition_names_its_field(changes, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidDefinition) as caught:
        domain.validate_definition(good(**changes))
    assert caught.value.extra["field"] == field


def test_a_bad_audience_in_a_definition_names_the_rule_part() -> None:
    with pytest.raises(InvalidRule) as caught:
        domain.validate_definition(good(audience={"any": [leaf("age", "gte", 1), {"attr": "age"}]}))
    assert caught.value.extra["path"] == "audience.any[1]"


# --- windows, visibility, maker-checker ----------------------------------------------------------------


def test_the_window_is_open_at_its_start_and_closed_at_its_end() -> None:
    end = T0 + timedelta(days=1)
    assert not domain.in_window(T0 - timedelta(microseconds=1), T0, end)
    assert domain.in_window(T0, T0, end)
    assert not domain.in_window(end, T0, end)
    assert domain.in_window(T0, None, None) and domain.in_window(T0, None, end)
    assert domain.in_window(end, T0, None)


def test_a_window_must_start_before_it_ends_and_carry_a_zone() -> None:
    domain.validate_window(T0, T0 + timedelta(seconds=1))
    domain.validate_window(None, T0)
    with pytest.raises(InvalidDefinition, match="start before"):
        domain.validate_window(T0, T0)
    with pytest.raises(InvalidDefinition, match="time zone"):
        domain.validate_window(T0.replace(tzinfo=None), None)


def entry(**changes: object) -> domain.Entry:
    base = {"key": "enterprise.pay", "enabled": True, "starts_at": None, "ends_at": None,
            "channels": frozenset({"app"}), "identity_kinds": frozenset({"company_operator", "person"}),
            "permissions": frozenset({"finance", "owner"}), "audience": None}
    base.update(changes)
    return domain.Entry(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("e", "who", "reason"),
    [
        (entry(), {"identity_kind": "company_operator", "identity_role": "finance"}, None),
        (entry(), {"identity_kind": "person", "identity_role": ""}, None),  # roles bind organisations only
        (entry(), {"identity_kind": "company_operator", "identity_role": "clerk"}, "role"),
        (entry(permissions=frozenset()), {"identity_kind": "company_operator", "identity_role": "clerk"},
         None),
        (entry(), {"identity_kind": "merchant", "identity_role": ""}, "identity-kind"),
        (entry(enabled=False), {"identity_kind": "person", "identity_role": ""}, "switched-off"),
        (entry(starts_at=T0 + timedelta(hours=1)), {"identity_kind": "person", "identity_role": ""},
         "outside-window"),
        (entry(), {"identity_kind": "person", "identity_role": "", "channel": "partner"}, "channel"),
        (entry(audience=leaf("age", "gte", 60)), {"identity_kind": "person", "identity_role": ""},
         "audience"),
    ],
)
def test_visibility_checks_in_order(e, who, reason) -> None:  # type: ignore[no-untyped-def]
    args = {"channel": who.pop("channel", "app"), **who, "attributes": {}, "now": T0}
    assert domain.hidden_because(e, **args) == reason
    assert domain.visible(e, **args) is (reason is None)


def test_maker_checker() -> None:
    domain.check_checker("stf_a", "stf_b")
    with pytest.raises(SelfApproval):
        domain.check_checker("stf_a", "stf_a")
    domain.check_base(3, 3)
    with pytest.raises(StaleProposal) as caught:
        domain.check_base(2, 3)
    assert caught.value.extra == {"base_version": 2, "current_version": 3}
