"""Masks never show more than their rule allows, over generated values (hypothesis).

Each rule is checked as an invariance: changing what the rule hides must not change the mask — so the
mask cannot leak it, whatever the value. The masks are the staff domain's (names, usernames, sign-in
addresses) and identity's (KYC fields), which the 360 page shows."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from atrium.identity import pii
from atrium.staff.domain import mask_ip, mask_name, mask_username

HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
LATIN = st.characters(min_codepoint=ord("a"), max_codepoint=ord("z"))
DIGIT = st.sampled_from("0123456789")


@given(st.lists(HAN, min_size=1, max_size=12), st.lists(HAN, min_size=0, max_size=12))
def test_a_chinese_name_shows_its_first_character_and_its_length_only(
    name: list[str], other: list[str]
) -> None:
    masked = mask_name("".join(name))
    assert masked == name[0] + "*" * max(1, len(name) - 1)
    # Any other name with the same first character and length masks the same.
    twin = [name[0], *(other + name)[: len(name) - 1]]
    assert mask_name("".join(twin)) == masked


@given(st.lists(st.text(LATIN, min_size=1, max_size=15), min_size=1, max_size=4), st.data())
def test_a_latin_name_shows_initials_only_not_even_the_lengths(words: list[str], data: st.DataObject) -> None:
    masked = mask_name(" ".join(words))
    assert masked == " ".join(w[0] + "***" for w in words)
    others = [w[0] + data.draw(st.text(LATIN, max_size=15)) for w in words]
    assert mask_name(" ".join(others)) == masked


@given(st.text(LATIN, min_size=4, max_size=30), st.text(LATIN, min_size=2, max_size=30))
def test_a_username_shows_two_characters_at_most(username: str, tail: str) -> None:
    masked = mask_username(username)
    assert masked == username[:2] + "***"
    assert mask_username(username[:2] + tail) == masked


@given(st.ip_addresses(v=4), st.integers(0, 2**16 - 1))
def test_an_ipv4_address_shows_its_network_not_its_host(address: ipaddress.IPv4Address, host: int) -> None:
    masked = mask_ip(str(address))
    same_net = ipaddress.IPv4Address((int(address) & 0xFFFF0000) | host)
    assert mask_ip(str(same_net)) == masked
    assert masked.endswith(".*.*") and str(address) != masked


@given(st.ip_addresses(v=6), st.integers(0, 2**96 - 1))
def test_an_ipv6_address_shows_its_first_two_groups_only(address: ipaddress.IPv6Address, rest: int) -> None:
    if address.ipv4_mapped is not None:
        return  # shown as the IPv4 address it carries (the test above)
    masked = mask_ip(str(address))
    same_prefix = ipaddress.IPv6Address((int(address) >> 96 << 96) | rest)
    if same_prefix.ipv4_mapped is None:
        assert mask_ip(str(same_prefix)) == masked
    assert masked.endswith(":*")


@given(
    st.sampled_from("3456789"),
    st.lists(DIGIT, min_size=9, max_size=9),
    st.lists(DIGIT, min_size=4, max_size=4),
)
def test_a_phone_shows_its_first_three_and_last_four_digits(
    second: str, rest: list[str], middle: list[str]
) -> None:
    digits = "1" + second + "".join(rest)
    phone = "+86" + digits
    masked = pii.mask_phone(phone)
    assert masked == f"{digits[:3]}****{digits[-4:]}"
    assert pii.mask_phone("+86" + digits[:3] + "".join(middle) + digits[-4:]) == masked


@given(st.text(st.sampled_from("0123456789X"), min_size=8, max_size=18), st.data())
def test_an_id_number_shows_its_first_three_and_last_four_characters(
    number: str, data: st.DataObject
) -> None:
    masked = pii.mask_id_number(number)
    hidden = len(number) - 7
    assert masked == number[:3] + "*" * hidden + number[-4:]
    other = data.draw(st.text(st.sampled_from("0123456789X"), min_size=hidden, max_size=hidden))
    assert pii.mask_id_number(number[:3] + other + number[-4:]) == masked


@given(
    st.text(LATIN, min_size=1, max_size=20),
    st.text(LATIN, max_size=20),
    st.sampled_from(["example.com", "qq.com"]),
)
def test_an_email_shows_one_character_of_its_local_part(local: str, other: str, domain: str) -> None:
    masked = pii.mask_email(f"{local}@{domain}")
    assert masked == f"{local[0]}***@{domain}"
    assert pii.mask_email(f"{local[0]}{other}@{domain}") == masked


@given(st.text(HAN, min_size=7, max_size=60), st.text(HAN, min_size=1, max_size=60))
def test_an_address_shows_its_first_six_characters(address: str, rest: str) -> None:
    masked = pii.mask_address(address)
    assert masked == address[:6] + "…"
    assert pii.mask_address(address[:6] + rest) == masked
