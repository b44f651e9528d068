"""RFC 9457 problem responses: every error leaves the process as application/problem+json."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from atrium.db.session import is_transient
from atrium.kit.errors import AtriumError
from atrium.kit.money import CurrencyError

PROBLEM_BASE = "https://atrium.dev/problems/"
log = logging.getLogger("atrium.web")


_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})


def problem(
    status: int, code: str, title: str, detail: str | None = None, *,
    headers: Mapping[str, str] | None = None, extensions: Mapping[str, Any] | None = None, **extra: Any,
) -> JSONResponse:
    # Extension members never replace the standard ones: an error's `status="pending"` extra must not
    # turn the problem's HTTP status into a string.
    members = {**(extensions or {}), **extra}
    body: dict[str, Any] = {k: v for k, v in members.items() if k not in _MEMBERS}
    body.update({"type": PROBLEM_BASE + code, "title": title, "status": status})
    if detail:
        body["detail"] = detail
    merged = dict(headers or {})
    if status == 401:
        # RFC 9110 §15.5.2: a 401 says how to authenticate.
        merged.setdefault("WWW-Authenticate", 'Bearer realm="atrium"')
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=merged)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _sqlstate(exc: DBAPIError) -> str:
    return str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "sqlite_errorname", None) or "?")


def install(app: FastAPI) -> None:
    @app.exception_handler(AtriumError)
    async def _domain(request: Request, exc: AtriumError) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        retry_after = exc.extra.get("retry_after")
        if isinstance(retry_after, int | float) and retry_after >= 0:
            headers.setdefault("Retry-After", str(max(1, int(retry_after + 0.999))))
        return problem(exc.status, exc.code, exc.title, exc.detail, headers=headers,
                       extensions=_jsonable(exc.extra))

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
        # Keep the exception's headers: a 405 must say which methods are allowed (`Allow`).
        return problem(exc.status_code, codes.get(exc.status_code, "http-error"), title, headers=exc.headers)

    # The database is the last line of input checking: what it refuses was the request's fault, and the
    # unit of work has already rolled back, so these are 4xx problems, not 500s. Logged without the
    # statement or its parameters (they hold request data), only the SQLSTATE.
    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # e.g. a NUL character in text (PostgreSQL), a number out of the column's range
        log.warning("database refused a value on %s %s (sqlstate %s)", request.method, request.url.path,
                    _sqlstate(exc))
        return problem(422, "unprocessable-value", "A value in the request cannot be stored",
                       "a value is malformed or out of range (text may not contain NUL characters)")

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # e.g. two concurrent requests creating the same unique thing: the loser gets a 409 to retry
        log.warning("integrity conflict on %s %s (sqlstate %s)", request.method, request.url.path,
                    _sqlstate(exc))
        return problem(409, "conflict", "Conflict",
                       "the request conflicts with data written at the same time; retry it")

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError) -> JSONResponse:
        # A deadlock, serialization failure, lock timeout or a busy SQLite file: the transaction was rolled
        # back, so nothing changed, and every write is idempotent — the client can safely send it again.
        if is_transient(exc):
            log.warning("transient database conflict on %s %s (sqlstate %s)", request.method,
                        request.url.path, _sqlstate(exc))
            return problem(503, "retry", "Busy, please retry",
                           "the request met a concurrent one and was rolled back; send it again "
                           "with the same Idempotency-Key", headers={"Retry-After": "1"})
        log.exception("database error on %s %s", request.method, request.url.path)
        return problem(503, "unavailable", "Service unavailable",
                       "the database is unavailable; nothing changed", headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Logged with the path only: request bodies may hold PII.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal", "Internal error", "the error was logged; nothing was changed")
