"""The decision API for external channels (/api/v1/risk): channel keys, per-client objects, idempotent
decisions logged before they are answered, labels, problems for bad input, and the fast path answering
exactly as the route does."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from atrium.app import create_app
from atrium.identity import service as identity
from atrium.identity import sessions
from atrium.risk import channel_clients
from atrium.risk import service as risk
from atrium.risk.domain.decide import Decision
from atrium.risk.domain.events import RiskEvent
from atrium.risk.endpoints import DecisionFastPath, log
from atrium.risk.schemas import ListEntryCreate
from atrium.risk.service import setup, state
from tests.web import _hypothesis_compat

URL = "/api/v1/risk/decisions"


@pytest.fixture(autouse=True)
def _fresh_process() -> Iterator[None]:
    """Each test starts like a new process: no feature state, configuration, cached keys or log writer."""
    for reset in (state.reset, setup.clear, channel_clients.key_cache.clear):
        reset()
    yield
    log.close()
    for reset in (state.reset, setup.clear, channel_clients.key_cache.clear):
        reset()


@pytest.fixture()
def api(app, db) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as client:
        yield client


def issue(db, name: str = "network A", channels: tuple[str, ...] = ("card",),  # type: ignore[no-untyped-def]
          scopes: tuple[str, ...] = channel_clients.SCOPES) -> tuple[channel_clients.ChannelClient, str]:
    with db.unit_of_work() as s:
        return channel_clients.issue(s, name=name, channels=channels, scopes=scopes, created_by="test")


def auth(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


def authorisation(**fields: Any) -> dict[str, Any]:
    body = {"channel": "card", "transaction_id": "T-0001", "amount_minor": 12_345, "currency": "CNY",
            "card_ref": "card_7Q2", "terminal_id": "term-00042", "ip": "10.9.8.7"}
    return body | fields


def problem(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["status"] == status
    if code is not None:
        assert body["type"].endswith("/" + code), body
    return body


# --- deciding ---------------------------------------------------------------------------------------------


def test_a_decision_is_logged_before_it_is_answered_and_a_retry_gets_it_back(api, db) -> None:  # type: ignore[no-untyped-def]
    client, key = issue(db)
    r = api.post(URL, json=authorisation(), headers=auth(key))
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["outcome"] in ("allow", "challenge", "review", "deny")
    assert first["transaction_id"] == "T-0001"
    assert first["replayed"] is False and r.headers["location"] == f"{URL}/{first['id']}"
    with db.read_session() as s:  # committed: another session sees it
        logged = risk.decision_for_subject(s, "card", client.namespace("T-0001"))
    assert logged is not None and logged.id == first["id"] and logged.outcome == first["outcome"]

    again = api.post(URL, json=authorisation(), headers=auth(key))
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() | {"replayed": False} == first

    changed = api.post(URL, json=authorisation(amount_minor=99), headers=auth(key))
    problem(changed, 409, "risk-subject-reused")


def test_two_networks_may_use_the_same_transaction_id(api, db) -> None:  # type: ignore[no-untyped-def]
    _, key_a = issue(db, "network A")
    _, key_b = issue(db, "network B")
    a = api.post(URL, json=authorisation(), headers=auth(key_a))
    b = api.post(URL, json=authorisation(amount_minor=1), headers=auth(key_b))
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_reasons_come_in_the_asked_language(api, db) -> None:  # type: ignore[no-untyped-def]
    _, key = issue(db)
    with db.unit_of_work() as s:
        risk.add_entry(s, ListEntryCreate(list_kind="block", subject_kind="card", value="card_stolen",
                                          reason="reported stolen"), "staff_checker")
    en = api.post(URL, json=authorisation(card_ref="card_stolen"),
                  headers=auth(key, **{"Accept-Language": "en"}))
    zh = api.post(URL, json=authorisation(card_ref="card_stolen"),
                  headers=auth(key, **{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}))
    assert en.json()["outcome"] == "deny" and en.headers["content-language"] == "en"
    assert zh.headers["content-language"] == "zh"
    codes = [r["code"] for r in en.json()["reasons"]]
    assert "list.block.card" in codes
    en_reason, zh_reason = en.json()["reasons"][0], zh.json()["reasons"][0]
    assert en_reason["code"] == zh_reason["code"]
    assert en_reason["text"] and en_reason["analyst"] and en_reason["text"] != zh_reason["text"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh_reason["text"])


class _SlowEngine:
    def decide(self, event: RiskEvent, now: float | None = None) -> Decision:
        import time

        time.sleep(0.5)
        raise AssertionError("never answered in time")


def test_a_timed_out_decision_follows_the_channel_fail_policy(api, db) -> None:  # type: ignore[no-untyped-def]
    _, key = issue(db)
    policy = risk.channel_policies()["card"]
    with risk.engine_override(_SlowEngine()):
        r = api.post(URL, json=authorisation(), headers=auth(key))
    body = r.json()
    assert r.status_code == 201 and body["fallback"] is True
    assert body["outcome"] == policy.on_timeout
    assert [x["code"] for x in body["reasons"]] == ["risk.unavailable"]


# --- who may call -----------------------------------------------------------------------------------------


def test_people_and_unknown_keys_are_refused(api, db) -> None:  # type: ignore[no-untyped-def]
    _, key = issue(db)
    body = problem(api.post(URL, json=authorisation()), 401, "unauthenticated")
    assert "channel key" in body["detail"]
    problem(api.post(URL, json=authorisation(), headers=auth("atrk_" + "x" * 43)), 401, "unauthenticated")
    problem(api.post(URL, json=authorisation(), headers=auth("not-a-key")), 401, "unauthenticated")
    with db.unit_of_work() as s:
        customer = identity.create_customer(s, username="carol", password="carol password 1",
                                            display_name="C", phone="+8613800000077")
        token, _ = sessions.open_session(s, customer_id=customer.id, amr=["pwd", "sms"], client="api")
    problem(api.post(URL, json=authorisation(), headers=auth(token)), 403, "forbidden")
    assert api.get("/api/v1/risk/channel", headers=auth(key)).json()["channels"] == ["card"]


def test_scopes_and_channels_are_enforced(api, db) -> None:  # type: ignore[no-untyped-def]
    _, labeller = issue(db, "labels only", scopes=("risk:label",))
    _, card_only = issue(db, "cards only", channels=("card",))
    problem(api.post(URL, json=authorisation(), headers=auth(labeller)), 403, "forbidden")
    problem(api.post(URL, json=authorisation(channel="api"), headers=auth(card_only)), 403, "forbidden")


def test_a_revoked_key_stops_working(api, db) -> None:  # type: ignore[no-untyped-def]
    client, key = issue(db)
    assert api.post(URL, json=authorisation(), headers=auth(key)).status_code == 201
    assert api.post(URL, json=authorisation(transaction_id="T-2"), headers=auth(key)).status_code == 201
    with db.unit_of_work() as s:
        channel_clients.revoke(s, client.id, revoked_by="staff_1")
    problem(api.post(URL, json=authorisation(transaction_id="T-3"), headers=auth(key)), 401)


def test_a_client_sees_and_labels_only_its_own_decisions(api, db) -> None:  # type: ignore[no-untyped-def]
    _, key_a = issue(db, "network A")
    _, key_b = issue(db, "network B")
    decided = api.post(URL, json=authorisation(), headers=auth(key_a)).json()
    mine = api.get(f"{URL}/{decided['id']}", headers=auth(key_a))
    assert mine.status_code == 200 and mine.json() | {"replayed": False} == decided
    problem(api.get(f"{URL}/{decided['id']}", headers=auth(key_b)), 404, "risk-decision-not-found")
    problem(api.get(f"{URL}/rskd_00000000000000000000000000", headers=auth(key_a)), 404)
    problem(api.post("/api/v1/risk/labels", json={"decision_id": decided["id"], "fraud": True},
                     headers=auth(key_b)), 404)
    problem(api.post("/api/v1/risk/labels", json={"channel": "card", "transaction_id": "T-0001",
                                                  "fraud": True}, headers=auth(key_b)), 404)
    with db.read_session() as s:
        assert risk.labels_of(s, decided["id"]) == []


# --- labels -----------------------------------------------------------------------------------------------


def test_chargebacks_arrive_as_labels(api, db) -> None:  # type: ignore[no-untyped-def]
    _, key = issue(db)
    first = api.post(URL, json=authorisation(), headers=auth(key)).json()
    second = api.post(URL, json=authorisation(transaction_id="T-0002"), headers=auth(key)).json()
    labels = "/api/v1/risk/labels"
    by_id = api.post(labels, json={"decision_id": first["id"], "fraud": True}, headers=auth(key))
    by_ref = api.post(labels, json={"channel": "card", "transaction_id": "T-0002", "fraud": False},
                      headers=auth(key))
    assert by_id.status_code == by_ref.status_code == 201, (by_id.text, by_ref.text)
    assert by_ref.json()["decision_id"] == second["id"] and by_ref.json()["transaction_id"] == "T-0002"
    with db.read_session() as s:
        assert [(x.fraud, x.source) for x in risk.labels_of(s, first["id"])] == [(True, "chargeback")]
        assert [x.fraud for x in risk.labels_of(s, second["id"])] == [False]
    problem(api.post("/api/v1/risk/labels", json={"decision_id": first["id"], "channel": "card",
                                                  "transaction_id": "T-0001", "fraud": True},
                     headers=auth(key)), 422)


# --- bad input is a problem, never a 500 ------------------------------------------------------------------


@pytest.mark.parametrize("change", [
    {"card_ref": "4111111111111111"},  # a card number (PAN), not a reference
    {"currency": "XXX"},
    {"amount_minor": -1},
    {"lat": 31.2},  # without lon
    {"occurred_at": "2026-01-01T10:00:00"},  # no time zone
    {"transaction_id": "has space"},
    {"channel": "telepathy"},
    {"surprise": 1},
    {"transaction_id": "x" * 49},
])
def test_bad_input_is_a_422_problem(api, db, change: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    _, key = issue(db)
    problem(api.post(URL, json=authorisation(**change), headers=auth(key)), 422)


def test_malformed_and_oversized_bodies_are_problems(api, db) -> None:  # type: ignore[no-untyped-def]
    _, key = issue(db)
    api.get("/api/v1/risk/channel", headers=auth(key))  # the key is cached: the fast path would serve
    headers = auth(key, **{"Content-Type": "application/json"})
    problem(api.post(URL, content=b'{"channel": "card", ', headers=headers), 422)
    problem(api.post(URL, json=authorisation(device_id="d" * 20_000), headers=auth(key)), 422)


# --- the fast path ----------------------------------------------------------------------------------------


def test_the_fast_path_answers_as_the_route_does(app, db) -> None:  # type: ignore[no-untyped-def]
    assert any(m.cls is DecisionFastPath for m in app.user_middleware)
    plain = create_app(start_background=False)  # the route alone
    _, key = issue(db)
    with TestClient(app) as fast, TestClient(plain) as slow:
        fast.get("/api/v1/risk/channel", headers=auth(key))  # the key is cached: the POST takes the fast path
        en = auth(key, **{"Accept-Language": "en"})
        a = fast.post(URL, json=authorisation(transaction_id="F-1"), headers=en)
        b = slow.post(URL, json=authorisation(transaction_id="F-2"), headers=en)
        assert a.status_code == b.status_code == 201
        same = ("content-type", "content-language", "vary", "cache-control", "x-content-type-options",
                "x-frame-options", "referrer-policy")
        assert {h: a.headers.get(h) for h in same} == {h: b.headers.get(h) for h in same}
        assert set(a.json()) == set(b.json())
        replay = slow.post(URL, json=authorisation(transaction_id="F-1"), headers=auth(key))
        assert replay.status_code == 200 and replay.json()["id"] == a.json()["id"]


def test_concurrent_decisions_are_all_logged_once(app, db) -> None:  # type: ignore[no-untyped-def]
    client, key = issue(db)

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            await http.get("/api/v1/risk/channel", headers=auth(key))
            bodies = [authorisation(transaction_id=f"C-{i % 40}", card_ref=f"card_{i % 40 % 7}")
                      for i in range(60)]
            return await asyncio.gather(*(http.post(URL, json=b, headers=auth(key)) for b in bodies))

    answers = asyncio.run(burst())
    assert all(r.status_code in (200, 201) for r in answers), [r.text for r in answers if r.is_error]
    by_tx: dict[str, set[str]] = {}
    for r in answers:
        by_tx.setdefault(r.json()["transaction_id"], set()).add(r.json()["id"])
    assert len(by_tx) == 40 and all(len(ids) == 1 for ids in by_tx.values())
    assert sum(r.status_code == 201 for r in answers) == 40
    with db.read_session() as s:
        for tx, ids in by_tx.items():
            logged = risk.decision_for_subject(s, "card", client.namespace(tx))
            assert logged is not None and {logged.id} == ids


# --- fuzzing with a valid channel key (the /api/v1 fuzz test calls these routes as people) --------------

_hypothesis_compat.apply()
schemathesis.experimental.OPEN_API_3_1.enable()


@pytest.fixture()
def risk_schema(app, db):  # type: ignore[no-untyped-def]
    return schemathesis.from_asgi("/api/v1/openapi.json", app).include(path_regex=r"^/api/v1/risk/")


risk_api = schemathesis.from_pytest_fixture("risk_schema")


def _problem_for_4xx(response, case) -> None:  # type: ignore[no-untyped-def]
    if 400 <= response.status_code < 500:
        assert response.headers.get("content-type", "").startswith("application/problem+json"), response.text
        assert response.json()["status"] == response.status_code


def _key_accepted(response, case) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code not in (401, 403), f"{case.method} {case.formatted_path}: {response.text}"


@pytest.fixture()
def fuzz_key(db) -> str:  # type: ignore[no-untyped-def]
    return issue(db, "fuzz network", channels=channel_clients.CHANNELS)[1]


@risk_api.parametrize()
@settings(max_examples=40, deadline=None, derandomize=bool(os.environ.get("CI")), database=None,
          suppress_health_check=list(HealthCheck))
def test_the_routes_survive_fuzzing_with_a_valid_key(case, fuzz_key: str) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(headers=auth(fuzz_key),
                           checks=(not_a_server_error, _problem_for_4xx, _key_accepted))


# --- the operators' command line --------------------------------------------------------------------------


def test_keys_are_issued_listed_and_revoked_from_the_command_line(api, db) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from atrium.cli import app as cli

    runner = CliRunner()
    issued = runner.invoke(cli, ["risk", "channels", "issue", "UnionPay", "--channel", "card"])
    assert issued.exit_code == 0, issued.output
    key = issued.output.split(": ")[-1].strip()
    client_id = issued.output.split()[1]
    assert key.startswith("atrk_") and client_id.startswith("rch_")
    assert api.post(URL, json=authorisation(), headers=auth(key)).status_code == 201
    listed = runner.invoke(cli, ["risk", "channels", "list"])
    assert client_id in listed.output and key not in listed.output and key[-4:] in listed.output
    assert runner.invoke(cli, ["risk", "channels", "revoke", client_id]).exit_code == 0
    problem(api.post(URL, json=authorisation(transaction_id="T-2"), headers=auth(key)), 401)
    assert runner.invoke(cli, ["risk", "channels", "issue", "x", "--channel", "telepathy"]).exit_code != 0
