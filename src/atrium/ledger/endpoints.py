"""/api/v1/ledger: a small read-only window on the ledger for staff (operations, reconciliation).

Staff only: customers see their money through /accounts, never through ledger ids. Parse → service →
return; every route reads through a ReadOnlySession.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from atrium.ledger import service
from atrium.ledger.schemas import (
    EntryPage,
    JournalRead,
    LedgerAccountRead,
    LedgerCheckReport,
    TrialBalanceLine,
)
from atrium.web.deps import CurrentStaff, ReadOnlySession

router = APIRouter(prefix="/ledger", tags=["ledger (staff)"])

LedgerAccountId = Annotated[str, Path(min_length=1, max_length=40, description="Ledger account id (lac_…)")]


@router.get("/accounts/{account_id}", response_model=LedgerAccountRead)
def get_account(
    account_id: LedgerAccountId, staff: CurrentStaff, session: ReadOnlySession
) -> LedgerAccountRead:
    """A ledger account with its four cached totals, booked and available balances."""
    return service.get_account(session, account_id)


@router.get("/accounts/{account_id}/entries", response_model=EntryPage)
def list_entries(
    account_id: LedgerAccountId,
    staff: CurrentStaff,
    session: ReadOnlySession,
    since: Annotated[datetime | None, Query(description="Posted at or after (timezone-aware)")] = None,
    until: Annotated[datetime | None, Query(description="Posted before (timezone-aware)")] = None,
    kind: Annotated[list[str] | None, Query(max_length=20, description="Journal kinds")] = None,
    min_amount: Annotated[int | None, Query(ge=1)] = None,
    max_amount: Annotated[int | None, Query(ge=1)] = None,
    direction: Annotated[Literal["debit", "credit"] | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EntryPage:
    """The account's legs, newest first, with a keyset cursor."""
    return service.list_entries(
        session, account_id, since=since, until=until, kinds=kind, min_amount=min_amount,
        max_amount=max_amount, direction=direction, cursor=cursor, limit=limit,
    )


@router.get("/journals/{journal_id}", response_model=JournalRead)
def get_journal(
    journal_id: Annotated[str, Path(min_length=1, max_length=40)],
    staff: CurrentStaff,
    session: ReadOnlySession,
) -> JournalRead:
    return service.get_journal(session, journal_id)


@router.get("/trial-balance", response_model=dict[str, TrialBalanceLine])
def trial_balance(staff: CurrentStaff, session: ReadOnlySession) -> dict[str, TrialBalanceLine]:
    """Posted debits and credits per currency: equal when the books balance."""
    return service.trial_balance(session)


@router.get("/check", response_model=LedgerCheckReport)
def check(staff: CurrentStaff, session: ReadOnlySession) -> LedgerCheckReport:
    """Every ledger invariant recomputed from the rows (the same report as `atrium ledger check`)."""
    return service.check(session)
