"""The rule language: what it accepts, what it rejects (and how clearly), and how it evaluates."""

from __future__ import annotations

import math

import pytest

from atrium.risk.domain.events import RiskEvent
from atrium.risk.domain.rules import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_NODES,
    RuleEvaluationError,
    RuleNotApplicable,
    RuleSyntaxError,
    compile_rule,
    default_vocabulary,
    event_fields,
    make_vocabulary,
)

pytestmark = pytest.mark.database_independent

VOCAB = make_vocabulary(
    numbers=["customer_amount_mean_30d", "payee_new_for_customer", "customer_count_1h", "ratio"],
    strings=["country"],
)
ENV = {
    "amount": 500.0, "hour_of_day": 3.0, "channel": "transfer", "currency": "CNY",
    "customer_amount_mean_30d": 50.0, "payee_new_for_customer": 1.0, "customer_count_1h": 2.0,
    "ratio": 0.0, "country": "CN",
}

# (expression, a fragment the message must contain, the position it must point at or None)
BAD = [
    ("__import__('os')", "'__import__' is not allowed", 0),
    ("__import__('os').system('id')", "'__import__' is not allowed", 0),
    ("amount.real", "attribute access ('.') is not allowed at 6", 6),
    ("a.b", "attribute access", 1),
    ("amount[0]", "subscripts ('[' after a value) are not allowed at 6", 6),
    ("x[0]", "subscripts", 1),
    ('open("f")', "calls are limited to min, max, abs, log1p", 0),
    ("eval('1')", "calls are limited to min, max, abs, log1p", 0),
    ("(amount)(1)", "calls are limited to min, max, abs, log1p", 8),
    ("1 +", "unexpected end of expression at 3", 3),
    ("(amount > 1", "expected ')' at 11", 11),
    ("amount > 1)", "unbalanced ')' at 10", 10),
    ("(" * 40 + "1" + ")" * 40, f"nested too deeply (more than {MAX_DEPTH} levels)", None),
    ("-" * 40 + "1", "nested too deeply", None),
    ("not " * 40 + "true", "nested too deeply", None),
    ("amount > " + "1" * 1999, f"expression too long: 2,008 characters (limit {MAX_LENGTH:,})", MAX_LENGTH),
    (" + ".join(["amount"] * 120), f"expression too large: more than {MAX_NODES} parts", None),
    ("amout > 1", "unknown feature 'amout' at 0 — did you mean 'amount'?", 0),
    ("zzz > 1", "unknown feature 'zzz' at 0", 0),
    ("lambda: 1", "'lambda' at 0 is not part of the rule language", 0),
    ("1 if amount else 0", "'if' at 2 is not part of the rule language", 2),
    ("import os", "'import' at 0 is not part of the rule language", 0),
    ('channel == "transfer', "unterminated string starting at 11", 11),
    ("amount > 1; amount < 2", "';' is not allowed", 10),
    ("amount = 1", "'=' is assignment; use '==' to compare", 7),
    ("amount ** 2 > 1", "'**' is not supported", 7),
    ("amount > 1 && ratio", "'&&' is not supported; use 'and'", 11),
    ("!payee_new_for_customer", "use 'not'", 0),
    ("amount > True", "'True' at 9 is written 'true' here", 9),
    ("channel > 1", "cannot compare a string with a number at 8", 8),
    ("channel < 'x'", "strings can only be compared with '==' and '!='", 8),
    ("channel + 1 > 2", "'+' needs numbers, but got a string at 0", 0),
    ("channel and amount > 1", "'and' needs conditions (or numbers), but got a string at 0", 0),
    ("not channel", "'not' needs conditions", 4),
    ("channel", "a rule must be a condition (true or false) or a number, not a string", 0),
    ("amount in ['a', 'b']", "looks for a number in a list of strings", 7),
    ("channel in [1, 2]", "looks for a string in a list of numbers", 8),
    ("amount in [1, 'a']", "mixes strings and numbers", 10),
    ("amount in [ratio]", "list items must be literal numbers, strings or true/false", 11),
    ("amount in ratio", "'in' needs a list like [1, 2] on its right", 10),
    ("[1, 2] == amount", "a list at 0 can only follow 'in' or 'not in'", 0),
    ("amount < 1 < 2", "chained comparison at 11 is not supported", 11),
    ("amount > 1 / 0", "division by zero at 11", 11),
    ("abs(1, 2) > 0", "abs() at 0 takes exactly 1 argument, got 2", 0),
    ("max(amount) > 0", "max() at 0 takes 2 to 8 arguments, got 1", 0),
    ("log1p(-1) > 0", "log1p() at 0 is undefined", 0),
    ("min('a', 1) > 0", "min() needs numbers, but got a string at 4", 4),
    ("amount > 1e999", "is too large", 9),
    ("amount > 3x", "malformed number '3x' at 9", 9),
    ("amount > 1.2.3", "malformed number", 9),
    ("amount not ratio", "expected 'in' after 'not' at 11", 11),
    ("amount > +1", "unary '+' at 9 is not supported", 9),
    ("", "the expression is empty", 0),
    ("   ", "the expression is empty", 0),
    ("amount > 1 ratio", "unexpected the name 'ratio' at 11", 11),
    ("'\\x41' == channel", "unknown escape '\\x' at 1", 1),
    ("amount > ¥", "unexpected character '¥' at 9", 9),
    ("amount > 1 # comment", "comments ('#') are not allowed", 11),
    ("{1: 2}", "'{' is not supported", 0),
    ("amount if", "'if' at 7 is not part of the rule language", 7),
    ("amount > 1 and", "unexpected end of expression at 14", 14),
    ("max(1, amount", "expected ',' or ')' at 13", 13),
]


