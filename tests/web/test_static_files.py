"""Static files: versioned URLs are cached for good, others revalidate; both are gzip-compressed."""

from __future__ import annotations

from atrium.web.mobile.templating import static_url
from atrium.web.static_files import IMMUTABLE, REVALIDATE


def test_a_versioned_static_url_is_immutable_and_compressed(client, db) -> None:  # type: ignore[no-untyped-def]
    r = client.get(static_url("css/app.css"), headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["cache-control"] == IMMUTABLE
    assert r.headers["content-encoding"] == "gzip"
    assert "body" in r.text  # decoded by the client: it is the stylesheet


def test_an_unversioned_static_url_revalidates(client, db) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/static/mobile/css/app.css")
    assert r.status_code == 200 and r.headers["cache-control"] == REVALIDATE


def test_pages_are_not_compressed(client, db) -> None:  # type: ignore[no-untyped-def]
    # Pages carry a CSRF token and personal figures: compressing them would open BREACH.
    r = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and "content-encoding" not in r.headers


def test_a_missing_static_file_is_404(client, db) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/static/mobile/nope.css?v=1").status_code == 404
