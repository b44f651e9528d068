"""The password policy (NIST SP 800-63B §3.1.1.2): length over composition rules, no known or guessable
passwords, nothing personal, no reuse.

- 10 to 128 characters ("too-short", "too-long");
- not a common or breached password: zxcvbn's frequency lists ("common" when the guess is built on a
  listed password) and a strength estimate of at least 3 of 4 ("too-weak");
- not containing the username ("contains-username") or personal data such as the phone number or name
  ("contains-personal");
- not the current password nor one of the 4 before it ("reused") — the last 5.

Violations are stable ids; `describe` words them in zh or en for the faces.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from atrium.identity import audit, passwords, pii
from atrium.identity.models import Customer
from atrium.identity.otp.errors import PasswordRejected, WrongCurrentPassword
from atrium.identity.otp.models import PasswordHistory
from atrium.kit.ids import new_id

MIN_LENGTH = 10
MAX_LENGTH = 128
MIN_SCORE = 3
HISTORY = 5  # the current password and the 4 before it
MIN_PERSONAL = 3  # shorter fragments ("li") would refuse half the dictionary

VIOLATIONS: dict[str, dict[str, str]] = {
    "too-short": {
        "zh": f"密码至少需要 {MIN_LENGTH} 个字符。", "en": f"Use at least {MIN_LENGTH} characters.",
    },
    "too-long": {"zh": f"密码最多 {MAX_LENGTH} 个字符。", "en": f"Use at most {MAX_LENGTH} characters."},
    "common": {
        "zh": "这是常见或已泄露的密码，很容易被猜中。",
        "en": "This is a common or breached password and easy to guess.",
    },
    "too-weak": {
        "zh": "密码太容易被猜中，请加长或使用几个不相关的词。",
        "en": "This password is too easy to guess; make it longer or use a few unrelated words.",
    },
    "contains-username": {"zh": "密码不能包含用户名。", "en": "The password must not contain your username."},
    "contains-personal": {
        "zh": "密码不能包含手机号、姓名等个人信息。",
        "en": "The password must not contain personal details such as your phone number or name.",
    },
    "reused": {
        "zh": f"不能使用最近 {HISTORY} 次用过的密码。",
        "en": f"You cannot reuse any of your last {HISTORY} passwords.",
    },
}


def describe(violation: str, locale: str) -> str:
    words = VIOLATIONS.get(violation)
    if words is None:
        return violation
    return words["zh" if locale == "zh" else "en"]


def _fragments(personal: list[str]) -> list[str]:
    """Personal data as it could appear in a password: a phone also without its country code."""
    out: list[str] = []
    for item in personal:
        text = (item or "").strip().lower()
        if not text:
            continue
        out.append(text)
        if text.startswith("+86"):
            out.append(text[3:])
        elif text.startswith("+"):
            out.append(text[1:])
        out.extend(part for part in text.replace("@", " ").replace(".", " ").split() if part != text)
    return [f for f in dict.fromkeys(out) if len(f) >= MIN_PERSONAL]


def check(password: str, *, username: str, personal: list[str] | None = None) -> list[str]:
    """The policy's violations of `password`, as stable ids (empty: acceptable). History is not checked
    here (it needs the database): see `set_password`."""
    personal = personal or []
    violations: list[str] = []
    if len(password) < MIN_LENGTH:
        violations.append("too-short")
    if len(password) > MAX_LENGTH:
        violations.append("too-long")
        return violations  # not worth estimating: refused anyway
    lowered = password.lower()
    name = (username or "").strip().lower()
    if len(name) >= MIN_PERSONAL and name in lowered:
        violations.append("contains-username")
    fragments = _fragments(personal)
    if any(f in lowered for f in fragments):
        violations.append("contains-personal")
    if password:
        estimate = zxcvbn(password, user_inputs=[name, *fragments], max_length=MAX_LENGTH)
        if estimate["score"] < MIN_SCORE:
            listed = any(m.get("dictionary_name") == "passwords" for m in estimate["sequence"])
            violations.append("common" if listed else "too-weak")
    return violations


def _personal(customer: Customer) -> list[str]:
    items = [customer.display_name]
    if customer.phone_enc:
        items.append(pii.unseal(customer.phone_enc, context="customer.phone"))
    return items


def _recent_hashes(session: Session, customer: Customer) -> list[str]:
    older = session.scalars(
        select(PasswordHistory.password_hash)
        .where(PasswordHistory.customer_id == customer.id)
        .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
        .limit(HISTORY - 1)
    )
    return [customer.password_hash, *older]


def set_password(session: Session, customer_id: str, new: str) -> None:
    """Give the customer a new password, if the policy (history included) allows it; else PasswordRejected
    with `violations`. The old hash goes into the history; only the last HISTORY - 1 are kept."""
    customer = session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise PasswordRejected("no such customer", violations=[])
    violations = check(new, username=customer.username, personal=_personal(customer))
    if not violations and any(passwords.verify_password(h, new) for h in _recent_hashes(session, customer)):
        violations.append("reused")
    if violations:
        raise PasswordRejected("the new password breaks the password rules", violations=violations)
    session.add(
        PasswordHistory(id=new_id("pwh"), customer_id=customer.id, password_hash=customer.password_hash)
    )
    customer.password_hash = passwords.hash_password(new)
    session.flush()
    keep = select(PasswordHistory.id).where(PasswordHistory.customer_id == customer.id).order_by(
        PasswordHistory.created_at.desc(), PasswordHistory.id.desc()
    ).limit(HISTORY - 1)
    session.execute(
        delete(PasswordHistory).where(
            PasswordHistory.customer_id == customer.id, PasswordHistory.id.not_in(list(session.scalars(keep)))
        )
    )
    session.flush()


def change_password(session: Session, customer_id: str, old: str, new: str) -> None:
    """The customer's own change: the current password first (WrongCurrentPassword), then `set_password`."""
    customer = session.get(Customer, customer_id)
    if customer is None or not passwords.verify_password(customer.password_hash, old):
        raise WrongCurrentPassword("the current password is not right")
    set_password(session, customer_id, new)
    audit.record(session, customer_id, "password.changed")
