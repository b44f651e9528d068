"""Setting up `atrium bench auth` (nothing here is measured): the server's own password hash, the bench
customers with their phones and trusted devices, and one refresh-token chain per connection."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx

from atrium.bench.auth_client import MOBILE_CLIENT, BenchCustomer, DeviceKey
from atrium.db.session import Database

PRIME = "auth-prime"
SESSION_COOKIE = "atrium_session"  # atrium.web.deps.SESSION_COOKIE (the bench may not import the web layer)
CHUNK = 100


def server_hash(db: Database, base_url: str, password: str) -> str:
    """Register the sign-in clients, create one customer and sign them in through the server, which rehashes
    the password with *its* argon2 parameters if the stored hash has others; return the stored hash. Every
    bench customer gets this hash: one argon2 run at set-up, and the parameters are the server's own."""
    from atrium.config import get_settings
    from atrium.identity import passwords
    from atrium.identity import service as identity
    from atrium.identity.oidc import service as oidc

    def prepare(session) -> None:  # type: ignore[no-untyped-def]
        oidc.ensure_default_clients(session, get_settings().public_url)
        identity.create_customer(session, username=PRIME, password_hash=passwords.hash_password(password),
                                 display_name="Bench customer (hash)", locale="en")

    db.run(prepare)
    r = httpx.post(base_url + "/api/v1/auth/login", json={"username": PRIME, "password": password},
                   timeout=60.0)
    if r.status_code != 200 or r.json().get("status") != "signed-in":
        raise RuntimeError(f"the bench customer could not sign in: {r.status_code} {r.text[:200]}")
    with db.read_session() as session:
        customer = identity.find_customer_by_username(session, PRIME)
        assert customer is not None
        return customer.password_hash


def seed_customers(db: Database, prefix: str, hashed: str, *, block: int, count: int = 0,
                   keys: list[DeviceKey] | None = None) -> list[BenchCustomer]:
    """`count` customers (or one per key), each with a phone (+86 1<block><8 digits>) and the given password
    hash; with `keys`, each key is bound to its customer as a device and trusted (as after a second
    factor)."""
    from atrium.identity import service as identity
    from atrium.identity.devices import service as devices

    n = len(keys) if keys is not None else count

    def make(session, lo: int, hi: int) -> list[BenchCustomer]:  # type: ignore[no-untyped-def]
        made = []
        for i in range(lo, hi):
            username, phone = f"{prefix}-{i:05d}", f"+861{block:02d}{i:08d}"
            customer = identity.create_customer(session, username=username, password_hash=hashed,
                                                display_name=f"Bench customer {i}", locale="en", phone=phone)
            if keys is None:
                made.append(BenchCustomer(customer.id, username, phone))
                continue
            device = devices.register_device(session, customer_id=customer.id, public_key=keys[i].public_key,
                                             name="Bench phone", user_agent="atrium-bench")
            devices.mark_trusted(session, device.id)
            made.append(BenchCustomer(customer.id, username, phone, device.id, keys[i]))
        return made

    out: list[BenchCustomer] = []
    for lo in range(0, n, CHUNK):
        out += db.run(lambda s, lo=lo: make(s, lo, min(n, lo + CHUNK)))
    return out


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def first_refresh_token(db: Database, http: httpx.Client, customer: BenchCustomer) -> str:
    """The app's sign-in to the provider: a level-2 session for the customer's trusted device (opened through
    the sessions service, as the sign-in does), then authorization code + PKCE for "atrium-mobile" with
    offline_access; returns the first refresh token of the chain."""
    from atrium.identity import sessions
    from atrium.identity.oidc.clients import MOBILE_REDIRECT

    token, _ = db.run(lambda s: sessions.open_session(s, customer_id=customer.customer_id, amr=["pwd", "hwk"],
                                                     device_id=customer.device_id, client="mobile"))
    verifier, challenge = _pkce()
    state = secrets.token_hex(8)
    params = {"response_type": "code", "client_id": MOBILE_CLIENT, "redirect_uri": MOBILE_REDIRECT,
              "scope": "openid offline_access", "state": state, "nonce": secrets.token_hex(8),
              "code_challenge": challenge, "code_challenge_method": "S256"}
    r = http.get("/oauth2/authorize", params=params, headers={"Cookie": f"{SESSION_COOKIE}={token}"},
                 follow_redirects=False)
    answer = {k: v[0] for k, v in parse_qs(urlsplit(r.headers.get("location", "")).query).items()}
    if r.status_code != 303 or answer.get("state") != state or "code" not in answer:
        raise RuntimeError(f"authorize: {r.status_code} {r.headers.get('location', r.text[:200])}")
    r = http.post("/oauth2/token", data={"grant_type": "authorization_code", "code": answer["code"],
                                         "redirect_uri": MOBILE_REDIRECT, "code_verifier": verifier,
                                         "client_id": MOBILE_CLIENT})
    if r.status_code != 200 or "refresh_token" not in r.json():
        raise RuntimeError(f"token: {r.status_code} {r.text[:200]}")
    return str(r.json()["refresh_token"])
