"""May this signed-in customer make this payment now? The seam between payments and identity.

- Own transfers (between the customer's own accounts) never leave them: a signed-in session suffices.
- Every other payment needs a level-2 session ("transfer"); at or above the large-transfer threshold it
  needs a level-3 grant bound to the payee, amount and currency ("transfer.large") — and the payment's
  risk decision (`service/risk.py`) may demand such a grant for any amount (a challenge, with reasons).
- A payment from a device still in its cooling-off period is held to the new-device caps (limits).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from atrium.identity import stepup
from atrium.identity.devices import service as devices
from atrium.identity.principal import Principal
from atrium.kit.money import exponent
from atrium.payments.schemas import (
    Destination,
    ExternalDestination,
    OwnDestination,
    PayeeDestination,
    TransactionSignatureIn,
)
from atrium.payments.service.destinations import ResolvedDestination


def signing_payee(to: Destination) -> str:
    """The `payee` element a device signs for a transfer to `to`: the destination as the customer named
    it."""
    if isinstance(to, OwnDestination):
        return f"own:{to.account_id}"
    if isinstance(to, PayeeDestination):
        return f"payee:{to.payee_id}"
    number = "".join(to.account_number.split())
    if isinstance(to, ExternalDestination):
        return f"external:{to.bank_code}:{number}"
    return f"atrium:{number}"


def verify_signature(
    session: Session, *, customer_id: str, to: Destination, amount_minor: int, currency: str,
    signed: TransactionSignatureIn,
) -> str:
    """Check a device's signature over this transfer's elements (TamperedSignature 422 when any differs,
    the device is not the customer's, the time is stale or the nonce used); returns the kept signature's
    id."""
    elements = {"payee": signing_payee(to), "amount_minor": str(amount_minor), "currency": currency,
                "time": signed.time, "nonce": signed.nonce}
    return devices.verify_transaction(session, customer_id=customer_id, device_id=signed.device_id,
                                      elements=elements, signature=signed.signature).id


def payee_key(destination: ResolvedDestination) -> str:
    """Who receives the money, as the step-up grant binds it."""
    if destination.account_number:
        return f"{destination.bank_code or ''}:{destination.account_number}"
    return f"account:{destination.account_id or destination.display}"


def summary(destination: ResolvedDestination, amount_minor: int, currency: str) -> str:
    """What the customer confirms, in the SMS and on the challenge page: "CNY 6,000.00 → 张三 …1234"."""
    amount = Decimal(amount_minor).scaleb(-exponent(currency))
    number = destination.account_number or ""
    who = (destination.name or destination.display or "")[:40]
    return f"{currency} {amount:,.{exponent(currency)}f} → {who}{' …' + number[-4:] if number else ''}"


def authorize(
    session: Session,
    principal: Principal | None,
    *,
    destination: ResolvedDestination,
    amount_minor: int,
    currency: str,
    step_up: str | None,
    opinion: stepup.RiskOpinion | None = None,
) -> bool:
    """Raise StepUpRequired when the session's assurance is short; return whether the cooling-off caps
    apply. `principal` None: the bank executing an order the customer authorised earlier. `opinion`: the
    payment's risk decision asking for more (a challenge, with its reasons)."""
    if principal is None or destination.kind == "own":
        return False
    action = "transfer.large" if stepup.is_large_transfer(amount_minor, currency) else "transfer"
    stepup.require(
        session,
        principal,
        action=action,
        token=step_up,
        elements={"payee": payee_key(destination), "amount_minor": str(amount_minor), "currency": currency},
        summary=summary(destination, amount_minor, currency),
        opinion=opinion,
    )
    return principal.device_id is not None and devices.cooling_off(session, principal.device_id)
