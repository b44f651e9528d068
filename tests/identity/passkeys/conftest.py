from __future__ import annotations

import pytest

from tests.identity.passkeys.support import localhost_client


@pytest.fixture()
def api(shared_app):  # type: ignore[no-untyped-def]
    """The app's test client at http://localhost, with clean tables (the app made for these settings before:
    it has the passkey routes)."""
    yield from localhost_client(shared_app)
