"""KYC: validators (GB 11643 check character, +86 mobiles, e-mail, names, addresses), sealing on the
customer, the masked profile and the owner's reveal."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from atrium.identity import kyc, service
from atrium.identity.kyc import InvalidKyc

SAMPLE_ID = "11010519491231002X"  # the sample number printed in GB 11643-1999 itself


def make_id(region: str = "110105", born: str = "19900307", seq: str = "123") -> str:
    first17 = region + born + seq
    return first17 + kyc.id_check_character(first17)


def reason(fn, raw: str) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidKyc) as info:
        fn(raw)
    return info.value.reason


# --- resident ID numbers --------------------------------------------------------------------------------


def test_the_standards_sample_number_is_valid():
    assert kyc.id_check_character(SAMPLE_ID[:17]) == "X"
    assert kyc.validate_id_number(SAMPLE_ID.lower()) == SAMPLE_ID
    assert kyc.validate_id_number(" 1101 0519 4912 3100 2x ") == SAMPLE_ID


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("11010519491231002", "format"),  # 17 characters
        ("110105194912310021X", "format"),  # 19
        ("1101051949123100X2", "format"),  # X only as the check character
        ("99010519491231002X", "region"),
        ("110105194902300028", "birth-date"),  # 30 February
        ("110105189912310025", "birth-date"),  # before 1900
        ("110105194912310021", "checksum"),
    ],
)
def test_bad_id_numbers_say_why(raw, why):
    if why == "birth-date" and raw[6:10] == "1899":
        raw = raw[:17] + kyc.id_check_character(raw[:17])
    assert reason(kyc.validate_id_number, raw) == why


def test_a_birth_date_in_the_future_is_refused():
    number = make_id(born="20300101")
    assert reason(lambda r: kyc.validate_id_number(r, today=date(2026, 1, 1)), number) == "birth-date"
    assert kyc.validate_id_number(number, today=date(2031, 1, 1)) == number


_regions = st.sampled_from(sorted(kyc.PROVINCES)).flatmap(
    lambda p: st.from_regex(r"[0-9]{4}", fullmatch=True).map(lambda rest: p + rest)
)
_births = st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)).map(
    lambda d: d.strftime("%Y%m%d")
)
_seqs = st.from_regex(r"[0-9]{3}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(region=_regions, born=_births, seq=_seqs)
def test_every_number_with_its_check_character_is_valid(region, born, seq):
    number = make_id(region, born, seq)
    assert kyc.validate_id_number(number) == number
    assert kyc.birth_date_of(number).strftime("%Y%m%d") == born


@settings(max_examples=300, deadline=None)
@given(region=_regions, born=_births, seq=_seqs, wrong=st.sampled_from("0123456789X"))
def test_any_other_check_character_is_refused(region, born, seq, wrong):
    number = make_id(region, born, seq)
    if wrong == number[-1]:
        return
    assert reason(kyc.validate_id_number, number[:17] + wrong) == "checksum"


@settings(max_examples=200, deadline=None)
@given(region=_regions, born=_births, seq=_seqs, position=st.integers(0, 16), delta=st.integers(1, 9))
def test_a_single_wrong_digit_is_always_caught(region, born, seq, position, delta):
    """MOD 11-2 detects every single-digit error: the weights are all non-zero mod 11."""
    number = make_id(region, born, seq)
    digit = (int(number[position]) + delta) % 10
    typo = number[:position] + str(digit) + number[position + 1:]
    with pytest.raises(InvalidKyc):
        kyc.validate_id_number(typo)


# --- phones ------------------------------------------------------------------------------------------------

_mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


def _format(national: str, prefix: str, sep: str) -> str:
    grouped = sep.join((national[:3], national[3:7], national[7:]))
    return prefix + grouped


@settings(max_examples=300, deadline=None)
@given(
    national=_mobiles,
    prefix=st.sampled_from(["", "+86", "+86 ", "0086", "0086 ", "86", "(+86) "]),
    sep=st.sampled_from(["", " ", "-", "  ", "."]),
)
def test_any_common_format_of_a_mobile_normalises_to_e164(national, prefix, sep):
    raw = _format(national, prefix, sep)
    assert kyc.normalise_phone(raw) == "+86" + national


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_normalising_is_total_and_idempotent(raw):
    try:
        phone = kyc.normalise_phone(raw)
    except InvalidKyc as exc:
        assert exc.field == "phone" and str(exc) == "phone: format"  # the refused value is not in it
        return
    assert phone.startswith("+861") and len(phone) == 14 and phone[3:].isdigit()
    assert kyc.normalise_phone(phone) == phone


def test_full_width_digits_from_chinese_keyboards_are_accepted():
    assert kyc.normalise_phone("１３８ １２３４ ５６７８") == "+8613812345678"


@pytest.mark.parametrize(
    "raw",
    ["12812345678", "1381234567", "138123456789", "+85291234567", "010-12345678", "+44 7700 900123", ""],
)
def test_landlines_foreign_and_malformed_numbers_are_refused(raw):
    assert reason(kyc.normalise_phone, raw) == "format"


# --- e-mail, name, address ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Mei.Wang@Example.COM", "Mei.Wang@example.com"), (" li+bank@mail.qq.com ", "li+bank@mail.qq.com")],
)
def test_emails_are_trimmed_and_the_domain_lower_cased(raw, expected):
    assert kyc.validate_email(raw) == expected


@pytest.mark.parametrize(
    "raw", ["mei", "mei@", "@example.com", "mei@example", "mei..wang@example.com", "mei@-example.com",
            "mei@example.c0m", "a b@example.com", "x" * 65 + "@example.com"],
)
def test_bad_emails_are_refused(raw):
    assert reason(kyc.validate_email, raw) == "format"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("王美", "王美"), (" 王 美 ", "王美"), ("阿依古丽•买买提", "阿依古丽·买买提"),
     ("Zhang  San", "Zhang San"), ("Anne-Marie O'Neil", "Anne-Marie O'Neil"), ("José Núñez", "José Núñez")],
)
def test_names_are_normalised(raw, expected):
    assert kyc.validate_legal_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "why"),
    [("王", "length"), ("王美1", "characters"), ("王美abc", "characters"), ("J0hn", "characters"),
     ("-Ann", "characters"), ("Иван Петров", "characters"), ("", "characters")],
)
def test_bad_names_say_why(raw, why):
    assert reason(kyc.validate_legal_name, raw) == why


def test_addresses_need_some_length_and_no_control_characters():
    assert kyc.validate_address(" 上海市浦东新区  世纪大道100号 ") == "上海市浦东新区 世纪大道100号"
    assert reason(kyc.validate_address, "上海") == "length"
    assert reason(kyc.validate_address, "上海市浦东\u200b新区") == "characters"


def test_validate_reports_every_bad_field_at_once():
    data, errors = kyc.validate(legal_name="王", id_number="123", email="nope", address="上海市浦东新区")
    assert data is None
    assert errors == {"legal_name": "length", "id_number": "format", "email": "format"}


def test_kyc_data_does_not_print_its_contents():
    data, _ = kyc.validate(legal_name="王美", id_number=SAMPLE_ID, email="mei@example.com",
                           address="上海市浦东新区世纪大道100号")
    assert data is not None
    assert "王美" not in repr(data) and SAMPLE_ID not in repr(data) and "王美" not in str(data)


# --- sealed on the customer ---------------------------------------------------------------------------------


def _customer_with_kyc(db) -> str:  # type: ignore[no-untyped-def]
    data, _ = kyc.validate(legal_name="王美", id_number=SAMPLE_ID, email="Mei@Example.com",
                           address="上海市浦东新区世纪大道100号")
    assert data is not None
    with db.unit_of_work() as s:
        customer = service.create_customer(s, username="mei", password="pw", display_name="Mei",
                                           phone="+8613812345678")
        kyc.write(customer, data)
        return customer.id


def test_kyc_is_stored_sealed_and_shown_masked(db):
    customer_id = _customer_with_kyc(db)
    with db.engine.connect() as conn:
        query = text("SELECT * FROM customers WHERE id = :id")
        row = conn.execute(query, {"id": customer_id}).mappings().one()
    stored = " ".join(str(v) for v in row.values())
    for clear in ("王美", SAMPLE_ID, "Mei@example.com", "世纪大道", "13812345678"):
        assert clear not in stored
    with db.read_session() as s:
        profile = kyc.profile(s, customer_id)
    assert profile.legal_name == "王*"
    assert profile.id_number == "110***********002X"
    assert profile.phone == "138****5678"
    assert profile.email == "M***@example.com"
    assert profile.address is not None and "100号" not in profile.address
    assert "王美" not in profile.model_dump_json()


def test_the_owner_can_reveal_each_field(db):
    customer_id = _customer_with_kyc(db)
    with db.read_session() as s:
        assert kyc.reveal(s, customer_id, "id_number") == SAMPLE_ID
        assert kyc.reveal(s, customer_id, "legal_name") == "王美"
        assert kyc.reveal(s, customer_id, "phone") == "+8613812345678"
        assert kyc.reveal(s, customer_id, "email") == "Mei@example.com"


def test_reveal_refuses_unknown_fields_and_missing_values(db):
    with db.unit_of_work() as s:
        bare = service.create_customer(s, username="bare", password="pw", display_name="Bare").id
    with db.read_session() as s:
        with pytest.raises(kyc.KycNotOnFile):
            kyc.reveal(s, bare, "id_number")
        with pytest.raises(kyc.ValidationFailed):
            kyc.reveal(s, bare, "password_hash")
        assert kyc.profile(s, bare).id_number is None


def test_a_value_sealed_for_one_field_does_not_open_as_another(db):
    customer_id = _customer_with_kyc(db)
    with db.unit_of_work() as s:
        customer = service.get_customer(s, customer_id)
        assert customer is not None
        customer.email_enc = customer.id_number_enc  # moved across columns by someone with table access
    with db.read_session() as s, pytest.raises(Exception, match="does not open"):
        kyc.reveal(s, customer_id, "email")
