"""RFC 9457 problems: every error leaves as application/problem+json with a type, a title and its status;
domain errors keep their own status and code; nothing internal leaks from a 500."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from atrium.kit.errors import (
    AtriumError,
    BusinessRuleViolated,
    Conflict,
    Forbidden,
    IdempotencyConflict,
    NotFound,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from atrium.kit.money import check_currency, parse_major
from atrium.web import problems
from atrium.web.problems import PROBLEM_BASE


class HoldNotPendingForTest(Conflict):
    code = "hold-not-pending"
    title = "The hold is not pending"


class Body(BaseModel):
    amount_minor: int
    currency: str


def _app() -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.get("/raise/{name}")
    def raise_(name: str) -> None:
        errors: dict[str, AtriumError] = {
            "validation": ValidationFailed("amount must be positive", field="amount_minor"),
            "not-found": NotFound("no such account"),
            "forbidden": Forbidden("staff only"),
            "unauthenticated": Unauthenticated("sign in first"),
            "conflict": Conflict("already closed"),
            "idempotency": IdempotencyConflict("key reused", idempotency_key="k-123456789"),
            "business": BusinessRuleViolated("insufficient funds", available_minor=100, currency="CNY"),
            "rate": RateLimited("slow down", retry_after_s=30),
            # An extension member named like a standard member must not overwrite it.
            "clash": HoldNotPendingForTest("the hold was voided", status="voided", type="x", title="y"),
        }
        raise errors[name]

    @app.get("/currency")
    def currency(code: str) -> str:
        return check_currency(code)

    @app.get("/amount")
    def amount(text: Annotated[str, Query()]) -> int:
        return parse_major(text, "CNY")

    @app.post("/body")
    def body(b: Body) -> Body:
        return b

    @app.get("/db/{kind}")
    def database_refuses(kind: str) -> None:
        driver_error = Exception("value too long for type character varying(64): secret-value")
        if kind == "data":
            raise DataError("INSERT INTO t VALUES (%(v)s)", {"v": "secret-value"}, driver_error)
        if kind == "locked":
            raise OperationalError("UPDATE t SET v = %(v)s", {"v": "secret-value"},
                                   Exception("database is locked"))
        raise IntegrityError("INSERT INTO t VALUES (%(v)s)", {"v": "secret-value"}, driver_error)

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("password=hunter2 in a secret place")

    return app


@pytest.fixture(scope="module")
def api() -> TestClient:
    return TestClient(_app(), raise_server_exceptions=False)


def _is_problem(r, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == PROBLEM_BASE + code
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    return body


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("validation", 422, "validation-failed"),
        ("not-found", 404, "not-found"),
        ("forbidden", 403, "forbidden"),
        ("unauthenticated", 401, "unauthenticated"),
        ("conflict", 409, "conflict"),
        ("idempotency", 409, "idempotency-key-reused"),
        ("business", 422, "business-rule"),
        ("rate", 429, "rate-limited"),
        ("clash", 409, "hold-not-pending"),
    ],
)
def test_domain_errors_keep_status_and_code(api: TestClient, name: str, status: int, code: str) -> None:
    _is_problem(api.get(f"/raise/{name}"), status, code)


def test_detail_and_extension_members(api: TestClient) -> None:
    body = _is_problem(api.get("/raise/business"), 422, "business-rule")
    assert body["detail"] == "insufficient funds"
    assert body["available_minor"] == 100
    assert body["currency"] == "CNY"


def test_extensions_cannot_overwrite_standard_members(api: TestClient) -> None:
    body = _is_problem(api.get("/raise/clash"), 409, "hold-not-pending")
    assert body["title"] == "The hold is not pending"


def test_401_says_how_to_authenticate(api: TestClient) -> None:
    r = api.get("/raise/unauthenticated")
    assert r.headers["www-authenticate"].lower().startswith("bearer")


def test_unsupported_currency_is_422(api: TestClient) -> None:
    body = _is_problem(api.get("/currency", params={"code": "XYZ"}), 422, "unsupported-currency")
    assert "XYZ" in body["detail"]


def test_bad_amount_text_is_422_not_500(api: TestClient) -> None:
    _is_problem(api.get("/amount", params={"text": "1,00"}), 422, "invalid-amount")


def test_request_validation_is_422_with_locations(api: TestClient) -> None:
    r = api.post("/body", json={"amount_minor": "lots of money", "currency": 7})
    body = _is_problem(r, 422, "validation-failed")
    locs = {tuple(e["loc"]) for e in body["errors"]}
    assert locs == {("body", "amount_minor"), ("body", "currency")}
    # The problem names fields; it does not echo the submitted values (they may be PII) back.
    assert "lots of money" not in r.text


def test_malformed_json_is_422(api: TestClient) -> None:
    r = api.post("/body", content=b"{not json", headers={"content-type": "application/json"})
    _is_problem(r, 422, "validation-failed")


def test_unknown_route_is_404_problem(api: TestClient) -> None:
    _is_problem(api.get("/nowhere"), 404, "not-found")


def test_wrong_method_is_405_problem_with_allow(api: TestClient) -> None:
    r = api.delete("/body")
    _is_problem(r, 405, "method-not-allowed")
    assert "POST" in r.headers["allow"]


def test_unexpected_error_is_a_bare_500(api: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    r = api.get("/crash")
    body = _is_problem(r, 500, "internal")
    assert "hunter2" not in r.text
    assert "RuntimeError" not in r.text
    assert "Traceback" not in r.text
    assert set(body) <= {"type", "title", "status", "detail"}


@pytest.mark.parametrize(("kind", "status", "code"), [("data", 422, "unprocessable-value"),
                                                     ("integrity", 409, "conflict"),
                                                     ("locked", 503, "retry")])
def test_what_the_database_refuses_is_a_4xx(api: TestClient, kind: str, status: int, code: str) -> None:
    r = api.get(f"/db/{kind}")
    _is_problem(r, status, code)
    assert "secret-value" not in r.text and "INSERT" not in r.text and "UPDATE" not in r.text
    if status == 503:  # a transient conflict: rolled back, safe to resend with the same key
        assert r.headers["retry-after"] == "1"


def test_a_nul_character_is_refused_not_a_500(client: TestClient) -> None:
    """PostgreSQL cannot store NUL in text; the request must fail as a 4xx on either database."""
    r = client.post("/api/v1/auth/login", json={"username": "eve\u0000", "password": "x"})
    assert r.status_code in (401, 422), r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_the_real_app_answers_problems(client: TestClient) -> None:
    r = client.get("/api/v1/no-such-endpoint")
    _is_problem(r, 404, "not-found")
    r = client.delete("/api/v1/health")
    _is_problem(r, 405, "method-not-allowed")
    assert "GET" in r.headers["allow"]
    r = client.post("/api/v1/auth/login", json={"username": ""})
    _is_problem(r, 422, "validation-failed")
