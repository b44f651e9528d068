"""Static files for the web faces: compressed, and cached for good when the URL names their version.

Pages link static files with a content hash (`?v=…`, see `web.mobile.templating.static_url`), so a
versioned response can be cached by browsers for a year (`immutable`): a changed file gets a new URL.
Unversioned requests revalidate. Static files are compressed (gzip) — they hold no secrets, so BREACH does
not apply; pages (which carry a CSRF token and the customer's figures) are deliberately not compressed.
"""

from __future__ import annotations

from os import PathLike

from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Scope

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class VersionedStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            versioned = any(part.startswith(b"v=") for part in scope.get("query_string", b"").split(b"&"))
            response.headers["Cache-Control"] = IMMUTABLE if versioned else REVALIDATE
        return response


def static_app(directory: str | PathLike[str], *, check_dir: bool = True) -> ASGIApp:
    return GZipMiddleware(VersionedStaticFiles(directory=directory, check_dir=check_dir), minimum_size=512)
