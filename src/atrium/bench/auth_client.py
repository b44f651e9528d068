"""The client side of `atrium bench auth`: what a phone does to sign in and to refresh its tokens.

- `Connection`: the minimal HTTP/1.1 keep-alive client of `bench.http1`, plus form bodies (the token
  endpoint takes `application/x-www-form-urlencoded`, RFC 6749 §4.1.3) and a source address of its own on
  loopback (127.0.0.0/8 is all local on Linux): each connection comes from its own address, as sign-ins from
  many phones do, so the per-address rate-limit buckets are many small ones, not one hot row.
- `DeviceKey`: a bound device's P-256 key; it signs the server's sign-in nonce as WebCrypto does (raw r‖s).
- The flows, one coroutine each: the trusted-device sign-in (one request: password + device proof), the
  two-step sign-in (password, then the SMS code read from the notify outbox), the refresh-token rotation.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from atrium.bench.http1 import Http1Connection, Reply

MOBILE_CLIENT = "atrium-mobile"  # the public client of the provider (atrium.identity.oidc.clients)
# A six-digit code, not part of the bank's longer reference code (as tests/auth_support.py reads it).
_CODE = re.compile(r"(?<![0-9A-Z-])([0-9]{6})(?![0-9])")


class FlowFailed(Exception):
    """A step of a flow was answered with something other than what a working server answers."""


def source_address(i: int) -> str:
    """Connection i's loopback address: 127.0.10.1, 127.0.10.2, … (250 per /24)."""
    return f"127.0.{10 + i // 250}.{1 + i % 250}"


class Connection(Http1Connection):
    """One keep-alive connection from its own loopback address; JSON or form bodies."""

    def __init__(self, host: str, port: int, source: str) -> None:
        super().__init__(host, port)
        self.source = source

    async def _ensure_open(self) -> None:
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(
                self.host, self.port, local_addr=(self.source, 0)
            )

    async def request(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                      json_body: Any = None) -> Reply:
        await self._ensure_open()
        return await super().request(method, path, headers=headers, json_body=json_body)

    async def post_form(self, path: str, form: dict[str, str]) -> Reply:
        await self._ensure_open()
        assert self._writer is not None
        body = urlencode(form).encode()
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: application/json",
                "Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        self._writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        try:
            return await self._read_reply()
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            raise


@dataclass(frozen=True)
class DeviceKey:
    private: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> DeviceKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @property
    def public_key(self) -> str:
        """base64 SubjectPublicKeyInfo, as the app sends it when binding."""
        spki = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(spki).decode()

    def sign(self, message: str) -> str:
        r, s = decode_dss_signature(self.private.sign(message.encode(), ec.ECDSA(hashes.SHA256())))
        return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()


@dataclass(frozen=True)
class BenchCustomer:
    customer_id: str
    username: str
    phone: str
    device_id: str | None = None
    key: DeviceKey | None = None


def _expect(reply: Reply, status: int, what: str) -> dict[str, Any]:
    if reply.status_code != status:
        raise FlowFailed(f"{what}: {reply.status_code} {reply.text[:200]}")
    return reply.json()


def _signed_in(body: dict[str, Any], what: str) -> str:
    if body.get("status") != "signed-in" or body.get("loa") != 2 or not body.get("token"):
        raise FlowFailed(f"{what}: not signed in at level 2: {str(body)[:200]}")
    return str(body["token"])


async def device_nonce(conn: Connection) -> str:
    return str(_expect(await conn.request("GET", "/api/v1/auth/device-nonce"), 200, "device-nonce")["nonce"])


async def trusted_device_sign_in(conn: Connection, customer: BenchCustomer, password: str, nonce: str) -> str:
    """POST /auth/login with the password and the device's signature over `nonce`: one request, level 2."""
    assert customer.key is not None and customer.device_id is not None
    proof = {"device_id": customer.device_id, "nonce": nonce, "signature": customer.key.sign(nonce)}
    body = {"username": customer.username, "password": password, "device": proof}
    reply = await conn.request("POST", "/api/v1/auth/login", json_body=body)
    return _signed_in(_expect(reply, 200, "login"), "login")


async def two_step_sign_in(
    conn: Connection, customer: BenchCustomer, password: str, read_outbox: Callable[[str], str | None]
) -> str:
    """Password (→ ticket), text the code, read it from the outbox (`read_outbox(phone)` → newest SMS body,
    run in a thread: it is a database read), then the code (→ level 2)."""
    first = _expect(await conn.request("POST", "/api/v1/auth/login",
                                       json_body={"username": customer.username, "password": password}),
                    200, "login")
    if first.get("status") != "second-factor-required":
        raise FlowFailed(f"login: expected a second factor: {str(first)[:200]}")
    ticket = first["ticket"]
    _expect(await conn.request("POST", "/api/v1/auth/login/second-factor/sms", json_body={"ticket": ticket}),
            200, "second-factor/sms")
    text = await asyncio.to_thread(read_outbox, customer.phone)
    match = _CODE.search(text or "")
    if match is None:
        raise FlowFailed(f"no code in the newest SMS to {customer.phone[:6]}…")
    done = await conn.request("POST", "/api/v1/auth/login/second-factor",
                              json_body={"ticket": ticket, "method": "sms", "code": match.group(1)})
    return _signed_in(_expect(done, 200, "second-factor"), "second-factor")


async def refresh(conn: Connection, refresh_token: str) -> str:
    """One rotation: the refresh_token grant of the public mobile client; returns the new refresh token."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": MOBILE_CLIENT}
    reply = await conn.post_form("/oauth2/token", form)
    body = _expect(reply, 200, "refresh")
    if not body.get("access_token") or not body.get("refresh_token"):
        raise FlowFailed(f"refresh: no tokens in {sorted(body)}")
    return str(body["refresh_token"])
