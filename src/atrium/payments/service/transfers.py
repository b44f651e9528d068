"""Make a transfer; read and list them.

`transfer` is the use case of the API and the app; `execute` is the reusable core (QR pay, scheduled and
standing orders call it with their own `ResolvedDestination`, method and channel). Both run in the
caller's transaction and only flush: the money moves, the Transfer row and its outbox event appear
together, or nothing happens at all. Both act on the payment's risk decision (`service/risk.py`): a
declined transfer is a row with nothing moved, a held one has its money on hold until an analyst decides
(`service/review.py`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atrium.accounts import service as accounts
from atrium.accounts.schemas import DepositAccountRead
from atrium.config import get_settings
from atrium.events import outbox
from atrium.events.catalogue import TransferCompleted, TransferHeld, TransferInitiated
from atrium.identity.devices import service as devices
from atrium.identity.principal import Principal
from atrium.kit import clock
from atrium.kit.errors import IdempotencyConflict
from atrium.kit.hashing import fingerprint
from atrium.kit.ids import new_id
from atrium.kit.money import CURRENCY_EXPONENT
from atrium.ledger import errors as ledger_errors
from atrium.ledger import service as ledger
from atrium.limits import service as limits
from atrium.payments import domain
from atrium.payments.domain import RuleBroken, ledger_key
from atrium.payments.errors import InsufficientFunds, InvalidPaymentDetails
from atrium.payments.models import Transfer
from atrium.payments.schemas import (
    Counterparty,
    Destination,
    RiskReasonRead,
    TransactionSignatureIn,
    TransferRead,
)
from atrium.payments.service import risk as payment_risk
from atrium.payments.service.authority import authorize, verify_signature
from atrium.payments.service.destinations import ResolvedDestination, check_source, resolve


def clearing_account_code(currency: str) -> str:
    return f"bank:clearing:{currency}"


def settlement_account_code(currency: str) -> str:
    return f"bank:settlement:{currency}"


def to_read(t: Transfer) -> TransferRead:
    return TransferRead(
        id=t.id, kind=t.kind, status=t.status, channel=t.channel, from_account_id=t.from_account_id,
        to=Counterparty(
            type=t.to_type,
            account_id=t.to_account_id if t.kind == "own" else None,
            payee_id=t.to_payee_id,
            bank_code=t.to_bank_code,
            masked_account_number=domain.mask_account_number(t.to_account_number or "") or None,
            name=t.to_name,
            display=t.to_display,
        ),
        amount_minor=t.amount_minor, currency=t.currency, memo=t.memo, failure_code=t.failure_code,
        failure_reason=t.failure_reason, journal_id=t.journal_id, hold_id=t.hold_id, created_at=t.created_at,
        settled_at=t.settled_at,
        risk_reasons=[RiskReasonRead.model_validate(r) for r in t.risk_reasons or ()],
    )


_BY_KEY = select(Transfer).where(
    Transfer.customer_id == bindparam("customer_id"), Transfer.idempotency_key == bindparam("key")
)  # built once: every payment asks it


def _by_key(session: Session, customer_id: str, idempotency_key: str) -> Transfer | None:
    return session.scalar(_BY_KEY, {"customer_id": customer_id, "key": idempotency_key})


def _replay(existing: Transfer, request_hash: str) -> TransferRead:
    if existing.request_hash != request_hash:
        raise IdempotencyConflict(
            "this idempotency key was already used for a different transfer", transfer_id=existing.id
        )
    return to_read(existing)


def request_fingerprint(**request: Any) -> str:
    """What makes two transfer requests "the same" for idempotency."""
    return fingerprint(request)


def transfer_fingerprint(
    *, from_account_id: str, to: Destination, amount_minor: int, currency: str, memo: str, channel: str
) -> str:
    return request_fingerprint(
        from_account_id=from_account_id, to=to.model_dump(mode="json"), amount_minor=amount_minor,
        currency=currency, memo=memo, channel=channel,
    )


def find_by_key(
    session: Session, customer_id: str, idempotency_key: str, request_hash: str
) -> TransferRead | None:
    """The transfer this (customer, key) already made, if any (409 when it was for another request)."""
    existing = _by_key(session, customer_id, idempotency_key)
    return _replay(existing, request_hash) if existing is not None else None


def transfer(
    session: Session, *, customer_id: str, idempotency_key: str, from_account_id: str, to: Destination,
    amount_minor: int, currency: str, memo: str = "", channel: str, principal: Principal | None = None,
    step_up: str | None = None, signature: TransactionSignatureIn | None = None, ip: str | None = None,
) -> TransferRead:
    """Move money from the customer's account to `to`. Same key and request → the first transfer again;
    same key, other request → 409. See the package docstring for the routes and their invariants.

    `principal`: the signed-in customer asking (the API, the app). Their session's assurance is checked
    (`authority.authorize`: step-up for large transfers, cooling-off caps for a new device). None: the
    bank's own scheduled execution of an order the customer authorised when creating it.

    `signature`: a bound device's signature over payee, amount, currency, time and nonce; verified before
    any money moves (a mismatch refuses the transfer) and kept with it, so the transfer is non-repudiable.

    The risk decision comes first (`service/risk.py`): deny → a `declined` transfer (nothing moved; the
    edge answers 403 `payment-declined`); challenge → the step-up, with its reasons; review → `held`.
    `ip`: where the request came from, for the decision."""
    check_idempotency_key(idempotency_key)
    request_hash = transfer_fingerprint(from_account_id=from_account_id, to=to, amount_minor=amount_minor,
                                        currency=currency, memo=memo, channel=channel)
    existing = _by_key(session, customer_id, idempotency_key)
    if existing is not None:
        return _replay(existing, request_hash)
    check_amount_and_currency(amount_minor, currency)
    source = accounts.get_owned(session, customer_id=customer_id, account_id=from_account_id)
    check_source(source, currency)
    destination = resolve(session, customer_id=customer_id, to=to, source=source, currency=currency)
    verdict = payment_risk.screen(
        session, customer_id=customer_id, idempotency_key=idempotency_key, destination=destination,
        from_account_id=source.id, amount_minor=amount_minor, currency=currency, principal=principal, ip=ip,
    )
    cooling_off = False
    if verdict.outcome != "deny":  # a declined payment asks for no factor: nothing will move
        cooling_off = authorize(session, principal, destination=destination, amount_minor=amount_minor,
                                currency=currency, step_up=step_up, opinion=payment_risk.opinion(verdict))
    signature_id = None
    if signature is not None:
        signature_id = verify_signature(session, customer_id=customer_id, to=to, amount_minor=amount_minor,
                                        currency=currency, signed=signature)
    result = execute(
        session, customer_id=customer_id, idempotency_key=idempotency_key, request_hash=request_hash,
        source=source, destination=destination, amount_minor=amount_minor, currency=currency, memo=memo,
        channel=channel, cooling_off=cooling_off, risk=verdict,
    )
    if signature_id is not None:
        devices.attach(session, signature_id, result.id)
    return result


def check_idempotency_key(key: str) -> None:
    if not isinstance(key, str) or not 1 <= len(key) <= 100 or not key.isprintable():
        raise InvalidPaymentDetails("an idempotency key is 1 to 100 printable characters")


def check_amount_and_currency(amount_minor: int, currency: str) -> None:
    try:
        domain.check_amount(amount_minor)
    except RuleBroken as exc:
        raise InvalidPaymentDetails(str(exc), amount_minor=str(amount_minor)) from None
    if currency not in CURRENCY_EXPONENT:
        raise InvalidPaymentDetails(f"unsupported currency {currency!r}", currency=currency)


def execute(
    session: Session, *, customer_id: str, idempotency_key: str, request_hash: str,
    source: DepositAccountRead, destination: ResolvedDestination, amount_minor: int, currency: str, memo: str,
    channel: str, method: str | None = None, ledger_kind: str | None = None, cooling_off: bool = False,
    risk: payment_risk.Verdict | None = None,
) -> TransferRead:
    """The core every payment kind shares: idempotency, limits, then the ledger, the row and the event.

    The caller has checked that `source` belongs to `customer_id` and that `destination` can receive
    `currency`. `method` (limits) and `ledger_kind` default from `destination.kind`. `risk`: the decision
    the caller already had (and acted on: a challenge answered); None screens the payment here, with
    nobody present to challenge (a standing order): a challenge becomes a review.
    """
    check_idempotency_key(idempotency_key)
    check_amount_and_currency(amount_minor, currency)
    check_source(source, currency)
    try:
        memo = domain.normalise_memo(memo)
    except RuleBroken as exc:
        raise InvalidPaymentDetails(str(exc)) from None
    method = method or domain.METHOD_FOR_KIND[destination.kind]
    ledger_kind = ledger_kind or domain.LEDGER_KIND[destination.kind]
    if risk is None:
        existing = _by_key(session, customer_id, idempotency_key)
        if existing is not None:
            return _replay(existing, request_hash)  # decided (and maybe declined) before: no new decision
        risk = payment_risk.screen(
            session, customer_id=customer_id, idempotency_key=idempotency_key, destination=destination,
            from_account_id=source.id, amount_minor=amount_minor, currency=currency,
        )
    # One savepoint around the whole payment: a refusal (limits, funds) undoes the row and the limit usage
    # even for a caller that catches the error and carries on in the same transaction (a standing order).
    with session.begin_nested():
        return _execute(
            session, customer_id=customer_id, idempotency_key=idempotency_key, request_hash=request_hash,
            source=source, destination=destination, amount_minor=amount_minor, currency=currency, memo=memo,
            channel=channel, method=method, ledger_kind=ledger_kind, cooling_off=cooling_off, risk=risk,
        )


def _status(kind: str, verdict: payment_risk.Verdict) -> str:
    if verdict.outcome == "deny":
        return "cancelled" if verdict.by_customer else "declined"
    if verdict.outcome == "review":
        return "held"
    return "pending" if kind == "interbank" else "completed"


def _execute(
    session: Session, *, customer_id: str, idempotency_key: str, request_hash: str,
    source: DepositAccountRead, destination: ResolvedDestination, amount_minor: int, currency: str, memo: str,
    channel: str, method: str, ledger_kind: str, cooling_off: bool, risk: payment_risk.Verdict,
) -> TransferRead:
    now = clock.now()
    status = _status(destination.kind, risk)
    row = Transfer(
        id=new_id("trf"), customer_id=customer_id, kind=destination.kind, method=method, channel=channel,
        status=status, risk_decision_id=risk.decision_id, risk_reasons=risk.stored_reasons(),
        failure_code=risk.failure_code if status in ("declined", "cancelled") else None,
        failure_reason=risk.failure_reason[:200] if status in ("declined", "cancelled") else None,
        from_account_id=source.id, from_ledger_account_id=source.ledger_account_id,
        to_type=destination.to_type, to_account_id=destination.account_id,
        to_ledger_account_id=destination.ledger_account_id, to_payee_id=destination.payee_id,
        to_bank_code=destination.bank_code, to_account_number=destination.account_number,
        to_name=destination.name, to_display=destination.display[:160], amount_minor=amount_minor,
        currency=currency, memo=memo, idempotency_key=idempotency_key, request_hash=request_hash,
        created_at=now, updated_at=now, settled_at=now if status in domain.FINAL_STATUSES else None,
    )
    try:
        # The unique (customer, key) index is the last word on duplicates: a concurrent request with the
        # same key waits here for the first to commit, then replays it instead of paying twice.
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = _by_key(session, customer_id, idempotency_key)
        if existing is None:
            raise
        return _replay(existing, request_hash)
    if status in ("declined", "cancelled"):
        # Refused before anything moved: no limits used, no ledger, no payment event. The row keeps the
        # refusal and its reasons, so a retry answers the same and the customer sees it in the history.
        session.flush()
        payment_risk.link(session, risk, row.id)
        return to_read(row)

    # Lock the deposit accounts (ascending id) so a concurrent close_account cannot slip in between our
    # checks and the posting; it re-checks both are still open. Then limits, then the ledger.
    accounts.lock_open_ids(session, [a for a in (source.id, destination.account_id) if a is not None])
    limits.check_and_reserve(
        session, customer_id=customer_id, channel=channel, method=method, amount_minor=amount_minor,
        currency=currency, at=now, cooling_off=cooling_off,
    )
    description = memo or "Transfer"
    metadata = {"transfer_id": row.id, "from_account_id": source.id}
    try:
        if destination.kind == "interbank":
            _hold_for_rail(session, row, source, description, metadata, ledger_kind)
        elif status == "held":
            _hold_for_review(session, row, destination, description, metadata, ledger_kind)
        else:
            assert destination.ledger_account_id is not None
            journal = ledger.post_transfer(
                session, idempotency_key=ledger_key(row.id, "post"),
                debit_account_id=source.ledger_account_id, credit_account_id=destination.ledger_account_id,
                amount_minor=amount_minor, currency=currency,
                kind=ledger_kind, description=description,
                metadata=metadata | {"to_account_id": destination.account_id},
            )
            row.journal_id = journal.id
    except ledger_errors.InsufficientFunds as exc:
        available = exc.extra.get("available_minor")
        if available is None:
            available = ledger.get_account(session, source.ledger_account_id).available_minor
        raise InsufficientFunds(
            f"the account has {available} minor units of {currency} available;"
            f" the transfer needs {amount_minor}",
            account_id=source.id, available_minor=available, currency=currency, amount_minor=amount_minor,
        ) from None
    session.flush()
    payment_risk.link(session, risk, row.id)
    if status == "held":
        outbox.record(session, TransferHeld(
            transfer_id=row.id, kind=row.kind, from_account_id=row.from_account_id, amount_minor=amount_minor,
            currency=currency, customer_id=customer_id,
        ))
    elif row.kind == "interbank":
        outbox.record(session, TransferInitiated(
            transfer_id=row.id, from_account_id=row.from_account_id, amount_minor=amount_minor,
            currency=currency, customer_id=customer_id,
        ))
    else:
        outbox.record(session, TransferCompleted(
            transfer_id=row.id, kind=row.kind, from_account_id=row.from_account_id,
            to_account_id=row.to_account_id, amount_minor=amount_minor, currency=currency,
            customer_id=customer_id,
        ))
    return to_read(row)


def _hold_for_rail(
    session: Session, row: Transfer, source: DepositAccountRead, description: str, metadata: dict[str, Any],
    ledger_kind: str,
) -> None:
    """Reserve the money against the bank's clearing account until the rail settles or returns it."""
    clearing = ledger.get_or_create_internal(
        session, code=clearing_account_code(row.currency), name=f"Interbank clearing {row.currency}",
        type="liability", currency=row.currency,
    )
    hold = ledger.place_hold(
        session, idempotency_key=ledger_key(row.id, "hold"), debit_account_id=source.ledger_account_id,
        credit_account_id=clearing.id, amount_minor=row.amount_minor, currency=row.currency,
        expires_at=row.created_at + timedelta(seconds=get_settings().ledger.hold_ttl_s), kind=ledger_kind,
        description=description, metadata=metadata | {"bank_code": row.to_bank_code},
    )
    row.hold_id = hold.id


def _hold_for_review(
    session: Session, row: Transfer, destination: ResolvedDestination, description: str,
    metadata: dict[str, Any], ledger_kind: str,
) -> None:
    """Reserve the money for the payee while an analyst reviews the payment: releasing posts the hold,
    confirming fraud voids it (`service/review.py`)."""
    assert destination.ledger_account_id is not None
    hold = ledger.place_hold(
        session, idempotency_key=ledger_key(row.id, "hold"), debit_account_id=row.from_ledger_account_id,
        credit_account_id=destination.ledger_account_id, amount_minor=row.amount_minor, currency=row.currency,
        expires_at=row.created_at + timedelta(seconds=get_settings().ledger.hold_ttl_s), kind=ledger_kind,
        description=description, metadata=metadata | {"to_account_id": destination.account_id},
    )
    row.hold_id = hold.id
