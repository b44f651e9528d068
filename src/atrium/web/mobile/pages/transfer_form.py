"""The transfer form's state between its three screens (form → confirmation → result).

A `Draft` is exactly what the form posts; `check` validates it against the customer's accounts and payees
and, when it is good, returns the `Checked` transfer the confirmation screen summarises and the confirm
step executes. The idempotency key is minted when the form is first rendered and travels in a hidden
field through every screen, so a double submit of the confirmation pays once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from atrium.accounts import service as accounts
from atrium.accounts.errors import AccountNotFound, InvalidAccountNumber
from atrium.accounts.schemas import DepositAccountRead
from atrium.kit.money import MAX_AMOUNT_MINOR, parse_major
from atrium.payments import service as payments
from atrium.payments.domain import MEMO_MAX
from atrium.payments.schemas import (
    AtriumDestination,
    Destination,
    OwnDestination,
    PayeeDestination,
    PayeeRead,
)
from atrium.web.mobile.i18n import Translator
from atrium.web.mobile.i18n.formatting import money
from atrium.web.mobile.presenters import account_name

NEW_NUMBER = "number"


def new_idempotency_key() -> str:
    return "mweb-" + secrets.token_urlsafe(18)


def valid_key(key: str) -> bool:
    return 8 <= len(key) <= 100 and key.isprintable() and " " not in key


@dataclass
class Draft:
    from_account_id: str = ""
    to: str = ""  # own:<account id> | payee:<payee id> | number
    account_number: str = ""
    amount: str = ""
    memo: str = ""
    idempotency_key: str = field(default_factory=new_idempotency_key)

    def fields(self) -> dict[str, str]:
        return {
            "from_account_id": self.from_account_id,
            "to": self.to,
            "account_number": self.account_number,
            "amount": self.amount,
            "memo": self.memo,
            "idempotency_key": self.idempotency_key,
        }


@dataclass(frozen=True)
class Checked:
    source: DepositAccountRead
    destination: Destination
    to_name: str
    to_detail: str
    route: str  # own | internal | interbank: what the confirmation says about arrival
    amount_minor: int
    memo: str


@dataclass
class Choices:
    """What the pickers offer: the customer's open accounts and saved payees."""

    accounts: list[DepositAccountRead]
    payees: list[PayeeRead]

    def account(self, account_id: str) -> DepositAccountRead | None:
        return next((a for a in self.accounts if a.id == account_id), None)

    def payee(self, payee_id: str) -> PayeeRead | None:
        return next((p for p in self.payees if p.id == payee_id), None)


def load_choices(session: Session, customer_id: str) -> Choices:
    return Choices(
        accounts=[a for a in accounts.list_for_customer(session, customer_id) if a.status == "open"],
        payees=payments.list_payees(session, customer_id=customer_id),
    )


def _destination(
    session: Session,
    draft: Draft,
    choices: Choices,
    source: DepositAccountRead | None,
    t: Translator,
    errors: dict[str, str],
) -> tuple[Destination, str, str, str] | None:
    kind, _, ref = draft.to.partition(":")
    if kind == "own":
        target = choices.account(ref)
        if target is None:
            errors["to"] = t("transfer.error.to")
            return None
        if source is not None and target.id == source.id:
            errors["to"] = t("error.same-account")
            return None
        if source is not None and target.currency != source.currency:
            errors["to"] = t("error.currency-mismatch")
            return None
        return (
            OwnDestination(type="own", account_id=target.id),
            account_name(target, t),
            target.masked_number,
            "own",
        )
    if kind == "payee":
        payee = choices.payee(ref)
        if payee is None:
            errors["to"] = t("transfer.error.to")
            return None
        route = "interbank" if payee.type == "external" else "internal"
        return (
            PayeeDestination(type="payee", payee_id=payee.id),
            payee.nickname,
            f"{payee.bank_name} {payee.masked_account_number}",
            route,
        )
    if draft.to == NEW_NUMBER:
        digits = "".join(draft.account_number.split()).replace("-", "")
        if not digits:
            errors["account_number"] = t("transfer.error.number_missing")
            return None
        try:
            entry = accounts.get_by_number(session, digits)
        except InvalidAccountNumber:
            errors["account_number"] = t("transfer.error.number_invalid")
            return None
        except AccountNotFound:
            errors["account_number"] = t("transfer.error.number_unknown")
            return None
        own = choices.account(entry.id)
        if own is not None:
            # The customer typed the number of one of their own accounts: that is an own transfer.
            if source is not None and own.id == source.id:
                errors["account_number"] = t("error.same-account")
                return None
            return (
                OwnDestination(type="own", account_id=own.id),
                account_name(own, t),
                own.masked_number,
                "own",
            )
        if source is not None and entry.currency != source.currency:
            errors["account_number"] = t("error.currency-mismatch")
            return None
        name = entry.masked_owner_name or t("transfer.to.atrium_customer")
        return AtriumDestination(type="atrium", account_number=digits), name, entry.masked_number, "internal"
    errors["to"] = t("transfer.error.to")
    return None


def _amount(
    draft: Draft, source: DepositAccountRead, t: Translator, errors: dict[str, str], *, against_balance: bool
) -> int | None:
    text = draft.amount.strip()
    if not text:
        errors["amount"] = t("transfer.error.amount_missing")
        return None
    try:
        amount_minor = parse_major(text, source.currency)
    except ValueError:
        errors["amount"] = t("transfer.error.amount_format")
        return None
    if amount_minor <= 0:
        errors["amount"] = t("transfer.error.amount_positive")
    elif amount_minor > MAX_AMOUNT_MINOR:
        errors["amount"] = t("transfer.error.amount_too_large")
    elif against_balance and amount_minor > source.available_minor:
        errors["amount"] = t(
            "error.insufficient-funds.amount",
            available=money(source.available_minor, source.currency, t.locale),
        )
    else:
        return amount_minor
    return None


def check(
    session: Session, draft: Draft, choices: Choices, t: Translator, *, against_balance: bool = True
) -> tuple[Checked | None, dict[str, str]]:
    """Validate the draft; return the checked transfer, or the errors per form field.

    The confirm step passes `against_balance=False`: a resubmitted confirmation whose first submit already
    paid must reach the payment service, which answers it from the idempotency key; a balance check here
    would wrongly refuse it because the balance has already dropped.
    """
    errors: dict[str, str] = {}
    source = choices.account(draft.from_account_id)
    if source is None:
        errors["from_account_id"] = t("transfer.error.from")
    resolved = _destination(session, draft, choices, source, t, errors)
    amount_minor = _amount(draft, source, t, errors, against_balance=against_balance) if source else None
    memo = " ".join(draft.memo.split())
    if len(memo) > MEMO_MAX or not memo.isprintable():
        errors["memo"] = t("transfer.error.memo", max=MEMO_MAX)
    if errors or source is None or resolved is None or amount_minor is None:
        return None, errors
    destination, to_name, to_detail, route = resolved
    return Checked(
        source=source,
        destination=destination,
        to_name=to_name,
        to_detail=to_detail,
        route=route,
        amount_minor=amount_minor,
        memo=memo,
    ), {}
