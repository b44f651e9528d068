"""Reason codes: readable by a customer (plain, non-revealing) and by an analyst (precise), in zh and en."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atrium.risk.domain.events import CHANNELS
from atrium.risk.domain.lists import LIST_KINDS, SUBJECT_KINDS
from atrium.risk.domain.reasons import (
    CUSTOMER,
    GENERIC,
    InvalidReason,
    Reason,
    analyst_text,
    behaviour_of,
    customer_text,
    feature_text,
    is_known,
    normalise_locale,
    text,
)

pytestmark = pytest.mark.database_independent

ALL_CODES = sorted(
    set(CUSTOMER) | {f"list.{kind}.{subject}" for kind in LIST_KINDS for subject in SUBJECT_KINDS}
    | {"rule.big_amount"}
)
RULE_PARAMS = {"rule": "big_amount", "version": 3, "action": "review", "weight": 0.3}


@pytest.mark.parametrize("code", ALL_CODES)
@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_code_reads_in_both_languages_for_both_audiences(code: str, locale: str) -> None:
    extra = {"rule": "k"} if code.startswith("behaviour.") else {}
    reason = Reason(code, {"entry": "rsk_01HZX", "score": 0.91, **extra})
    for channel in (None, *CHANNELS):
        words = customer_text(reason, locale, channel=channel)
        assert words and "{" not in words
        assert ("rsk_01HZX" not in words) and ("0.91" not in words)  # nothing precise for the customer
        assert bool(re.search(r"[\u4e00-\u9fff]", words)) is (locale == "zh")
    assert analyst_text(reason, locale)
    assert is_known(code)


def test_the_customer_text_names_what_they_are_doing() -> None:
    reason = Reason("behaviour.unusual_amount")
    assert customer_text(reason, "zh", channel="transfer") == "这笔转账与您平时的习惯不同。"
    assert customer_text(reason, "en", channel="transfer") == "This transfer is unlike your usual ones."
    assert customer_text(Reason("list.block.device"), "en", channel="login") == (
        "For your security, this sign-in can't be completed. Please contact us with any questions."
    )
    blocked = customer_text(Reason("list.block.device"), "zh", channel="login")
    assert blocked.startswith("为保护您的账户安全，这次登录")


def test_analyst_texts_are_precise() -> None:
    assert analyst_text(Reason("model.high_score", {"score": 0.91, "feature": "customer_amount_ratio_30d",
                                                    "value": 6.2}), "en") == (
        "Model score 0.91; top factor: amount 6.2× the customer's 30-day mean"
    )
    assert analyst_text(Reason("rule.big_amount", RULE_PARAMS), "en") == (
        "Rule big_amount v3 (review, weight +0.30) fired"
    )
    assert analyst_text(Reason("behaviour.new_payee", RULE_PARAMS), "en") == (
        "First payment to this payee — rule big_amount v3 (review, weight +0.30)"
    )
    assert analyst_text(Reason("behaviour.new_payee", RULE_PARAMS), "zh") == (
        "首次向该收款方付款 — 规则 big_amount v3 (人工审核, 权重 +0.30)"
    )
    assert analyst_text(Reason("list.block.pair", {"entry": "rsk_9"}), "en") == (
        "Block list hit: payer–payee pair (entry rsk_9)"
    )
    assert analyst_text(Reason("score.threshold", {"score": 0.72, "threshold": 0.6, "outcome": "review",
                                                   "model": 0.52, "rules": 0.2, "watch": 0.0}), "en") == (
        "Combined score 0.72 reached the review threshold 0.60 (model 0.52, rules +0.20, watch +0.00)"
    )
    assert analyst_text(Reason("risk.unavailable", {"policy": "allow", "cause": "error"}), "zh") == (
        "风控引擎不可用（引擎错误），按渠道策略处理：放行"
    )


@pytest.mark.parametrize(
    ("feature", "value", "en", "zh"),
    [
        ("customer_amount_ratio_30d", 6.2, "amount 6.2× the customer's 30-day mean",
         "金额为该客户30天均值的 6.2 倍"),
        ("card_count_1h", 7.0, "7 transactions of the card in 1 hour", "该银行卡1小时内 7 笔交易"),
        ("terminal_fraud_share_7d", 0.25, "25.0% of the terminal's 7-day transactions were fraud",
         "该终端7天欺诈占比 25.0%"),
        ("customer_amount_sum_1d", 1234.5, "the customer's 1-day total 1,234.50", "该客户1天总额 1,234.50"),
        ("payee_new_for_customer", 1.0, "new payee for the customer", "客户首次使用该收款方"),
        ("device_new_for_customer", 0.0, "known device for the customer", "客户已用过该设备"),
        ("amount", 500.0, "amount 500.00", "金额 500.00"),
        ("geo_speed_kmh", 1500.0, "travel speed 1,500 km/h since the previous event",
         "与上笔交易间的移动速度 1,500 km/h"),
        ("is_night", 1.0, "night-time", "夜间交易"),
        ("something_else", 0.123456, "something_else = 0.1235", "something_else = 0.1235"),
    ],
)
def test_features_are_described_in_words(feature: str, value: float, en: str, zh: str) -> None:
    assert feature_text(feature, value, "en") == en
    assert feature_text(feature, value, "zh") == zh


@pytest.mark.parametrize(
    ("feature", "behaviour"),
    [("payee_new_for_customer", "behaviour.new_payee"), ("device_new_for_customer", "behaviour.new_device"),
     ("terminal_fraud_share_7d", "behaviour.risky_merchant"), ("geo_speed_kmh", "behaviour.unusual_location"),
     ("hour_of_day", "behaviour.unusual_time"), ("customer_count_1h", "behaviour.velocity"),
     ("customer_amount_ratio_30d", "behaviour.unusual_amount")],
)
def test_a_model_reason_speaks_to_its_top_factor_for_the_customer(feature: str, behaviour: str) -> None:
    assert behaviour_of(feature) == behaviour
    reason = Reason("model.high_score", {"score": 0.9, "feature": feature})
    assert customer_text(reason, "en") == customer_text(Reason(behaviour), "en")


def test_unknown_codes_fall_back_to_their_family_then_to_a_generic_text() -> None:
    assert customer_text(Reason("rule.brand_new"), "en") == (
        "This payment triggered one of our security checks."
    )
    assert customer_text(Reason("made.up"), "en", channel="qr") == GENERIC["en"].replace("{thing}", "payment")
    assert analyst_text(Reason("made.up"), "en") == "Reason made.up"
    assert not is_known("made.up") and is_known("rule.anything") and is_known("list.watch.ip")


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"name": "Zhang San"}, "not personal data"),
        ({"card": "6222021234567890123"}, "not personal data"),
        ({"phone": "+8613800138000"}, "not personal data"),
        ({"email": "a@b.cn"}, "not personal data"),
        ({"nested": {"a": 1}}, "a number, a flag or an identifier"),
        ({"Bad-Key": 1}, "not an identifier"),
        ({f"k{i}": i for i in range(13)}, "at most 12"),
    ],
)
def test_reasons_refuse_free_text_and_personal_data_in_params(params: dict[str, object],
                                                               fragment: str) -> None:
    with pytest.raises(InvalidReason) as caught:
        Reason("rule.x", params)  # type: ignore[arg-type]
    assert fragment in caught.value.detail


@pytest.mark.parametrize("code", ["", "Rule.X", "rule x", "rule..x", "rule.", "x" * 101])
def test_reason_codes_are_dotted_lower_case_words(code: str) -> None:
    with pytest.raises(InvalidReason):
        Reason(code)


def test_reasons_round_trip_through_json_shapes() -> None:
    reason = Reason("list.watch.ip", {"entry": "rsk_1", "weight": 0.15})
    assert Reason.from_dict(reason.to_dict()) == reason
    assert reason.family == "list"
    assert text("list.watch.ip", "en", {"entry": "rsk_1"}, audience="analyst") == (
        "Watch list hit: IP address (entry rsk_1)"
    )
    assert text("list.watch.ip", "zh") == "我们正在对这笔交易进行额外的安全检查。"


def test_locales_are_normalised() -> None:
    assert [normalise_locale(x) for x in ("zh", "zh-CN", "zh_Hans", None, "en", "en-GB", "fr")] == [
        "zh", "zh", "zh", "zh", "en", "en", "en",
    ]


param_values = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-10**6, 10**6),
                         st.from_regex(r"[a-z][a-z0-9_]{2,10}", fullmatch=True))


@settings(max_examples=200)
@given(code=st.sampled_from(ALL_CODES), params=st.dictionaries(
    st.sampled_from(["score", "entry", "feature", "value", "rule", "version", "weight", "threshold"]),
    param_values, max_size=6), locale=st.sampled_from(["zh", "en"]))
def test_customer_texts_never_depend_on_params(code: str, params: dict[str, object], locale: str) -> None:
    assert customer_text(Reason(code, params), locale) == customer_text(
        Reason(code, {k: v for k, v in params.items() if k == "feature"}), locale
    )
    assert analyst_text(Reason(code, params), locale)  # and the analyst text always renders


def test_an_atrium_id_whose_time_part_is_nine_digits_is_an_identifier_not_a_number() -> None:
    # A list entry made at the wrong millisecond once made every block-list decision fall back.
    assert Reason("list.block.payee", {"entry": "rlst_01M950328546J0ME9PGB76GADG"}).params["entry"]
    with pytest.raises(InvalidReason):
        Reason("list.block.payee", {"entry": "6222020200112233445"})
    with pytest.raises(InvalidReason):
        Reason("list.block.payee", {"entry": "x_6222020200112233445"})
