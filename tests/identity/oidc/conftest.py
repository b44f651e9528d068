from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.identity.oidc.support import Customer, make_customer, oidc_app


@pytest.fixture()
def app_client(db):  # type: ignore[no-untyped-def]
    with TestClient(oidc_app()) as c:
        yield c


@pytest.fixture()
def customer(db) -> Customer:  # type: ignore[no-untyped-def]
    return make_customer(db)
