"""Saved payees: save, list, rename, soft-delete. A payee is visible only to the customer who saved it;
anyone else's payee id answers 404, exactly like an id that does not exist."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atrium.accounts import service as accounts
from atrium.accounts.errors import AccountClosed, AccountNotFound
from atrium.identity import stepup
from atrium.identity.principal import Principal
from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.payments import domain
from atrium.payments.domain import ATRIUM_BANK_CODE, RuleBroken
from atrium.payments.errors import (
    InvalidPaymentDetails,
    OwnAccountPayee,
    PayeeExists,
    PayeeNotFound,
    UnknownBank,
    UnknownDestinationAccount,
)
from atrium.payments.models import Payee
from atrium.payments.rail import directory
from atrium.payments.schemas import PayeeCreate, PayeeRead


def to_read(p: Payee) -> PayeeRead:
    bank = directory.find(p.bank_code)
    return PayeeRead(
        id=p.id, type=p.kind, bank_code=p.bank_code, bank_name=bank.name if bank else p.bank_code,
        account_number=p.account_number, masked_account_number=domain.mask_account_number(p.account_number),
        account_name=p.account_name, nickname=p.nickname, created_at=p.created_at,
    )


def live_payee(session: Session, *, customer_id: str, payee_id: str, lock: bool = False) -> Payee:
    """The customer's own, not deleted payee, or PayeeNotFound (404) — never someone else's."""
    stmt = select(Payee).where(
        Payee.id == payee_id, Payee.customer_id == customer_id, Payee.deleted_at.is_(None)
    )
    if lock:
        stmt = stmt.with_for_update()
    payee = session.scalar(stmt)
    if payee is None:
        raise PayeeNotFound("no such payee", payee_id=payee_id)
    return payee


def check_external(bank_code: str | None, account_number: str, account_name: str) -> tuple[str, str, str]:
    """Normalised (bank code, account number, holder name) of an account at another bank."""
    try:
        code = domain.normalise_bank_code(bank_code or "")
        number = domain.normalise_account_number(account_number)
        name = domain.normalise_name(account_name)
    except RuleBroken as exc:
        raise InvalidPaymentDetails(str(exc)) from None
    if code == ATRIUM_BANK_CODE:
        raise UnknownBank(
            "an Atrium account is paid directly, not through the clearing rail: use type 'atrium'",
            bank_code=code,
        )
    if directory.find(code) is None:
        raise UnknownBank("no bank with that code takes part in the clearing rail", bank_code=code)
    return code, number, name


def save_payee(
    session: Session, *, customer_id: str, data: PayeeCreate, principal: Principal | None = None,
    step_up: str | None = None,
) -> PayeeRead:
    """Save a payee. With a customer's `principal`, a new payee demands a step-up grant bound to its bank,
    account number and name (a stolen session must not add a mule's account)."""
    try:
        nickname = domain.normalise_name(data.nickname) if data.nickname else None
    except RuleBroken as exc:
        raise InvalidPaymentDetails(f"nickname: {exc}") from None
    if data.type == "atrium":
        try:
            name = domain.normalise_name(data.account_name)
        except RuleBroken as exc:
            raise InvalidPaymentDetails(str(exc)) from None
        try:
            entry = accounts.get_by_number(session, data.account_number)
        except AccountNotFound:
            raise UnknownDestinationAccount("no Atrium account has that number") from None
        account = accounts.get_by_id(session, entry.id)
        if account.customer_id == customer_id:
            raise OwnAccountPayee("that is one of your own accounts; pay it with an own transfer")
        if account.status != "open":
            raise AccountClosed("that account is closed")
        code, number = ATRIUM_BANK_CODE, account.number
    else:
        code, number, name = check_external(data.bank_code, data.account_number, data.account_name)

    taken = session.scalar(select(Payee.id).where(
        Payee.customer_id == customer_id, Payee.bank_code == code, Payee.account_number == number,
        Payee.deleted_at.is_(None),
    ))
    if taken:
        raise PayeeExists("that account is already one of your payees", payee_id=taken)
    if principal is not None:
        stepup.require(session, principal, action="payee.add", token=step_up,
                       elements={"bank": code, "account": number, "name": name},
                       summary=f"{name} …{number[-4:]}")
    now = clock.now()
    payee = Payee(
        id=new_id("pye"), customer_id=customer_id, kind=data.type, bank_code=code, account_number=number,
        account_name=name, nickname=nickname or name, created_at=now, updated_at=now,
    )
    try:
        # A savepoint, so a concurrent save of the same payee becomes a 409 instead of a failed transaction.
        with session.begin_nested():
            session.add(payee)
    except IntegrityError:
        raise PayeeExists("that account is already one of your payees") from None
    return to_read(payee)


def list_payees(session: Session, *, customer_id: str) -> list[PayeeRead]:
    rows = session.scalars(
        select(Payee)
        .where(Payee.customer_id == customer_id, Payee.deleted_at.is_(None))
        .order_by(Payee.nickname, Payee.id)
    ).all()
    return [to_read(p) for p in rows]


def get_payee(session: Session, *, customer_id: str, payee_id: str) -> PayeeRead:
    return to_read(live_payee(session, customer_id=customer_id, payee_id=payee_id))


def rename_payee(session: Session, *, customer_id: str, payee_id: str, nickname: str) -> PayeeRead:
    payee = live_payee(session, customer_id=customer_id, payee_id=payee_id, lock=True)
    try:
        payee.nickname = domain.normalise_name(nickname)
    except RuleBroken as exc:
        raise InvalidPaymentDetails(f"nickname: {exc}") from None
    payee.updated_at = clock.now()
    session.flush()
    return to_read(payee)


def delete_payee(session: Session, *, customer_id: str, payee_id: str) -> None:
    """Soft delete: past transfers keep pointing at the row; the payee disappears from lists and can no
    longer be paid by id."""
    payee = live_payee(session, customer_id=customer_id, payee_id=payee_id, lock=True)
    payee.deleted_at = payee.updated_at = clock.now()
    session.flush()
