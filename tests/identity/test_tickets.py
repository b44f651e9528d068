"""Signed tickets: a purpose each, an expiry, no forgery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from atrium.identity import tickets
from atrium.kit import clock


def test_a_ticket_says_what_it_was_issued_with() -> None:
    token = tickets.issue("login", {"sub": "cus_1"}, ttl=timedelta(minutes=5))
    claims = tickets.read("login", token)
    assert claims["sub"] == "cus_1" and claims["jti"]


def test_a_ticket_for_one_purpose_is_no_good_for_another() -> None:
    token = tickets.issue("login", {"sub": "cus_1"}, ttl=timedelta(minutes=5))
    with pytest.raises(tickets.TicketInvalid):
        tickets.read("step-up", token)


def test_a_ticket_expires() -> None:
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    previous = clock.use(clock.FrozenClock(start))
    try:
        token = tickets.issue("login", {"sub": "cus_1"}, ttl=timedelta(minutes=5))
        clock.use(clock.FrozenClock(start + timedelta(minutes=5, seconds=1)))
        with pytest.raises(tickets.TicketInvalid, match="expired"):
            tickets.read("login", token)
    finally:
        clock.use(previous)


@pytest.mark.parametrize("forged", ["", "x", "a.b.c", "e30.e30." + "A" * 43])
def test_forgeries_are_refused(forged: str) -> None:
    with pytest.raises(tickets.TicketInvalid):
        tickets.read("login", forged)


def test_an_edited_claim_breaks_the_signature() -> None:
    header, _, signature = tickets.issue("login", {"sub": "cus_1"}, ttl=timedelta(minutes=5)).split(".")
    import base64
    import json

    body = base64.urlsafe_b64encode(json.dumps({"sub": "cus_2", "pur": "login", "exp": 9999999999}).encode())
    with pytest.raises(tickets.TicketInvalid):
        tickets.read("login", f"{header}.{body.decode().rstrip('=')}.{signature}")
