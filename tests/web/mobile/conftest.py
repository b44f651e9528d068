from __future__ import annotations

import pytest

from tests.web.mobile.factories import Seeded, login, seed_customer


@pytest.fixture()
def customer(db) -> Seeded:  # type: ignore[no-untyped-def]
    return seed_customer(db)


@pytest.fixture()
def signed_in(client, customer: Seeded):  # type: ignore[no-untyped-def]
    """The test client with a customer signed in through the login page."""
    login(client, customer)
    return client
