"""/api/v1 transfers, payees and banks: parse → call the service → return. The customer is always the
signed-in one; every id in a path or body is checked against them (someone else's → 404)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from atrium.db import idempotency
from atrium.payments import service
from atrium.payments.schemas import (
    BankRead,
    PayeeCreate,
    PayeeRead,
    PayeeUpdate,
    TransferCreate,
    TransferPage,
    TransferRead,
)
from atrium.web.deps import (
    CurrentCustomer,
    IdempotencyKey,
    ReadOnlySession,
    StepUpToken,
    WriteSession,
    client_info,
)

router = APIRouter(tags=["payments"])

# The JSON API is its own limits channel (the bank gives it lower limits than the app); the mobile web
# app calls the service with channel "mobile".
CHANNEL = "api"


def _replay(stored: idempotency.StoredResponse) -> JSONResponse:
    return JSONResponse(stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"})


def _remember(
    session: Session, scope: str, key: str, request: Any, status: int, body: Any
) -> JSONResponse | None:
    """Store the response with the write; if a concurrent duplicate stored first, answer with its response."""
    try:
        with session.begin_nested():
            idempotency.store(session, scope, key, request, status, body)
    except idempotency.IdempotencyKeyInFlight:
        # The service already replayed the other request's transfer (nothing was paid twice); answer
        # with what that request answered.
        stored = idempotency.lookup(session, scope, key, request)
        if stored is None:
            raise
        return _replay(stored)
    return None


def declined(session: Session, result: TransferRead) -> None:
    """Keep the declined transfer and its risk decision (commit: the refusal is a record, and a retry must
    answer the same), then answer 403 `payment-declined` with its reasons."""
    session.commit()
    raise service.declined_error(result)


@router.post("/transfers", status_code=201, response_model=TransferRead,
             responses={202: {"model": TransferRead,
                              "description": "Held for review by the security checks (status `held`)"},
                        403: {"description": "`payment-declined` by the security checks, with reason codes "
                                             "(`reasons`) and texts (`messages`); nothing moved"},
                        409: {"description": "Idempotency-Key reused with another request"},
                        422: {"description": "Refused: funds, limits, currency, account status, details"}})
def create_transfer(
    request: Request, body: TransferCreate, customer: CurrentCustomer, session: WriteSession,
    key: IdempotencyKey, step_up: StepUpToken = None,
) -> Response:
    """Transfer money from one of your accounts. Own and Atrium transfers complete at once; transfers to
    other banks are `pending` until the clearing rail settles or returns them. A session below level 2,
    or a transfer at or above the large-transfer threshold, answers 401 `step-up-required` with a challenge
    (RFC 9470); complete it (POST /auth/step-up) and send the same request again with the challenge in
    `Atrium-Step-Up`.

    Every transfer to someone else passes the bank's security checks first: they may ask for the same
    step-up for any amount (the 401 then carries `reasons`, the reason codes), hold the transfer for an
    analyst's review (202, status `held`: the money is set aside; it completes or is cancelled later), or
    decline it (403 `payment-declined`). The same Idempotency-Key always gets the first answer."""
    scope = f"customer:{customer.id}:transfers"
    request_body = body.model_dump(mode="json")
    stored = idempotency.lookup(session, scope, key, request_body)
    if stored is not None:
        return _replay(stored)
    result = service.transfer(
        session, customer_id=customer.id, idempotency_key=key, from_account_id=body.from_account_id,
        to=body.to, amount_minor=body.amount_minor, currency=body.currency, memo=body.memo, channel=CHANNEL,
        principal=customer, step_up=step_up, signature=body.signature, ip=client_info(request).ip,
    )
    if result.status == "declined":
        declined(session, result)
    payload = result.model_dump(mode="json")
    status = 202 if result.status == "held" else 201
    stored_first = _remember(session, scope, key, request_body, status, payload)
    return stored_first or JSONResponse(payload, status_code=status)


@router.get("/transfers", response_model=TransferPage)
def list_transfers(
    customer: CurrentCustomer,
    session: ReadOnlySession,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    account_id: Annotated[str | None, Query(max_length=40)] = None,
    status: Literal[
        "pending", "completed", "settled", "returned", "failed", "held", "declined", "cancelled"
    ] | None = None,
) -> TransferPage:
    return service.list_transfers(
        session, customer_id=customer.id, account_id=account_id, status=status, cursor=cursor, limit=limit
    )


@router.get("/transfers/{transfer_id}", response_model=TransferRead)
def get_transfer(transfer_id: str, customer: CurrentCustomer, session: ReadOnlySession) -> TransferRead:
    return service.get_transfer(session, customer_id=customer.id, transfer_id=transfer_id)


@router.get("/payees", response_model=list[PayeeRead])
def list_payees(customer: CurrentCustomer, session: ReadOnlySession) -> list[PayeeRead]:
    return service.list_payees(session, customer_id=customer.id)


@router.post("/payees", status_code=201, response_model=PayeeRead)
def save_payee(
    body: PayeeCreate, customer: CurrentCustomer, session: WriteSession, step_up: StepUpToken = None
) -> PayeeRead:
    """Save a payee. Answers 401 `step-up-required` with a challenge bound to the payee's details until
    repeated with the completed challenge in `Atrium-Step-Up`."""
    return service.save_payee(
        session, customer_id=customer.id, data=body, principal=customer, step_up=step_up
    )


@router.patch("/payees/{payee_id}", response_model=PayeeRead)
def rename_payee(
    payee_id: str, body: PayeeUpdate, customer: CurrentCustomer, session: WriteSession
) -> PayeeRead:
    return service.rename_payee(session, customer_id=customer.id, payee_id=payee_id, nickname=body.nickname)


@router.delete("/payees/{payee_id}", status_code=204)
def delete_payee(payee_id: str, customer: CurrentCustomer, session: WriteSession) -> Response:
    service.delete_payee(session, customer_id=customer.id, payee_id=payee_id)
    return Response(status_code=204)


@router.get("/banks", response_model=list[BankRead])
def list_banks(customer: CurrentCustomer) -> list[BankRead]:
    """Banks reachable through the clearing rail, for the payee form."""
    return service.list_banks()
