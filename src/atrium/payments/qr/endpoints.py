"""/api/v1 QR pay: a customer parses and pays a scanned code; staff issue codes for a merchant and rotate
its signing key. Parse → call the service → return."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from atrium.db import idempotency
from atrium.payments import service as payments
from atrium.payments.merchants.endpoints import MerchantManager
from atrium.payments.qr import service
from atrium.payments.qr.schemas import QrDetails, QrIssue, QrIssued, QrKeyRead, QrParse, QrPay
from atrium.payments.schemas import TransferRead
from atrium.web.deps import (
    CurrentCustomer,
    IdempotencyKey,
    ReadOnlySession,
    StepUpToken,
    WriteSession,
    client_info,
)

router = APIRouter(tags=["qr"])

# The JSON API is its own limits channel, as for transfers; the mobile app calls the service with "mobile".
CHANNEL = "api"
MerchantId = Annotated[str, Path(min_length=1, max_length=40)]


def _replayed(stored: idempotency.StoredResponse) -> JSONResponse:
    return JSONResponse(stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"})


def _remember(
    session: Session, scope: str, key: str, request: Any, body: Any, status: int = 201
) -> JSONResponse:
    """Store the answer with the write; if a concurrent twin stored first, answer what it answered."""
    try:
        with session.begin_nested():
            idempotency.store(session, scope, key, request, status, body)
    except idempotency.IdempotencyKeyInFlight:
        stored = idempotency.lookup(session, scope, key, request)
        if stored is None:
            raise
        return _replayed(stored)
    return JSONResponse(body, status_code=status)


@router.post("/qr/parse", response_model=QrDetails,
             responses={422: {"description": "Malformed, altered, revoked or expired code; merchant closed"}})
def parse_qr(body: QrParse, customer: CurrentCustomer, session: ReadOnlySession) -> QrDetails:
    """Verify a scanned code and show who is paid how much, before the customer confirms."""
    return service.parse_qr(session, body.payload)


@router.post("/qr/pay", status_code=201, response_model=TransferRead,
             responses={202: {"model": TransferRead, "description": "Held for review by the security checks"},
                        403: {"description": "`payment-declined` by the security checks; nothing moved"},
                        409: {"description": "The code was already paid, or the Idempotency-Key was reused"},
                        422: {"description": "Refused: the code, funds, limits, the QR switch, currency"}})
def pay_qr(
    request: Request, body: QrPay, customer: CurrentCustomer, session: WriteSession, key: IdempotencyKey,
    step_up: StepUpToken = None,
) -> Response:
    """Pay a scanned code from one of your accounts. A code with an amount is paid exactly that amount,
    once; for a code without one, give `amount_minor`. The security checks may ask for a step-up (401,
    with `reasons`), hold the payment for review (202, status `held`) or decline it (403
    `payment-declined`), as for transfers."""
    scope = f"customer:{customer.id}:qr-pay"
    request_body = body.model_dump(mode="json")
    stored = idempotency.lookup(session, scope, key, request_body)
    if stored is not None:
        return _replayed(stored)
    result = service.pay_qr(
        session, customer_id=customer.id, idempotency_key=key, from_account_id=body.from_account_id,
        payload=body.payload, amount_minor=body.amount_minor, memo=body.memo, channel=CHANNEL,
        principal=customer, step_up=step_up, ip=client_info(request).ip,
    )
    if result.status == "declined":
        session.commit()  # the refusal and its decision are kept; a retry replays the declined payment
        raise payments.declined_error(result)
    status = 202 if result.status == "held" else 201
    return _remember(session, scope, key, request_body, result.model_dump(mode="json"), status)


@router.post("/merchants/{merchant_id}/qr", status_code=201, response_model=QrIssued)
def issue_qr(
    merchant_id: MerchantId, body: QrIssue, staff: MerchantManager, session: WriteSession
) -> QrIssued:
    """Staff (operators): a signed code for one of the merchant's orders, or an open-amount code."""
    return service.issue_qr(
        session, merchant_id=merchant_id, currency=body.currency, reference=body.reference,
        amount_minor=body.amount_minor, ttl=timedelta(seconds=body.ttl_s),
    )


@router.post("/merchants/{merchant_id}/qr-key", status_code=201, response_model=QrKeyRead)
def rotate_key(merchant_id: MerchantId, staff: MerchantManager, session: WriteSession) -> QrKeyRead:
    """Staff (operators): retire the merchant's QR signing key(s) and make a new one. Every code signed
    before stops working — for a leaked key or a stolen roll of stickers."""
    return service.rotate_key(session, merchant_id=merchant_id)
