"""Payments through the anti-fraud decision (`atrium.risk.service.screen`), before any money moves.

- Every payment that leaves the customer's own accounts (to another Atrium customer, another bank, a
  merchant's QR code, a standing order's payee) is screened once, keyed by (customer, idempotency key):
  a retried request, or the same form posted again after a step-up, gets the first decision back.
  Transfers between the customer's own accounts are not screened: the money never leaves them.
- allow → pay. challenge → the step-up (`identity.stepup.require(opinion=...)`) with the decision's
  reason codes: a level-3 grant bound to payee, amount and currency, consumed by this one payment.
  review → the money is held (`held`) and an analyst's case decides (`payments.handlers`). deny → a
  `declined` transfer is kept (nothing moved), so the refusal, its reasons and the decision survive the
  request, and a retry answers the same.
- Nobody to challenge (the bank executing a standing order, a payment made without a signed-in customer):
  a challenge becomes a review.
- When the decision cannot be had (the risk service fails), the channel's fail policy applies at the
  payment level, with reason `risk.unavailable`; the payment never waits on a broken dependency.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from atrium.identity import stepup
from atrium.identity.principal import Principal
from atrium.kit.errors import AtriumError
from atrium.logs import get_logger
from atrium.payments import domain
from atrium.payments.errors import PaymentDeclined
from atrium.payments.schemas import RiskReasonRead, TransferRead
from atrium.payments.service.authority import payee_key
from atrium.payments.service.destinations import ResolvedDestination
from atrium.risk import service as risk
from atrium.risk.domain import reasons as reason_texts
from atrium.risk.domain.decide import policy_for
from atrium.risk.schemas import DecisionRead, RiskEventIn
from atrium.risk.seams import public_code

log = get_logger("atrium.payments.risk")

# The risk channel of each payment kind (`own` is not screened).
RISK_CHANNEL: dict[str, str] = {"internal": "transfer", "interbank": "transfer", "qr": "qr"}
UNAVAILABLE = "risk.unavailable"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the payment acts on: the decision's outcome (a challenge turned into a review when nobody can
    answer it), its id, and its reasons as the customer may see them — {"code": a public code
    (`risk.seams.public_code`), "text": {locale: the customer's sentence}} — kept on the transfer, so its
    pages and the API say what the customer was told then."""

    outcome: str
    decision_id: str | None = None
    reasons: tuple[Mapping[str, Any], ...] = field(default=())
    fallback: bool = False
    by_customer: bool = False  # a "deny" the customer asked for ("this wasn't me"): the payment is cancelled

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(str(r["code"]) for r in self.reasons)

    @property
    def failure_code(self) -> str:
        """The code a refused transfer keeps."""
        return "not-me" if self.by_customer else "risk-declined"

    @property
    def failure_reason(self) -> str:
        if self.by_customer:
            return "the customer reported that they did not make this payment"
        return "declined by the bank's security checks: " + ", ".join(self.reason_codes)

    def stored_reasons(self) -> list[dict[str, Any]] | None:
        """What the transfer row keeps: reasons only when the decision held, declined or challenged it."""
        if self.outcome == "allow" or not self.reasons:
            return None
        return [{"code": str(r["code"]), "text": dict(r.get("text") or {})} for r in self.reasons]


UNSCREENED = Verdict("allow")


def subject_ref(customer_id: str, idempotency_key: str) -> str:
    """The decision's subject: one per (customer, idempotency key), so a retried payment is decided once.
    Hashed: an idempotency key is the client's free text, a subject reference must be an identifier."""
    digest = hashlib.sha256(f"{customer_id}\x1f{idempotency_key}".encode()).hexdigest()
    return f"pay:{digest[:48]}"


def payee_ref(destination: ResolvedDestination) -> str | None:
    """The payee as the risk lists know it: "<bank code>:<account number>" (Atrium accounts under ATRM),
    the same key the step-up grant binds. A merchant is a terminal, not a payee."""
    if destination.kind == "qr":
        return None
    return payee_key(destination)


def fail_policy(channel: str) -> str:
    """The channel's on-timeout outcome (the configured policies), for when even the risk service fails
    to answer: the same outcome its engine timeout gives."""
    return policy_for(channel, risk.channel_policies()).on_timeout


def _public(code: str, texts: Mapping[str, str]) -> dict[str, Any]:
    return {"code": code, "text": dict(texts)}


