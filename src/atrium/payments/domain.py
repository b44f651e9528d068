"""Pure payment rules: no SQLAlchemy, no FastAPI. Tested without a database."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from atrium.kit.money import MAX_AMOUNT_MINOR

TransferKind = Literal["own", "internal", "interbank"]
TransferStatus = Literal[
    "pending", "completed", "settled", "returned", "failed", "held", "declined", "cancelled"
]
DestinationType = Literal["own", "atrium", "payee", "external"]
PayeeKind = Literal["atrium", "external"]

# Atrium's own participant code on the clearing rail. An "external" transfer to it is refused: money
# between two Atrium accounts never leaves the ledger.
ATRIUM_BANK_CODE = "ATRM"

# The limits method each transfer kind is counted against.
METHOD_FOR_KIND: dict[str, str] = {
    "own": "own_transfer",
    "internal": "internal_transfer",
    "interbank": "interbank_transfer",
    "qr": "qr_payment",  # paying a merchant's QR code (atrium.payments.qr)
}

# Ledger journal kinds, so statements and the trial balance can tell payment movements apart.
LEDGER_KIND: dict[str, str] = {
    "own": "transfer.own",
    "internal": "transfer.internal",
    "interbank": "transfer.interbank",
    "qr": "qr_payment",  # the statement label the mobile app already knows ("kind.qr_payment")
}

FINAL_STATUSES: frozenset[str] = frozenset(
    {"completed", "settled", "returned", "failed", "declined", "cancelled"}
)

# Which status a transfer may move to from which; anything else is a no-op (a duplicate notification)
# or a bug. A held transfer (the risk decision said "review") is released — own and Atrium transfers
# complete, interbank ones go on to the rail as pending — or cancelled when the analyst confirms fraud.
_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"settled", "returned", "failed"}),
    "held": frozenset({"completed", "pending", "cancelled"}),
}

# Risk outcomes (atrium.risk) as a payment acts on them.
RISK_OUTCOMES: tuple[str, ...] = ("allow", "challenge", "review", "deny")


def released_status(kind: str) -> str:
    """Where a held transfer goes when the analyst releases it."""
    return "pending" if kind == "interbank" else "completed"


def risk_outcome_without_customer(outcome: str) -> str:
    """A challenge needs the customer there to answer it. With nobody to ask (the bank executing a
    standing order, a payment made without a signed-in customer) a person reviews it instead."""
    return "review" if outcome == "challenge" else outcome

MEMO_MAX = 140
NAME_MAX = 120
_ACCOUNT_NUMBER = re.compile(r"^[0-9]{6,34}$")
_BANK_CODE = re.compile(r"^[A-Z0-9]{4,11}$")


class RuleBroken(ValueError):
    """A pure rule refused the input; the service turns it into its typed error."""


def can_transition(current: str, new: str) -> bool:
    return new in _TRANSITIONS.get(current, frozenset())


def check_amount(amount_minor: int) -> int:
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise RuleBroken("amount_minor must be an integer number of minor units")
    if not 1 <= amount_minor <= MAX_AMOUNT_MINOR:
        raise RuleBroken(f"amount_minor must be between 1 and {MAX_AMOUNT_MINOR}")
    return amount_minor


def normalise_account_number(number: str) -> str:
    """Digits only: people paste numbers with spaces and dashes ("6222 0210 …")."""
    cleaned = re.sub(r"[\s-]", "", number or "")
    if not _ACCOUNT_NUMBER.match(cleaned):
        raise RuleBroken("an account number is 6 to 34 digits")
    return cleaned


def normalise_bank_code(code: str) -> str:
    cleaned = (code or "").strip().upper()
    if not _BANK_CODE.match(cleaned):
        raise RuleBroken("a bank code is 4 to 11 letters or digits")
    return cleaned


def normalise_name(name: str) -> str:
    """Collapse whitespace; refuse empty, over-long or control-character names."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise RuleBroken("a name is required")
    if len(cleaned) > NAME_MAX:
        raise RuleBroken(f"a name has at most {NAME_MAX} characters")
    if not cleaned.isprintable():
        raise RuleBroken("a name may not contain control characters")
    return cleaned


def normalise_memo(memo: str | None) -> str:
    cleaned = " ".join((memo or "").split())
    if len(cleaned) > MEMO_MAX:
        raise RuleBroken(f"a memo has at most {MEMO_MAX} characters")
    if not cleaned.isprintable():
        raise RuleBroken("a memo may not contain control characters")
    return cleaned


def mask_account_number(number: str) -> str:
    """Last four digits only, the way statements and receipts show a counterparty."""
    return "••" + number[-4:] if number else ""


def ledger_key(transfer_id: str, step: str) -> str:
    """Ledger idempotency keys derive from the transfer id, so a retried step can never post twice."""
    return f"{transfer_id}:{step}"


def submit_backoff(attempts: int) -> timedelta:
    """Wait before the next submission round after `attempts` timed-out tries: 2, 4, 8 … at most 300 s."""
    return timedelta(seconds=min(300, 2 ** max(1, min(attempts, 9))))
