"""The check's pure rules: extraction and normal forms, look-alike domains, numbers, codes, wording."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atrium.antiphishing import domain
from atrium.antiphishing.defaults import BRAND_NAMES, DEFAULT_CHANNELS
from atrium.antiphishing.domain import Registered, Registry, SentRecord, analyse, normalise_channel
from atrium.antiphishing.extract import extract, normalise_host
from atrium.antiphishing.lookalike import CONFUSABLES, edit_distance, registrable, skeleton
from atrium.antiphishing.reasons import MESSAGES, message

REGISTRY = Registry(
    tuple(
        Registered(c.kind, normalise_channel(c.kind, c.value), c.label, c.include_subdomains)
        for c in DEFAULT_CHANNELS
    ),
    BRAND_NAMES,
)
SENT_AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def verdict(text: str, sent: dict[str, SentRecord | None] | None = None) -> domain.Analysis:
    return analyse(text, REGISTRY, sent or {})


def reasons_of(result: domain.Analysis) -> set[str]:
    return {r.id for f in result.findings for r in f.reasons} | {r.id for r in result.reasons}


# --- genuine --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "https://atrium.bank/login",
        "HTTPS://WWW.Atrium.Bank./cards?x=1",
        "m.atrium.bank",
        "请访问atrium.bank领取",
        "https://atrium.bank:8443/app",
        "ａｔｒｉｕｍ．ｂａｎｋ",  # full-width
        "atr\u200bium.bank",  # a zero-width space inside
        "客服4008202026",
        "+86 400 820 2026",
        "400-820-2026",
        "1069 2026 2026",
        "service@atrium.bank",
    ],
)
def test_the_banks_own_channels_are_genuine(text: str) -> None:
    result = verdict(text)
    assert result.verdict == "genuine", result
    assert all(f.label for f in result.findings)


# --- suspicious, each with its reason -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("http://atrium.bank@evil.com/login", "userinfo_disguise"),
        ("аtrium.bank", "confusable_characters"),  # Cyrillic а
        ("https://xn--trium-3ve.bank/login", "confusable_characters"),  # the same in punycode
        ("atriurn.bank", "confusable_characters"),  # r + n for m
        ("https://atr1um.bank", "lookalike_domain"),
        ("artium.bank/login", "lookalike_domain"),
        ("https://atrium.bamk", "lookalike_domain"),
        ("atrlum-secure.com", "lookalike_domain"),
        ("atrium-bank.com/verify", "brand_in_domain"),
        ("https://atrium.com", "brand_in_domain"),
        ("atrium.bank.evil.com/login", "brand_in_subdomain"),
        ("https://secure-atrium.login-check.top/", "brand_in_subdomain"),
        ("https://bit.ly/3xYz", "url_shortener"),
        ("点击 t.cn/A6x 领取", "url_shortener"),
        ("atrium.support@gmail.com", "brand_in_email_name"),
        ("【中庭银行】您的账户异常，请致电 021-6020-1234", "unregistered_number_claims_bank"),
        ("Atrium Bank: call +44 20 7946 0000 now", "unregistered_number_claims_bank"),
        ("http://203.0.113.9/login Atrium", "ip_address_link"),
        ("【中庭银行】请把验证码发给客服", "asks_for_secret"),
        ("请提供您的短信验证码以完成解冻", "asks_for_secret"),
        ("Please send us your OTP to unlock your account.", "asks_for_secret"),
        ("K7Q2-9M4X", "code_not_issued"),
    ],
)
def test_imitations_are_suspicious_with_a_reason(text: str, reason: str) -> None:
    result = verdict(text)
    assert result.verdict == "suspicious", result
    assert reason in reasons_of(result), reasons_of(result)


# --- unknown, not over-claimed --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "example.com",
        "https://www.stadium.com/tickets",
        "call 138 1234 5678",
        "金额 ¥6,000.00 日期 2024-05-01 10:30",
        "验证码123456，切勿向任何人提供验证码。",
        "Never share your password with anyone.",
        "e.g. node.js report.pdf v1.2.3",
        "hello",
        "",
    ],
)
def test_what_does_not_imitate_the_bank_is_unknown(text: str) -> None:
    assert verdict(text).verdict == "unknown"


def test_the_most_specific_registered_entry_names_an_address() -> None:
    assert verdict("m.atrium.bank").findings[0].label == "手机银行 · Mobile banking"
    assert verdict("www.atrium.bank").findings[0].label == "中庭银行官网 · Atrium Bank website"


def test_a_warning_not_to_share_a_code_is_not_a_request_for_one() -> None:
    assert domain.asks_for_secrets("请勿将验证码告诉任何人，本行不会索要") == []
    assert domain.asks_for_secrets("We will never ask you to send us your password.") == []
    assert [r.id for r in domain.asks_for_secrets("请告诉我您的验证码")] == ["asks_for_secret"]


def test_an_unknown_number_is_suspicious_only_when_the_text_claims_to_be_the_bank() -> None:
    alone = verdict("021-6020-1234")
    claimed = verdict("中庭银行客服 021-6020-1234")
    assert alone.verdict == "unknown" and claimed.verdict == "suspicious"
    assert alone.findings[0].value == claimed.findings[0].value == "02160201234"


# --- extraction and normal forms ------------------------------------------------------------------


def test_hosts_are_normalised() -> None:
    assert normalise_host("WWW.Atrium.Bank.") == ("www.atrium.bank", "www.atrium.bank")
    assert normalise_host("xn--trium-3ve.bank") == ("xn--trium-3ve.bank", "аtrium.bank")
    assert normalise_host("a..b") is None
    found = extract("http://user:pw@Atrium.Bank:8080/path, then 1069-2026-2026.")
    assert [(link.host, link.userinfo) for link in found.links] == [("atrium.bank", "user:pw")]
    assert [p.value for p in found.phones] == ["106920262026"]


@pytest.mark.parametrize(
    ("written", "value", "kind"),
    [
        ("138 1234 5678", "13812345678", "mobile"),
        ("+86 138-1234-5678", "13812345678", "mobile"),
        ("008613812345678", "13812345678", "mobile"),
        ("(021) 6020 1234", "02160201234", "landline"),
        ("+86 21 6020 1234", "02160201234", "landline"),
        ("010-88888888", "01088888888", "landline"),
        ("400 820 2026", "4008202026", "service"),
        ("95588", "95588", "hotline"),
        ("+1 415 555 0100", "+14155550100", "international"),
    ],
)
def test_phone_numbers_in_every_usual_notation(written: str, value: str, kind: str) -> None:
    phones = extract(f"请拨打 {written} 联系").phones
    assert [(p.value, p.kind) for p in phones] == [(value, kind)]


def test_numbers_written_next_to_each_other_are_told_apart() -> None:
    assert [p.value for p in extract("验证码 123456 138 1234 5678").phones] == ["13812345678"]


def test_codes_are_found_labelled_bare_or_alone() -> None:
    assert [c.value for c in extract("您好[Atrium 核验码 K7Q2-9M4X]").codes] == ["K7Q2-9M4X"]
    assert [c.value for c in extract("Hi [Atrium verification ref K7Q2-9M4X]").codes] == ["K7Q2-9M4X"]
    assert [c.value for c in extract("check code k7q2 9m4x").codes] == ["K7Q2-9M4X"]
    assert [c.value for c in extract(" k7q2-9m4x ").codes] == ["K7Q2-9M4X"]
    assert extract("2024-0501 and self-help").codes == []


def test_channels_are_stored_in_normal_form() -> None:
    assert normalise_channel("web", "https://WWW.Atrium.Bank/") == "www.atrium.bank"
    assert normalise_channel("email", "service@Atrium.Bank") == "atrium.bank"
    assert normalise_channel("phone", "+86 400-820-2026") == "4008202026"
    assert normalise_channel("sms", "1069 2026 2026") == "106920262026"
    assert normalise_channel("sms", "ATRIUM") == "atrium"
    for kind, value in [("web", "not a domain"), ("phone", "12"), ("fax", "1"), ("web", "a_b.com")]:
        with pytest.raises(domain.InvalidChannel):
            normalise_channel(kind, value)


def test_lookalike_helpers() -> None:
    assert skeleton("АТRIUM.bаnk") == "atrium.bank"
    assert edit_distance("atrium", "artium") == 1  # a swap is one edit
    assert edit_distance("atrium", "completely", cap=3) == 3
    assert registrable("a.b.example.com.cn") == "example.com.cn"


# --- verify codes and the message they vouch for --------------------------------------------------


def _record(body: str, code: str = "K7Q2-9M4X") -> dict[str, SentRecord | None]:
    return {code: SentRecord(code, body, SENT_AT, "138****5678", "sms", "security.alert")}


BODY = "您的账户于3月1日登录。如非本人操作请致电400-820-2026。[Atrium 核验码 K7Q2-9M4X]"


def test_the_text_the_bank_sent_is_genuine_whatever_the_spacing() -> None:
    result = verdict(BODY.replace("。", "。\n"), _record(BODY))
    assert result.verdict == "genuine"
    code = next(f for f in result.findings if f.kind == "code")
    assert code.text_matches is True and code.sent is not None and code.sent.recipient_masked == "138****5678"
    assert [r.id for r in result.reasons] == ["message_authentic"]


def test_an_edited_text_with_a_real_code_is_suspicious_and_says_what_was_added() -> None:
    edited = BODY.replace("400-820-2026", "021-6020-1234，或访问 atrium-help.com")
    result = verdict(edited, _record(BODY))
    assert result.verdict == "suspicious"
    assert {"code_issued", "text_differs", "text_added_number", "text_added_link"} <= reasons_of(result)
    assert next(f for f in result.findings if f.kind == "code").text_matches is False


def test_the_code_alone_is_genuine_without_vouching_for_any_text() -> None:
    result = verdict("[Atrium 核验码 K7Q2-9M4X]", _record(BODY))
    assert result.verdict == "genuine"
    assert {"code_issued", "text_not_given"} <= reasons_of(result)
    assert result.findings[0].text_matches is None


def test_a_secret_the_bank_kept_out_of_its_record_matches_any_characters_of_its_length() -> None:
    stored = "您的验证码为••••••，5分钟内有效。[Atrium 核验码 K7Q2-9M4X]"
    assert verdict(stored.replace("••••••", "482913"), _record(stored)).verdict == "genuine"
    assert verdict(stored.replace("••••••", "4829130"), _record(stored)).verdict == "suspicious"


def test_a_code_the_bank_never_issued_is_suspicious() -> None:
    result = verdict(BODY, {"K7Q2-9M4X": None})
    assert result.verdict == "suspicious" and "code_not_issued" in reasons_of(result)


# --- reasons have words ---------------------------------------------------------------------------


def test_every_reason_has_words_in_both_languages_with_the_same_placeholders() -> None:
    import re

    fields = re.compile(r"{(\w+)}")
    for rid, words in MESSAGES.items():
        assert set(words) == {"zh", "en"}, rid
        assert set(fields.findall(words["zh"])) == set(fields.findall(words["en"])), rid
    source = Path(domain.__file__ or "").read_text(encoding="utf-8")
    used = set(re.findall(r'Reason\.of\(\s*"([a-z_]+)"', source))
    used |= {"ip_address_link", "domain_not_registered"}  # chosen by a conditional expression
    assert used <= set(MESSAGES), used - set(MESSAGES)
    assert message(domain.Reason.of("url_shortener", host="bit.ly"), "en").startswith("bit.ly is a link")


# --- invariants -----------------------------------------------------------------------------------


_REGISTERED_WEB = [c.value for c in REGISTRY.channels if c.kind == "web"]
_CASINGS = st.lists(st.booleans(), min_size=40, max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    host=st.sampled_from(_REGISTERED_WEB),
    upper=_CASINGS,
    scheme=st.sampled_from(["", "http://", "https://", "HTTPS://"]),
    path=st.sampled_from(["", "/", "/login", "/a/b?c=d#e"]),
    before=st.sampled_from(["", " ", "\n", "\t ", "请访问", "Visit "]),
    after=st.sampled_from(["", " ", "\n", "。", ".", "，谢谢", " now"]),
    trailing_dot=st.booleans(),
)
def test_any_case_or_whitespace_variant_of_a_registered_address_is_genuine(
    host: str, upper: list[bool], scheme: str, path: str, before: str, after: str, trailing_dot: bool
) -> None:
    cased = "".join(c.upper() if u else c for c, u in zip(host, upper, strict=False))
    text = f"{before}{scheme}{cased}{'.' if trailing_dot and not path else ''}{path}{after}"
    result = verdict(text)
    assert result.verdict == "genuine", (text, result)


_SWAPS = [(ascii_, lookalike) for lookalike, ascii_ in CONFUSABLES.items() if len(lookalike) == 1]


@settings(max_examples=200, deadline=None)
@given(host=st.sampled_from(_REGISTERED_WEB), data=st.data(), scheme=st.sampled_from(["", "https://"]))
def test_swapping_in_a_confusable_character_is_suspicious(
    host: str, data: st.DataObject, scheme: str
) -> None:
    # In the registered name itself: a subdomain of atrium.bank ("м.atrium.bank") is the bank's whatever its
    # letters, since atrium.bank is registered with its subdomains and only the bank can create them.
    start = len(host) - len(registrable(host))
    positions = [i for i, c in enumerate(host) if i >= start and any(a == c for a, _ in _SWAPS)]
    i = data.draw(st.sampled_from(positions))
    lookalike = data.draw(st.sampled_from([lk for a, lk in _SWAPS if a == host[i]]))
    fake = host[:i] + lookalike + host[i + 1:]
    result = verdict(f"{scheme}{fake}/login")
    assert result.verdict == "suspicious", (fake, result)
    assert {"confusable_characters", "lookalike_domain", "mixed_scripts"} & reasons_of(result)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_a_verdict_and_worded_reasons(text: str) -> None:
    result = verdict(text)
    assert result.verdict in ("genuine", "suspicious", "unknown")
    for r in [*result.reasons, *(r for f in result.findings for r in f.reasons)]:
        assert message(r, "zh") and message(r, "en")
