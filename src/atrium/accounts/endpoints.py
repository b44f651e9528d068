"""/api/v1/accounts: the customer's deposit accounts, statements and exports. Parse → service → return.

Every route is per-object authorised through `service.get_owned` semantics: another customer's account
answers 404 exactly like a missing one.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from atrium.accounts import service
from atrium.accounts.exports import csv_filename, pdf_filename, statement_csv, statement_pdf
from atrium.accounts.schemas import (
    AccountDirectoryEntry,
    AccountOpen,
    DepositAccountRead,
    InterestPostingRead,
    StatementFilters,
    StatementPage,
)
from atrium.db import idempotency
from atrium.identity import service as identity
from atrium.web.deps import CurrentCustomer, IdempotencyKey, ReadOnlySession, WriteSession

router = APIRouter(prefix="/accounts", tags=["accounts"])

AccountId = Annotated[str, Path(min_length=1, max_length=40, description="Deposit account id (acc_…)")]
DateFrom = Annotated[date | None, Query(alias="from", description="First bank-local day (inclusive)")]
DateTo = Annotated[date | None, Query(alias="to", description="Last bank-local day (inclusive)")]


class AccountRename(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nickname: str | None = Field(None, max_length=40, description="Empty or null removes the nickname")


@router.get("", response_model=list[DepositAccountRead])
def list_accounts(customer: CurrentCustomer, session: ReadOnlySession) -> list[DepositAccountRead]:
    """The customer's accounts (closed ones too), oldest first, with booked and available balances."""
    return service.list_for_customer(session, customer.id)


@router.post(
    "",
    response_model=DepositAccountRead,
    status_code=201,
    responses={
        409: {"description": "Idempotency-Key reused with another body"},
        422: {"description": "Unknown product or currency not offered for it"},
    },
)
def open_account(
    body: AccountOpen, customer: CurrentCustomer, key: IdempotencyKey, session: WriteSession
) -> JSONResponse:
    """Open a current or savings account. Requires `Idempotency-Key`: a retry returns the same account."""
    scope = f"customer:{customer.id}:accounts"
    request = body.model_dump(mode="json")
    stored = idempotency.lookup(session, scope, key, request)
    if stored is not None:
        return JSONResponse(stored.body, status_code=stored.status_code)
    account = service.open_account(
        session,
        customer_id=customer.id,
        product=body.product,
        currency=body.currency,
        nickname=body.nickname,
    )
    payload = account.model_dump(mode="json")
    # A concurrent twin holding the same key makes this a 409 "in flight": the whole transaction (and
    # the account it opened) rolls back, and the client's retry reads the twin's stored response.
    idempotency.store(session, scope, key, request, 201, payload)
    return JSONResponse(payload, status_code=201)


@router.get("/lookup", response_model=AccountDirectoryEntry)
def lookup_by_number(
    customer: CurrentCustomer,
    session: ReadOnlySession,
    number: Annotated[str, Query(min_length=1, max_length=40, description="19-digit account number")],
) -> AccountDirectoryEntry:
    """Confirm a payee's Atrium account from its number: masked owner name, currency and status only."""
    return service.get_by_number(session, number)


@router.get("/{account_id}", response_model=DepositAccountRead)
def get_account(
    account_id: AccountId, customer: CurrentCustomer, session: ReadOnlySession
) -> DepositAccountRead:
    return service.get_owned(session, customer_id=customer.id, account_id=account_id)


@router.patch("/{account_id}", response_model=DepositAccountRead)
def rename_account(
    account_id: AccountId, body: AccountRename, customer: CurrentCustomer, session: WriteSession
) -> DepositAccountRead:
    """Set or clear the account's nickname."""
    return service.rename_account(
        session, customer_id=customer.id, account_id=account_id, nickname=body.nickname
    )


@router.post(
    "/{account_id}/close",
    response_model=DepositAccountRead,
    responses={422: {"description": "The account still holds money, pending holds or unpaid interest"}},
)
def close_account(
    account_id: AccountId, customer: CurrentCustomer, session: WriteSession
) -> DepositAccountRead:
    """Close an empty account. Closing a closed account returns it unchanged."""
    return service.close_account(session, customer_id=customer.id, account_id=account_id)


@router.post("/{account_id}/interest/pay", response_model=InterestPostingRead | None)
def pay_interest(
    account_id: AccountId, customer: CurrentCustomer, session: WriteSession
) -> InterestPostingRead | None:
    """Pay a savings account's interest accrued through yesterday now (before closing it, say).
    Returns null when nothing whole is due. Safe to repeat: each accrued day is paid once."""
    return service.pay_accrued_interest(session, customer_id=customer.id, account_id=account_id)


@router.get("/{account_id}/statement", response_model=StatementPage)
def statement(
    account_id: AccountId,
    customer: CurrentCustomer,
    session: ReadOnlySession,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    direction: Annotated[Literal["in", "out"] | None, Query(description="in = credits, out = debits")] = None,
    kind: Annotated[list[str] | None, Query(description="Entry kinds, e.g. transfer, interest")] = None,
    min_amount_minor: Annotated[int | None, Query(ge=0)] = None,
    max_amount_minor: Annotated[int | None, Query(ge=0)] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Text in the description")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> StatementPage:
    """Entries newest first with filters; follow `next_cursor` for older entries."""
    filters = StatementFilters(
        date_from=date_from,
        date_to=date_to,
        direction=direction,
        kinds=tuple(kind or ()),
        min_amount_minor=min_amount_minor,
        max_amount_minor=max_amount_minor,
        text=q,
    )
    return service.statement_page(
        session, customer_id=customer.id, account_id=account_id, filters=filters, cursor=cursor, limit=limit
    )


@router.get(
    "/{account_id}/statement.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a byte-order mark"}},
)
def statement_csv_export(
    account_id: AccountId,
    customer: CurrentCustomer,
    session: ReadOnlySession,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    lang: Annotated[Literal["zh", "en"] | None, Query(description="Header language")] = None,
) -> Response:
    """The period's entries (default: this month to date) as CSV, oldest first."""
    st = service.period_statement(
        session, customer_id=customer.id, account_id=account_id, date_from=date_from, date_to=date_to
    )
    if lang is None:
        who = identity.get_customer(session, customer.id)
        lang = "en" if who is not None and who.locale == "en" else "zh"
    return Response(
        statement_csv(st, lang=lang),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{csv_filename(st)}"'},
    )


@router.get(
    "/{account_id}/statement.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The statement as PDF"}},
)
def statement_pdf_export(
    account_id: AccountId,
    customer: CurrentCustomer,
    session: ReadOnlySession,
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> Response:
    """A printable statement: opening and closing balance, entries and totals for the period."""
    st = service.period_statement(
        session, customer_id=customer.id, account_id=account_id, date_from=date_from, date_to=date_to
    )
    return Response(
        statement_pdf(st),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{pdf_filename(st)}"'},
    )
