from __future__ import annotations

import pytest

from tests.identity.passkeys.support import localhost_client


@pytest.fixture()
def api(db):  # type: ignore[no-untyped-def]
    """The app's test client at http://localhost, with clean tables."""
    yield from localhost_client()
