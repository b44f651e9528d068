"""Signing in with a passkey: a verified, user-verified assertion opens a level-2 session (amr
["passkey"]) — no password, no second factor. The lockout still applies: a locked customer is refused."""

from __future__ import annotations

from sqlalchemy.orm import Session

from atrium.identity import sessions
from atrium.identity.login import Client, SignedIn
from atrium.identity.models import Customer, LoginEvent
from atrium.identity.passkeys import service
from atrium.identity.passkeys.errors import InvalidPasskey
from atrium.identity.protection import lockout
from atrium.kit.ids import new_id

METHOD = "passkey"


def _event(session: Session, customer_id: str | None, outcome: str, client: Client) -> None:
    session.add(LoginEvent(
        id=new_id("lgn"), subject_kind="customer", customer_id=customer_id, outcome=outcome, method=METHOD,
        ip=client.ip[:64], user_agent=client.user_agent[:200],
    ))


def with_passkey(session: Session, *, credential: dict, rp_id: str, origin: str, client: Client) -> SignedIn:  # type: ignore[type-arg]
    customer_id = service.authenticate(session, credential=credential, rp_id=rp_id, origin=origin)
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise InvalidPasskey("the customer is unknown")
    lockout.ensure_can_sign_in(customer)
    lockout.record_success(session, customer.id)
    token, principal = sessions.open_session(
        session, customer_id=customer.id, amr=[METHOD], ip=client.ip, user_agent=client.user_agent,
        client=client.client,
    )
    _event(session, customer.id, "success", client)
    session.flush()
    return SignedIn(token=token, principal=principal)


def record_failure(session: Session, *, client: Client) -> None:
    """A refused passkey sign-in, for the security record (own transaction: the attempt rolled back). The
    customer is not named: an unverified assertion proves nothing about whose it is."""
    _event(session, None, "failure", client)
