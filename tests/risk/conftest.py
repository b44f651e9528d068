"""Fixtures the decision API's tests share (tests/risk/test_endpoints.py, tests/risk/endpoints/)."""

from __future__ import annotations

import pytest

from atrium.app import create_app
from atrium.risk.endpoints import install


@pytest.fixture(scope="module")
def app():  # type: ignore[no-untyped-def]
    """The app with the decision API's fast path installed."""
    app = create_app(start_background=False)
    install(app)
    return app