def _from_decision(decision: DecisionRead, *, present: bool) -> Verdict:
    outcome = decision.outcome if present else domain.risk_outcome_without_customer(decision.outcome)
    shown: dict[str, dict[str, Any]] = {}  # one per public code: two rules may say the same thing
    for r in decision.reasons:
        code = public_code(r.code, r.params)
        texts = r.text or {lc: reason_texts.text(r.code, lc, r.params, channel=decision.channel)
                           for lc in reason_texts.LOCALES}
        shown.setdefault(code, _public(code, texts))
    return Verdict(outcome=outcome, decision_id=decision.id, fallback=decision.fallback,
                   reasons=tuple(shown.values()))


def screen(
    session: Session, *, customer_id: str, idempotency_key: str, destination: ResolvedDestination,
    from_account_id: str, amount_minor: int, currency: str, principal: Principal | None = None,
    ip: str | None = None, terminal_id: str | None = None,
) -> Verdict:
    """Decide this payment (once per customer and idempotency key). `principal`: the customer present to
    answer a challenge (None: nobody is)."""
    channel = RISK_CHANNEL.get(destination.kind)
    if channel is None:
        return UNSCREENED
    event = RiskEventIn(
        channel=channel,  # type: ignore[arg-type]
        # No occurred_at: "now" is not a fact a retry repeats (the first decision stands for the subject).
        subject_ref=subject_ref(customer_id, idempotency_key), amount_minor=amount_minor, currency=currency,
        customer_id=customer_id, account_id=from_account_id,
        device_id=principal.device_id if principal is not None else None, payee_ref=payee_ref(destination),
        terminal_id=terminal_id, ip=ip or None,
    )
    present = principal is not None and principal.kind == "customer"
    try:
        # A savepoint: a failing risk service must not poison the payment's transaction.
        with session.begin_nested():
            decision = risk.screen(session, event)
    except AtriumError:
        raise  # a typed refusal (e.g. the same subject with other facts) is the caller's to see
    except Exception:
        outcome = fail_policy(channel)
        log.exception("risk_screen_failed", channel=channel, fail_policy=outcome)
        outcome = outcome if present else domain.risk_outcome_without_customer(outcome)
        texts = {lc: reason_texts.text(UNAVAILABLE, lc, channel=channel) for lc in reason_texts.LOCALES}
        return Verdict(outcome=outcome, reasons=(_public(UNAVAILABLE, texts),), fallback=True)
    return _from_decision(decision, present=present)


def opinion(verdict: Verdict) -> stepup.RiskOpinion | None:
    """The step-up a challenge asks for: a level-3 grant bound to this payment, with the reasons."""
    if verdict.outcome != "challenge":
        return None
    return stepup.RiskOpinion(level=3, reasons=verdict.reason_codes)


def link(session: Session, verdict: Verdict, transfer_id: str) -> None:
    """Tell the decision log which transfer it decided (the analyst's case and the review events name it;
    risk marks it completed on TransferCompleted) and that a challenge was passed."""
    if verdict.decision_id is None:
        return
    risk.attach_transfer(session, verdict.decision_id, transfer_id)
    if verdict.outcome == "challenge" and not verdict.by_customer:
        risk.report_challenge(session, verdict.decision_id, "passed")


def disowned(session: Session, verdict: Verdict) -> None:
    """The customer answered the challenge "this wasn't me": the decision is labelled fraud, the security
    team and the customer's inbox hear of it (`risk.report_challenge`)."""
    if verdict.decision_id is not None:
        risk.report_challenge(session, verdict.decision_id, "disowned")


def texts(
    reasons: Sequence[RiskReasonRead | str] | None, locale: str, *, channel: str | None = None
) -> list[str]:
    """The customer's sentences for a transfer's reasons (as it kept them) or for bare public codes (a
    step-up challenge carries codes), in `locale`, without repeats."""
    lang = reason_texts.normalise_locale(locale)
    out: list[str] = []
    for r in reasons or ():
        if isinstance(r, RiskReasonRead) and r.text.get(lang):
            sentence = r.text[lang]
        else:
            code = r if isinstance(r, str) else r.code
            try:
                sentence = reason_texts.text(code, lang, channel=channel)
            except AtriumError:  # a malformed code reads as the generic sentence, never as an error
                sentence = reason_texts.text("score.threshold", lang, channel=channel)
        if sentence not in out:
            out.append(sentence)
    return out


def declined_error(transfer: TransferRead) -> PaymentDeclined:
    """The 403 problem a declined transfer answers with: its reason codes and the customer's texts in
    both languages (the API has no page locale)."""
    return PaymentDeclined(
        "the payment was declined by the bank's security checks; no money moved",
        transfer_id=transfer.id, reasons=[r.code for r in transfer.risk_reasons],
        messages={locale: " ".join(texts(transfer.risk_reasons, locale)) for locale in reason_texts.LOCALES},
    )
