"""Pure rules of messages: phone numbers, masking, reference codes and how they are appended."""

from __future__ import annotations

import re
import secrets

# Crockford-style alphabet without the look-alikes 0/O, 1/I/L and U: a code read aloud or typed from a
# screenshot cannot be mistaken. 30 symbols ^ 8 = 6.6e11 codes.
VERIFY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
VERIFY_LENGTH = 8
_NON_DIGITS = re.compile(r"[\s\-().]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise_phone(raw: str) -> str | None:
    """E.164 ("+8613812345678"), or None when `raw` is not a phone number. A bare 11-digit number starting
    with 1 is a mainland China mobile number."""
    text = _NON_DIGITS.sub("", raw or "")
    if text.startswith("00"):
        text = "+" + text[2:]
    if _CN_MOBILE.match(text):
        text = "+86" + text
    return text if _E164.match(text) else None


def mask_phone(e164: str) -> str:
    """"+8613812345678" → "138****5678"; other countries keep their code: "+44 77****0123"."""
    national = e164[3:] if e164.startswith("+86") else e164
    if len(national) < 7:
        return "*" * len(national)
    if e164.startswith("+86"):
        return f"{national[:3]}****{national[-4:]}"
    return f"{national[:5]}****{national[-4:]}"


def new_verify_code() -> str:
    raw = "".join(secrets.choice(VERIFY_ALPHABET) for _ in range(VERIFY_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_verify_code(text: str) -> str | None:
    """What a customer typed ("k7q2 9m4x", "K7Q29M4X") as the stored form, or None if it cannot be one."""
    raw = re.sub(r"[\s\-]", "", (text or "").upper())
    if len(raw) != VERIFY_LENGTH or any(ch not in VERIFY_ALPHABET for ch in raw):
        return None
    return f"{raw[:4]}-{raw[4:]}"


def with_verify_code(text: str, code: str, locale: str) -> str:
    if locale == "zh":
        return f"{text}[Atrium 核验码 {code}]"
    return f"{text} [Atrium verification ref {code}]"


def redacted(text: str, secrets_in_text: list[str] | tuple[str, ...]) -> str:
    for secret in secrets_in_text:
        if secret:
            text = text.replace(secret, "•" * len(secret))
    return text
