"""Masking and the stated reason: pure rules, no database."""

from __future__ import annotations

import pytest

from atrium.staff.domain import DEFAULT_REASON, REASON_MAX, clean_reason, mask_name, mask_username
from atrium.staff.errors import InvalidReason


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("李四", "李*"),
        ("王小明", "王**"),
        ("欧阳娜娜", "欧***"),
        ("李", "李*"),  # a one-character name still hides that it is one character
        ("Emma Wang", "E*** W***"),
        ("Emily Wongsawat", "E*** W***"),  # Latin masks have a fixed length: they do not leak the name's
        ("  Ann   Lee ", "A*** L***"),
        ("Zoë", "Z***"),
        ("王 Lily", "王****"),  # mixed: treated as a Chinese name, spaces dropped
        ("", ""),
        ("   ", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_a_masked_name_never_contains_the_name() -> None:
    for name in ("李四", "王小明", "Emma Wang", "Bo", "Al Li"):
        masked = mask_name(name)
        assert masked != name and name not in masked
        assert masked.count("*") >= 1


@pytest.mark.parametrize(
    ("username", "masked"),
    [
        ("mei.wang", "me***"),
        ("emma", "em***"),
        ("bob", "b***"),
        ("x", "x***"),
        ("", ""),
    ],
)
def test_mask_username(username: str, masked: str) -> None:
    assert mask_username(username) == masked


def test_clean_reason() -> None:
    assert clean_reason(None) == DEFAULT_REASON
    assert clean_reason("") == DEFAULT_REASON
    assert clean_reason("   ") == DEFAULT_REASON
    assert clean_reason("  fraud   investigation ") == "fraud investigation"
    assert clean_reason("x" * REASON_MAX) == "x" * REASON_MAX


@pytest.mark.parametrize(
    "reason", ["x" * (REASON_MAX + 1), "line\nbreak", "tab\there", "bell\x07", "rtl\u202eoverride"]
)
def test_clean_reason_refuses_long_or_control_text(reason: str) -> None:
    with pytest.raises(InvalidReason):
        clean_reason(reason)


@pytest.mark.parametrize(
    ("ip", "masked"),
    [
        ("203.0.113.45", "203.0.*.*"),
        ("10.1.2.3", "10.1.*.*"),
        ("2001:db8::1", "2001:db8:*"),
        ("2408:8207:18a0:1::5", "2408:8207:*"),
        ("::ffff:198.51.100.7", "198.51.*.*"),  # an IPv4 client seen through an IPv6 socket
        (" 203.0.113.45 ", "203.0.*.*"),
        ("", ""),
        ("unknown", "***"),
        ("203.0.113.450", "***"),
    ],
)
def test_mask_ip(ip: str, masked: str) -> None:
    from atrium.staff.domain import mask_ip

    assert mask_ip(ip) == masked
