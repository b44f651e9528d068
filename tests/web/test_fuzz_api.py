"""Property-based fuzzing of the whole /api/v1 surface from its own OpenAPI document (schemathesis).

For every operation, generated requests (as a signed-in customer with a funded account, and without any
session) must never produce a 5xx; every 4xx must be an RFC 9457 problem (application/problem+json);
without a session every protected operation is a 401. Whatever the fuzzer managed to do, the ledger
must still balance afterwards.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.transports import ASGITransport, RequestsTransport
from starlette_testclient import TestClient as ASGIClient

from atrium.app import create_app
from atrium.db.session import Database
from atrium.identity import service as identity
from atrium.identity import sessions
from atrium.kit.errors import Unauthenticated
from atrium.web.deps import PUBLIC_ROUTES
from tests.auth_support import phone_for
from tests.web import _hypothesis_compat

_hypothesis_compat.apply()

# FastAPI publishes OpenAPI 3.1; schemathesis 3 reads it behind this switch.
schemathesis.experimental.OPEN_API_3_1.enable()

USERNAME = "fuzz-customer"
PASSWORD = "fuzz password 1"
# Deterministic in CI (a failure reproduces from the same run); exploring freely on a laptop. CI fuzzes every
# operation on SQLite (20 examples each) and again on PostgreSQL (12: hypothesis tries its boundary values —
# the empty, the longest, the NUL byte — first, and those are what PostgreSQL refuses where SQLite does
# not), within its 15-minute budget.
FUZZ = settings(
    max_examples=12 if os.environ.get("ATRIUM_TEST_DATABASE_URL", "").startswith("postgres") else 20,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    database=None,
    suppress_health_check=list(HealthCheck),
)
FUZZ_ANONYMOUS = settings(FUZZ, max_examples=8)


def problem_json_for_4xx(response, case) -> None:  # type: ignore[no-untyped-def]
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", "")
        assert content_type.startswith("application/problem+json"), (
            f"{case.method} {case.formatted_path} answered {response.status_code} as {content_type!r}, "
            "not as an RFC 9457 problem"
        )
        body = response.json()
        assert body.get("status") == response.status_code and body.get("type") and body.get("title"), body


def _is_public(case) -> bool:  # type: ignore[no-untyped-def]
    return (case.method.upper(), case.operation.path) in PUBLIC_ROUTES


def unauthenticated_is_401(response, case) -> None:  # type: ignore[no-untyped-def]
    if not _is_public(case):
        assert response.status_code == 401, (
            f"{case.method} {case.formatted_path} without a session answered {response.status_code}"
        )


# 401s that refuse a credential carried in the request itself (a sign-in ticket, a one-time code, a passkey
# assertion), not the session: the fuzzer sends made-up ones.
REFUSED_CREDENTIALS = ("ticket-invalid", "invalid-code", "invalid-passkey", "invalid-credentials")


def _accepted_session(response) -> bool:  # type: ignore[no-untyped-def]
    """A 401 that nevertheless accepted the session: either a step-up challenge for this one action
    (RFC 9470: large transfers, new payees, limit raises), or the refusal of a made-up credential in the
    request's body."""
    body = response.json()
    kind = str(body.get("type", "")).rsplit("/", 1)[-1]
    if kind == "step-up-required":
        return bool(body.get("challenge")) and "insufficient_user_authentication" in response.headers.get(
            "www-authenticate", ""
        )
    return kind in REFUSED_CREDENTIALS


def signed_in_is_not_401(response, case) -> None:  # type: ignore[no-untyped-def]
    if not _is_public(case):  # a public login answers 401 to wrong credentials, as it should
        assert response.status_code != 401 or _accepted_session(response), (
            f"{case.method} {case.formatted_path} refused a fresh session: {response.text[:300]}"
        )


@dataclass
class OneClientTransport(ASGITransport):
    """schemathesis' ASGI transport with one client for the whole test. Its own enters a new client, and so
    runs the app's lifespan start and end, for every request: a third of the test's time on SQLite, half on
    PostgreSQL. Each request still goes out as from a fresh client: no cookie is carried over."""

    client: Any = None

    def send(self, case, *, session=None, base_url=None, **kwargs):  # type: ignore[no-untyped-def, override]
        self.client.cookies.clear()
        return RequestsTransport.send(self, case, session=self.client,
                                      base_url=base_url or case.get_full_base_url(), **kwargs)


@pytest.fixture()
def api_schema(db: Database):  # type: ignore[no-untyped-def]
    app = create_app(start_background=False)
    schema = schemathesis.from_asgi("/api/v1/openapi.json", app).include(path_regex=r"^/api/v1/")
    with ASGIClient(app) as client:  # one lifespan for the test, as a server has
        schema.transport = OneClientTransport(app, client)
        yield schema


api = schemathesis.from_pytest_fixture("api_schema")


@pytest.fixture()
def sign_in(db: Database) -> Callable[[], str]:
    """A customer with a phone and a funded CNY current account, so transfers and statements have something
    to move.

    Returns a function that gives a live multi-factor (level 2: password and SMS code) session token,
    opening a new one when the last one ended, so a fuzzed logout (or anything else that ends sessions)
    cannot turn the rest of the run into 401s. Large transfers, new payees and limit raises still answer
    401 `step-up-required`: the fuzzer cannot complete a challenge.
    """
    with db.unit_of_work() as s:
        customer = identity.create_customer(
            s, username=USERNAME, password=PASSWORD, display_name="Fuzz", phone=phone_for(USERNAME)
        )
        customer_id = customer.id
        _fund(s, customer_id)
    current: list[str] = []

    def token() -> str:
        if current:
            try:
                with db.read_session() as s:
                    identity.authenticate(s, current[0])
                return current[0]
            except Unauthenticated:
                current.clear()
        with db.unit_of_work() as s:
            raw, _ = sessions.open_session(
                s, customer_id=customer_id, amr=["pwd", "sms"], client="api", ttl_s=3600
            )
        current.append(raw)
        return raw

    return token


def _fund(session, customer_id: str) -> None:  # type: ignore[no-untyped-def]
    if importlib.util.find_spec("atrium.accounts.service") is None:
        return
    from atrium.accounts import service as accounts
    from atrium.ledger import service as ledger

    account = accounts.open_account(session, customer_id=customer_id, product="current", currency="CNY")
    cash = ledger.get_or_create_internal(
        session, code="bank:settlement:CNY", name="Settlement CNY", type="asset", currency="CNY"
    )
    ledger.post_transfer(
        session, idempotency_key=f"fuzz-funding-{customer_id}", debit_account_id=cash.id,
        credit_account_id=account.ledger_account_id, amount_minor=1_000_000, currency="CNY", kind="deposit",
    )


@pytest.fixture()
def ledger_stays_balanced(db: Database) -> Iterator[None]:
    yield
    if importlib.util.find_spec("atrium.ledger.service") is None:
        return
    from atrium.ledger import service as ledger

    with db.read_session() as s:
        report = ledger.check(s)
    assert report.ok, f"the ledger is out of balance after fuzzing: {report.discrepancies}"


@api.parametrize()
@FUZZ
def test_api_as_a_customer(case, sign_in: Callable[[], str], ledger_stays_balanced: None) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(
        headers={"Authorization": f"Bearer {sign_in()}"},
        checks=(not_a_server_error, problem_json_for_4xx, signed_in_is_not_401),
    )


@api.parametrize()
@FUZZ_ANONYMOUS
def test_api_without_a_session(case, ledger_stays_balanced: None) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(checks=(not_a_server_error, problem_json_for_4xx, unauthenticated_is_401))
