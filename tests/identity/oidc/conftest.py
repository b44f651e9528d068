from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.identity.oidc.support import Customer, make_customer


@pytest.fixture()
def app_client(shared_app):  # type: ignore[no-untyped-def]
    """The whole app (it mounts the provider and Atrium Life): the one made for these settings before, in a
    fresh client (tests/conftest.py `shared_app`)."""
    with TestClient(shared_app) as c:
        yield c


@pytest.fixture()
def customer(db) -> Customer:  # type: ignore[no-untyped-def]
    return make_customer(db)
