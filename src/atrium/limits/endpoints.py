"""/api/v1/limits: the customer's limits page and settings; /api/v1/limits/bank: staff manage bank limits.

A customer only ever reads or changes their own limits: no route takes a customer id, the principal is it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from atrium.identity.principal import Principal
from atrium.limits import service
from atrium.limits.domain import Channel, Method
from atrium.limits.schemas import (
    BankLimitRead,
    BankLimitUpdate,
    LimitChangeRead,
    LimitsOverview,
    OwnLimitChange,
    OwnLimitUpdate,
    SwitchesChange,
    SwitchesUpdate,
)
from atrium.web.deps import CurrentCustomer, CurrentStaff, ReadOnlySession, StepUpToken, WriteSession

router = APIRouter(prefix="/limits", tags=["limits"])

CurrencyQuery = Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")]


@router.get("", response_model=LimitsOverview)
def get_limits(
    customer: CurrentCustomer, session: ReadOnlySession, channel: Channel = "mobile",
    currency: CurrencyQuery = None,
) -> LimitsOverview:
    """Bank limits for the channel, the customer's own limits, switches, and what is left today and this
    month."""
    return service.overview(session, customer.id, channel=channel, currency=currency)


@router.put("/own/{method}", response_model=OwnLimitChange)
def put_own_limit(
    method: Annotated[Method, Path()], body: OwnLimitUpdate, customer: CurrentCustomer, session: WriteSession,
    step_up: StepUpToken = None,
) -> OwnLimitChange:
    """Set the customer's own per-transaction and daily limit for a method (null: the bank's limit).
    422 when above the bank's limit. Raising a limit answers 401 `step-up-required` with a challenge until
    it is repeated with the completed challenge in `Atrium-Step-Up`."""
    return service.set_own_limit(
        session, customer_id=customer.id, method=method, currency=body.currency,
        per_transaction_minor=body.per_transaction_minor, daily_minor=body.daily_minor, principal=customer,
        step_up=step_up,
    )


@router.put("/switches", response_model=SwitchesChange)
def put_switches(
    body: SwitchesUpdate, customer: CurrentCustomer, session: WriteSession, step_up: StepUpToken = None
) -> SwitchesChange:
    """Turn payment switches on or off; switches not given keep their setting. Switching one on needs a
    step-up (see PUT /limits/own)."""
    return service.set_switches(session, customer_id=customer.id, changes=body.given(), principal=customer,
                                step_up=step_up)


@router.get("/changes", response_model=list[LimitChangeRead])
def get_changes(
    customer: CurrentCustomer, session: ReadOnlySession, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[LimitChangeRead]:
    """The customer's own history of limit and switch changes, newest first."""
    return service.list_changes(session, customer.id, limit=limit)


def _limit_manager(staff: CurrentStaff) -> Principal:
    """A dependency, so the role is checked before the body is: a refused caller learns nothing more."""
    service.require_limit_manager(staff.role)
    return staff


LimitManager = Annotated[Principal, Depends(_limit_manager)]


@router.get("/bank", response_model=list[BankLimitRead])
def get_bank_limits(
    staff: LimitManager, session: ReadOnlySession, channel: Channel | None = None,
    currency: CurrencyQuery = None,
) -> list[BankLimitRead]:
    """Staff (operator, administrator): the bank's limits per channel, method and currency."""
    return service.list_bank_limits(session, channel=channel, currency=currency)


@router.put("/bank/{channel}/{method}/{currency}", response_model=BankLimitRead)
def put_bank_limit(
    channel: Annotated[Channel, Path()], method: Annotated[Method, Path()],
    currency: Annotated[str, Path(pattern=r"^[A-Z]{3}$")], body: BankLimitUpdate, staff: LimitManager,
    session: WriteSession,
) -> BankLimitRead:
    """Staff (operator, administrator): change the bank's limit; per transaction ≤ daily ≤ monthly."""
    return service.set_bank_limit(
        session, staff_id=staff.id, staff_role=staff.role, channel=channel, method=method, currency=currency,
        per_transaction_minor=body.per_transaction_minor, daily_minor=body.daily_minor,
        monthly_minor=body.monthly_minor,
    )
