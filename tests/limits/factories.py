"""Small factories for the limits tests."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

from sqlalchemy.orm import Session

from atrium.identity import service as identity
from tests.auth_support import phone_for

_seq = count(1)
PASSWORD = "a long test password"  # noqa: S105 - a test fixture's password

# Noon in Shanghai (04:00 UTC): far from the midnight and night-time boundaries unless a test wants them.
NOON = datetime(2024, 5, 15, 4, 0, tzinfo=UTC)


def customer(session: Session, name: str | None = None) -> str:
    """A customer with a phone on file (`phone_for(username)`) for sign-in and step-up codes."""
    username = name or f"limits-cus-{next(_seq)}"
    return identity.create_customer(
        session, username=username, password=PASSWORD, display_name="Test Customer", phone=phone_for(username)
    ).id


def staff(session: Session, role: str = "operator", name: str | None = None) -> str:
    username = name or f"limits-stf-{next(_seq)}"
    return identity.create_staff(
        session, username=username, password=PASSWORD, display_name="Test Staff", role=role
    ).id


def yuan(amount: int) -> int:
    return amount * 100
