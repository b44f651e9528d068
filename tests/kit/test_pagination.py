"""Cursors round-trip their key; anything a client makes up is a 422, never a crash further down."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atrium.kit.errors import ValidationFailed
from atrium.kit.pagination import MAX_CURSOR_LENGTH, decode_cursor, encode_cursor

scalars = st.one_of(
    st.text(max_size=30), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.booleans(), st.none()
)


@given(st.lists(scalars, min_size=1, max_size=4))
def test_round_trip(key: list[object]) -> None:
    cursor = encode_cursor(key)
    assert decode_cursor(cursor) == key
    assert decode_cursor(cursor, size=len(key)) == key


def test_cursor_is_url_safe() -> None:
    cursor = encode_cursor(["2024-05-01T10:00:00+00:00", "jrn_01HX???>>>", 2**40])
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_datetimes_encode_as_text() -> None:
    from datetime import UTC, datetime

    at = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert decode_cursor(encode_cursor([at, "e_1"])) == [str(at), "e_1"]


def _raw(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!!",
        "not a cursor",
        "a",
        "é",
        "eyJh",  # truncated JSON
        _raw({"k": 1}),  # not a list
        _raw([]),  # no key at all
        _raw([["nested"]]),
        _raw([{"k": 1}]),
        _raw("text"),
        "A" * (MAX_CURSOR_LENGTH + 4),
        base64.urlsafe_b64encode(b"\xff\xfe\xfa").decode(),  # not UTF-8
    ],
)
def test_malformed_cursor_is_validation_failed(cursor: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        decode_cursor(cursor)
    assert info.value.status == 422


def test_wrong_key_size_is_validation_failed() -> None:
    with pytest.raises(ValidationFailed):
        decode_cursor(encode_cursor(["a", 1]), size=3)


@given(st.text(max_size=80))
def test_any_text_decodes_or_fails_cleanly(text: str) -> None:
    try:
        value = decode_cursor(text)
    except ValidationFailed:
        return
    assert isinstance(value, list) and value
