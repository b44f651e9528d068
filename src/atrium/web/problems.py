"""RFC 9457 problem responses: every error leaves the process as application/problem+json."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from atrium.kit.errors import AtriumError
from atrium.kit.money import CurrencyError

PROBLEM_BASE = "https://atrium.dev/problems/"
log = logging.getLogger("atrium.web")


def problem(status: int, code: str, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + code, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def install(app: FastAPI) -> None:
    @app.exception_handler(AtriumError)
    async def _domain(request: Request, exc: AtriumError) -> JSONResponse:
        return problem(exc.status, exc.code, exc.title, exc.detail, **_jsonable(exc.extra))

    @app.exception_handler(CurrencyError)
    async def _currency(request: Request, exc: CurrencyError) -> JSONResponse:
        return problem(422, "unsupported-currency", "Unsupported currency", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return problem(422, "validation-failed", "The request is not valid",
                       "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5]), errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not-found", 405: "method-not-allowed", 401: "unauthenticated", 403: "forbidden"}
        title = str(exc.detail) if exc.detail else "Error"
        return problem(exc.status_code, codes.get(exc.status_code, "http-error"), title)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Logged with the path only: request bodies may hold PII.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal", "Internal error", "the error was logged; nothing was changed")
