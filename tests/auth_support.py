"""Signing in from tests the way a client does: password, then the second factor with the SMS code read
from the development outbox (atrium.notify), and completing step-up challenges the same way."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from atrium.db.runtime import get_db
from atrium.notify import service as notify

_CODE = re.compile(r"(?<![0-9A-Z-])([0-9]{6})(?![0-9])")


def phone_for(username: str) -> str:
    """A stable, distinct mobile number per test username (+86 138xxxxxxxx)."""
    digits = int(hashlib.sha256(username.encode()).hexdigest(), 16) % 10**8
    return f"+86138{digits:08d}"


def last_code(phone: str, *, db: Any = None) -> str:
    """The one-time code in the newest SMS sent to `phone` (read from `db`, default the app's database)."""
    with (db or get_db()).read_session() as s:
        messages = notify.outbox(s, phone=phone, limit=1)
    assert messages, f"no SMS was sent to {phone}"
    match = _CODE.search(messages[0].body)
    assert match, f"no code in {messages[0].body!r}"
    return match.group(1)


def api_login(client: Any, username: str, password: str, *, phone: str | None = None) -> dict[str, str]:
    """Sign in over the API (second factor by SMS when asked) and return the bearer header."""
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    body = r.json()
    if body["status"] == "second-factor-required":
        ticket = body["ticket"]
        sent = client.post("/api/v1/auth/login/second-factor/sms", json={"ticket": ticket})
        assert sent.status_code == 200, sent.text
        code = last_code(phone or phone_for(username))
        r = client.post(
            "/api/v1/auth/login/second-factor", json={"ticket": ticket, "method": "sms", "code": code}
        )
        assert r.status_code == 200, r.text
        body = r.json()
    client.cookies.clear()  # API callers use the bearer token; keep the cookie jar out of it
    return {"Authorization": f"Bearer {body['token']}"}


def complete_step_up(
    client: Any, headers: dict[str, str], problem: dict[str, Any], *, phone: str
) -> dict[str, str]:
    """Complete a step-up problem's challenge by SMS; returns headers to repeat the request with."""
    assert problem.get("type", "").endswith("step-up-required"), problem
    challenge = problem["challenge"]
    r = client.post("/api/v1/auth/step-up/sms", json={"challenge": challenge}, headers=headers)
    assert r.status_code == 200, r.text
    r = client.post(
        "/api/v1/auth/step-up",
        json={"challenge": challenge, "method": "sms", "code": last_code(phone)},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    return {**headers, "Atrium-Step-Up": challenge}


def with_step_up(
    client: Any, method: str, url: str, *, headers: dict[str, str], phone: str, **kwargs: Any
) -> Any:
    """Send a request that demands a step-up: check that the first answer is 401 `step-up-required`,
    complete its challenge by SMS and send the very same request again; returns the second answer."""
    first = client.request(method, url, headers=headers, **kwargs)
    assert first.status_code == 401, first.text
    stepped = complete_step_up(client, headers, first.json(), phone=phone)
    return client.request(method, url, headers=stepped, **kwargs)


def password_sign_in(db: Any, *, username: str, password: str, client: Any) -> Any:
    """`login.check_password` on a read session, then `login.with_password` in a unit of work: what the
    sign-in endpoint and page do."""
    from atrium.identity import login

    with db.read_session() as s:
        checked = login.check_password(s, username=username, password=password)
    return db.run(lambda s: login.with_password(s, checked=checked, client=client))