@pytest.mark.parametrize(("expression", "fragment", "position"), BAD, ids=[b[0][:40] for b in BAD])
def test_bad_expressions_are_rejected_with_a_clear_message(expression: str, fragment: str,
                                                            position: int | None) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        compile_rule(expression, VOCAB)
    assert fragment in caught.value.message
    assert caught.value.detail == caught.value.message  # what the problem response shows
    assert caught.value.extra == {"position": caught.value.position}
    if position is not None:
        assert caught.value.position == position
    assert 0 <= caught.value.position <= len(expression)


def test_a_syntax_error_is_a_422_problem() -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        compile_rule("amount >", VOCAB)
    assert caught.value.status == 422


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("amount > 3 * customer_amount_mean_30d and payee_new_for_customer and hour_of_day in [0, 1, 2, 3]",
         True),
        ("amount > 3 * customer_amount_mean_30d and not payee_new_for_customer", False),
        ("customer_count_1h >= 5 or amount >= 500", True),
        ("channel == 'transfer' and currency != \"USD\"", True),
        ("channel in ['card', 'qr']", False),
        ("channel not in ['card', 'qr']", True),
        ("hour_of_day not in [0, 1, 2]", True),
        ("-amount < -499.5", True),
        ("amount - 100 * 5 == 0", True),
        ("(amount + 100) / 2 == 300", True),
        ("abs(-amount) == amount and min(amount, 1, 2) == 1 and max(1, amount) == amount", True),
        ("log1p(ratio) == 0", True),
        ("payee_new_for_customer == true", True),
        ("payee_new_for_customer", True),  # a number is a condition: true when non-zero
        ("ratio", False),
        ("amount * 0", False),
        ("true", True),
        ("not false and 1 < 2", True),
        ("amount > 1e2 and amount < 1.5E3 and .5 < 1", True),
        ("country == 'C\\'N' or country == \"CN\"", True),
        ("amount in []", False),
        ("amount in [-500, 500,]", True),
    ],
)
def test_valid_expressions_evaluate(expression: str, expected: bool) -> None:
    assert compile_rule(expression, VOCAB).test(ENV) is expected


def test_names_read_are_reported() -> None:
    rule = compile_rule("amount > 2 * customer_amount_mean_30d or channel == 'qr'", VOCAB)
    assert rule.names == {"amount", "customer_amount_mean_30d", "channel"}


def test_and_or_yield_booleans_and_short_circuit() -> None:
    rule = compile_rule("ratio or amount / ratio > 1", VOCAB)  # ratio is 0: the division runs
    with pytest.raises(ZeroDivisionError):
        rule.evaluate(ENV)
    assert compile_rule("ratio and amount / ratio > 1", VOCAB).evaluate(ENV) is False  # it does not
    assert compile_rule("amount or ratio", VOCAB).evaluate(ENV) is True


def test_run_time_problems_raise_out_of_evaluate_with_a_description() -> None:
    missing = compile_rule("customer_count_1h > 1", VOCAB)
    with pytest.raises(RuleEvaluationError) as caught:
        missing.evaluate({})
    assert missing.describe_error(caught.value) == "missing value for 'customer_count_1h'"
    with pytest.raises(RuleEvaluationError, match="should be a number, not str"):
        missing.evaluate({"customer_count_1h": "3"})
    with pytest.raises(RuleEvaluationError, match="should be a string, not float"):
        compile_rule("channel == 'x'", VOCAB).evaluate({"channel": 1.0})
    with pytest.raises(RuleNotApplicable):
        missing.evaluate({"customer_count_1h": math.nan})
    log = compile_rule("log1p(amount) > 0", VOCAB)
    with pytest.raises(ValueError) as domain:
        log.evaluate({"amount": -2.0})
    assert log.describe_error(domain.value) == "log1p of a number at or below -1"


def test_integers_and_numpy_like_numbers_are_numbers() -> None:
    rule = compile_rule("customer_count_1h > 1", VOCAB)
    assert rule.test({"customer_count_1h": 2}) is True
    assert rule.test({"customer_count_1h": True}) is False


def test_constant_rules_are_folded() -> None:
    rule = compile_rule("1 + 2 * 3 == 7 and not (4 / 2 > 3)", VOCAB)
    assert rule.names == frozenset()
    assert rule.test({}) is True


def test_the_default_vocabulary_is_the_engines_features_and_the_event_fields() -> None:
    vocabulary = default_vocabulary()
    assert vocabulary["channel"] == "string" and vocabulary["amount"] == "number"
    compile_rule("customer_amount_ratio_30d > 3 and payee_new_for_customer and hour_of_day < 6")


def test_event_fields_give_amount_in_major_units() -> None:
    event = RiskEvent("e1", at=3 * 3600 + 5.0, channel="qr", amount_minor=12345, currency="JPY")
    assert event_fields(event) == {"amount": 12345.0, "hour_of_day": 3.0, "channel": "qr", "currency": "JPY"}
    cny = RiskEvent("e2", at=0.0, channel="transfer", amount_minor=12345)
    assert event_fields(cny)["amount"] == 123.45


def test_limits_are_exactly_at_the_boundary() -> None:
    deep = "(" * MAX_DEPTH + "amount > 1" + ")" * MAX_DEPTH
    assert compile_rule(deep, VOCAB).test(ENV)
    long = "amount > 1" + " " * (MAX_LENGTH - len("amount > 1"))
    assert len(long) == MAX_LENGTH and compile_rule(long, VOCAB).test(ENV)
