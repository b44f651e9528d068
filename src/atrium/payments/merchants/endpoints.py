"""/api/v1/merchants: staff manage merchants; a customer reads a merchant's public face (for the QR
confirm screen). Parse → call the service → return."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from atrium.identity.principal import Principal
from atrium.payments.merchants import service
from atrium.payments.merchants.schemas import (
    Category,
    MerchantCreate,
    MerchantPage,
    MerchantPublic,
    MerchantRead,
    MerchantStatus,
    MerchantStatusChange,
)
from atrium.web.deps import CurrentCustomer, CurrentStaff, ReadOnlySession, WriteSession

router = APIRouter(prefix="/merchants", tags=["merchants"])

MerchantId = Annotated[str, Path(min_length=1, max_length=40)]


@router.get("", response_model=MerchantPage)
def list_merchants(
    staff: CurrentStaff,
    session: ReadOnlySession,
    status: MerchantStatus | None = None,
    category: Category | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> MerchantPage:
    """Staff: merchants with their settlement balances, newest first."""
    return service.list_merchants(session, status=status, category=category, cursor=cursor, limit=limit)


def _manager(staff: CurrentStaff) -> Principal:
    """A dependency, so the role is checked before the body is: a refused caller learns nothing more."""
    service.require_manager(staff.role)
    return staff


MerchantManager = Annotated[Principal, Depends(_manager)]


@router.post("", status_code=201, response_model=MerchantRead)
def create_merchant(body: MerchantCreate, staff: MerchantManager, session: WriteSession) -> MerchantRead:
    """Staff (operators): register a merchant; a settlement ledger account is opened per currency."""
    return service.create_merchant(
        session, name=body.name, category=body.category, city=body.city, currencies=body.currencies
    )


@router.get("/{merchant_id}", response_model=MerchantRead)
def get_merchant(merchant_id: MerchantId, staff: CurrentStaff, session: ReadOnlySession) -> MerchantRead:
    return service.get_merchant(session, merchant_id)


@router.patch("/{merchant_id}", response_model=MerchantRead)
def change_status(
    merchant_id: MerchantId, body: MerchantStatusChange, staff: MerchantManager, session: WriteSession
) -> MerchantRead:
    """Staff (operators): suspend, reactivate or close a merchant. A suspended merchant cannot be paid."""
    return service.set_status(session, merchant_id=merchant_id, status=body.status)


@router.get("/{merchant_id}/public", response_model=MerchantPublic)
def get_public(
    merchant_id: MerchantId, customer: CurrentCustomer, session: ReadOnlySession
) -> MerchantPublic:
    """A customer: the merchant's name, category and city, to confirm who they are about to pay."""
    return service.get_public(session, merchant_id)
