"""Shared by the OTP, API and page tests: a frozen clock, reading a code from the outbox as the demo does,
the app with these routers, customers with a phone and sessions at a chosen level."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.notify import service as notify


def frozen_clock() -> Iterator[clock.FrozenClock]:
    """A `frozen` fixture's body: the process clock stopped at a fixed instant until the test ends."""
    fc = clock.FrozenClock(datetime(2030, 1, 15, 9, 0, 7, tzinfo=UTC))
    previous = clock.use(fc)
    yield fc
    clock.use(previous)


def last_code(session: Session, phone: str) -> str:
    message = notify.outbox(session, phone=phone, limit=1)[0]
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", message.body)
    assert match, message.body
    return match.group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- the app with H2's routers, customers and sessions at a chosen level --------------------------------

PASSWORD = "first password ok"
PHONE_OF_MEI = "+8613812345678"


def app_with_security():  # type: ignore[no-untyped-def]
    """The real app (it mounts the OTP API, the security pages and the development outbox)."""
    from atrium.app import create_app

    return create_app(start_background=False)


def make_customer(db, *, username: str = "mei", phone: str | None = PHONE_OF_MEI, locale: str = "zh") -> str:  # type: ignore[no-untyped-def]
    from atrium.identity import service as identity

    with db.unit_of_work() as s:
        return identity.create_customer(s, username=username, password=PASSWORD, display_name="王美",
                                        phone=phone, locale=locale).id


def sign_in_as(client, db, customer_id: str, amr: list[str]) -> str:  # type: ignore[no-untyped-def]
    """A session at the level `amr` gives (["pwd"] → 1, ["pwd", "sms"] → 2), as the client's cookie and
    returned as the bearer token."""
    from atrium.identity import sessions
    from atrium.web.deps import SESSION_COOKIE

    with db.unit_of_work() as s:
        token, _ = sessions.open_session(s, customer_id=customer_id, amr=amr, client="mobile")
    client.cookies.set(SESSION_COOKIE, token)
    return token
