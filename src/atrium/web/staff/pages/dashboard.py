"""The dashboard: bank-wide counts, the outbox backlog, the ledger's trial balance per currency, and the
full ledger check on request (it reads every account and journal, so it runs only on a button press)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from atrium.accounts import service as accounts
from atrium.db.runtime import get_db
from atrium.events.relay import outbox_status
from atrium.identity import service as identity
from atrium.kit import clock
from atrium.ledger import service as ledger
from atrium.ledger.schemas import LedgerCheckReport
from atrium.payments import service as payments
from atrium.web.deps import ReadOnlySession
from atrium.web.mobile import csrf
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
# A report of a badly broken ledger could list every account; the page shows the first ones and the count.
SHOWN_DISCREPANCIES = 50
# "Today" is the bank's day: China has one UTC offset all year.
BANK_TZ = timezone(timedelta(hours=8))


def _page(request: Request, session: ReadOnlySession, *, report: LedgerCheckReport | None = None) -> Response:
    # The trial balance first: on a fresh session it reads every total from one snapshot.
    trial = report.trial_balance if report is not None else ledger.trial_balance(session)
    return render(
        request,
        "staff/dashboard.html",
        title=translator(request)("dashboard.title"),
        nav="dashboard",
        customers=identity.count_customers(session),
        accounts=accounts.count_by_status(session),
        transfers_today=payments.count_since(session, _bank_midnight()),
        pending_interbank=payments.count_pending_interbank(session),
        outbox=outbox_status(get_db()),
        trial=list(trial.values()),
        report=report,
        shown=SHOWN_DISCREPANCIES,
    )


def _bank_midnight() -> datetime:
    local = clock.now().astimezone(BANK_TZ)
    return datetime.combine(local.date(), datetime.min.time(), tzinfo=BANK_TZ)


@router.get("/staff")
def dashboard(
    request: Request, user: Annotated[ConsoleUser, permit("dashboard.view")], session: ReadOnlySession
) -> Response:
    return _page(request, session)


@router.post("/staff/ledger/check", dependencies=[Depends(csrf.verify)])
def run_check(
    request: Request, user: Annotated[ConsoleUser, permit("ledger.check")], session: ReadOnlySession
) -> Response:
    report = ledger.check(session)
    if request.headers.get("hx-request") == "true":
        t = translator(request)
        return render(
            request,
            "staff/partials/ledger_check.html",
            report=report,
            shown=SHOWN_DISCREPANCIES,
            announce=t("check.ok") if report.ok else t("check.failed", count=len(report.discrepancies)),
        )
    return _page(request, session, report=report)
