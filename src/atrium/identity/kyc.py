"""Know-your-customer data: validating it, sealing it on the customer, and showing it masked.

Invariants:
- KYC values (phone, e-mail, legal name, resident ID number, address) are stored only sealed
  (`atrium.identity.pii`, one context per field); the phone also as a blind index for lookups.
- They leave this module masked (`CustomerProfile`), except through `reveal`, which the edge offers to the
  customer themself only. Neither the values nor the validators' error messages are logged: errors name the
  field and a reason code, never the value.
- Phones are +86 mobile numbers in E.164 ("+8613812345678"); resident ID numbers are the 18-character
  numbers of GB 11643-1999 with their ISO 7064 MOD 11-2 check character.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy.orm import Session

from atrium.identity import pii, service
from atrium.identity.models import Customer
from atrium.kit import clock
from atrium.kit.errors import NotFound, ValidationFailed

Field = Literal["phone", "email", "legal_name", "id_number", "address"]
FIELDS: tuple[Field, ...] = ("legal_name", "id_number", "phone", "email", "address")
# Sealing contexts (authenticated data): a value sealed for one field does not open as another.
CONTEXTS: dict[str, str] = {
    "phone": service.PHONE_CONTEXT,
    "email": "customer.email",
    "legal_name": "customer.legal_name",
    "id_number": "customer.id_number",
    "address": "customer.address",
}
_COLUMNS = {
    "phone": "phone_enc", "email": "email_enc", "legal_name": "legal_name_enc",
    "id_number": "id_number_enc", "address": "address_enc",
}


class InvalidKyc(ValidationFailed):
    """One field is not acceptable. `field` and `reason` are codes (the page translates them); the
    refused value is never part of the error, so it cannot reach a log."""

    code = "invalid-kyc"
    title = "A personal detail is not valid"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", field=field, reason=reason)
        self.field = field
        self.reason = reason


class KycNotOnFile(NotFound):
    code = "kyc-not-on-file"
    title = "That detail is not on file"


def _clean(raw: str) -> str:
    """NFKC folds full-width digits and letters (common in Chinese input methods) to ASCII; whitespace
    runs collapse to one space."""
    return " ".join(unicodedata.normalize("NFKC", raw or "").split())


# --- phone ----------------------------------------------------------------------------------------------

_MOBILE = re.compile(r"1[3-9]\d{9}")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")


def normalise_phone(raw: str) -> str:
    """A mainland China mobile number in E.164: "+86 138-1234-5678", "0086 13812345678", "8613812345678"
    and "13812345678" all become "+8613812345678". Anything else (landlines, other countries) is refused."""
    text = _PHONE_SEPARATORS.sub("", _clean(raw))
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    if not _MOBILE.fullmatch(text):
        raise InvalidKyc("phone", "format")
    return "+86" + text


# --- resident ID number (GB 11643-1999) --------------------------------------------------------------------

BEIJING = ZoneInfo("Asia/Shanghai")  # a birth date is a local date
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2^(17-i) mod 11
ID_CHECK = "10X98765432"  # the check character for (sum of weighted digits) mod 11
# First two digits: the province-level division of GB/T 2260 (71 Taiwan, 81 Hong Kong, 82 Macao; 83 the
# residence permits of Taiwan residents).
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
    "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
    "83",
})


def id_check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 over the first 17 digits, as GB 11643 specifies it."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("17 digits expected")
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def birth_date_of(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def validate_id_number(raw: str, *, today: date | None = None) -> str:
    """An 18-character resident ID number, upper-case X: region, birth date and check character checked."""
    text = _clean(raw).replace(" ", "").upper()
    if len(text) != 18 or not text[:17].isascii() or not text[:17].isdigit() or text[17] not in "0123456789X":
        raise InvalidKyc("id_number", "format")
    if text[:2] not in PROVINCES:
        raise InvalidKyc("id_number", "region")
    try:
        born = birth_date_of(text)
    except ValueError:
        raise InvalidKyc("id_number", "birth-date") from None
    if born.year < 1900 or born > (today or clock.now().astimezone(BEIJING).date()):
        raise InvalidKyc("id_number", "birth-date")
    if id_check_character(text[:17]) != text[17]:
        raise InvalidKyc("id_number", "checksum")
    return text


# --- e-mail, name, address ------------------------------------------------------------------------------

_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def validate_email(raw: str) -> str:
    """A deliverable-looking address (RFC 5321 sizes, dot-atom local part, a dotted domain with an
    alphabetic top level). The domain is lower-cased; the local part is kept as typed."""
    text = _clean(raw)
    local, at, domain = text.rpartition("@")
    labels = domain.split(".")
    if (
        not at or len(text) > 254 or len(local) > 64 or not _LOCAL.fullmatch(local) or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels) or not labels[-1].isalpha()
        or len(labels[-1]) < 2
    ):
        raise InvalidKyc("email", "format")
    return f"{local}@{domain.lower()}"


_HAN = r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ebef]"
_HAN_NAME = re.compile(rf"{_HAN}+(?:·{_HAN}+)*")
_NAME_DOTS = str.maketrans({"•": "·", "・": "·", ".": "·", "．": "·", "‧": "·"})


def _latin_letter(ch: str) -> bool:
    return ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN ")


def validate_legal_name(raw: str) -> str:
    """A name as on the ID card: Han characters (ethnic minority names joined by "·", e.g.
    "阿依古丽·买买提"), or a Latin-script name (letters, spaces, hyphens, apostrophes)."""
    text = _clean(raw)
    han = text.replace(" ", "").translate(_NAME_DOTS)
    if _HAN_NAME.fullmatch(han):
        if not 2 <= len(han) <= 30:
            raise InvalidKyc("legal_name", "length")
        return han
    words = text.split(" ")
    latin = all(w and all(_latin_letter(ch) or ch in "-'" for ch in w) and _latin_letter(w[0])
                and _latin_letter(w[-1]) for w in words)
    if not latin:
        raise InvalidKyc("legal_name", "characters")
    if not 2 <= len(text) <= 60:
        raise InvalidKyc("legal_name", "length")
    return text


def validate_address(raw: str) -> str:
    text = _clean(raw)
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise InvalidKyc("address", "characters")
    if not 5 <= len(text) <= 200:
        raise InvalidKyc("address", "length")
    return text


@dataclass(frozen=True)
class KycData:
    """Validated, normalised KYC details (clear text: keep it in memory, never log it)."""

    legal_name: str
    id_number: str
    email: str
    address: str
    phone: str | None = None

    def __repr__(self) -> str:  # a stray log of the object shows no personal data
        return "KycData(<sealed>)"


def validate(
    *, legal_name: str, id_number: str, email: str, address: str, phone: str | None = None
) -> tuple[KycData | None, dict[str, str]]:
    """Every field checked (not just the first bad one): the data, or None with {field: reason}."""
    checks = {
        "legal_name": (validate_legal_name, legal_name), "id_number": (validate_id_number, id_number),
        "email": (validate_email, email), "address": (validate_address, address),
    }
    if phone is not None:
        checks["phone"] = (normalise_phone, phone)
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, (check, raw) in checks.items():
        try:
            values[name] = check(raw)
        except InvalidKyc as exc:
            errors[name] = exc.reason
    if errors:
        return None, errors
    return KycData(**values), {}


def personal_words(data: KycData, *, username: str = "") -> list[str]:
    """What a password must not contain (the password policy's `personal`): ID number and its birth date,
    phone digits, the e-mail's local part, the name."""
    words = [data.id_number, data.id_number[6:14], data.id_number[-6:], data.email.split("@")[0],
             data.legal_name, username]
    if data.phone:
        words += [data.phone.removeprefix("+86"), data.phone[-8:]]
    return [w for w in words if w]


# --- on the customer --------------------------------------------------------------------------------------


def write(customer: Customer, data: KycData) -> None:
    """Seal the details onto the customer (the phone, when given, with its blind index). The caller flushes;
    a phone another customer holds fails on the unique blind index — check `service.find_customer_by_phone`
    first for a friendly error."""
    for name in FIELDS:
        value = getattr(data, name)
        if value is None:
            continue
        setattr(customer, _COLUMNS[name], pii.seal(value, context=CONTEXTS[name]))
    if data.phone is not None:
        customer.phone_hash = service.phone_index(data.phone)


def _read(customer: Customer, name: str) -> str | None:
    return pii.unseal_optional(getattr(customer, _COLUMNS[name]), context=CONTEXTS[name])


MASKS = {
    "phone": pii.mask_phone, "email": pii.mask_email, "legal_name": pii.mask_name,
    "id_number": pii.mask_id_number, "address": pii.mask_address,
}


class CustomerProfile(BaseModel):
    """The customer's details as every screen shows them: masked. `None`: not on file."""

    id: str
    username: str
    display_name: str
    locale: str
    legal_name: str | None
    id_number: str | None
    phone: str | None
    email: str | None
    address: str | None


def _customer(session: Session, customer_id: str) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("no such customer")
    return customer


def profile(session: Session, customer_id: str) -> CustomerProfile:
    customer = _customer(session, customer_id)
    masked: dict[str, str | None] = {}
    for name in FIELDS:
        value = _read(customer, name)
        masked[name] = None if value is None else MASKS[name](value)
    return CustomerProfile(
        id=customer.id, username=customer.username, display_name=customer.display_name,
        locale=customer.locale, **masked,
    )


def reveal(session: Session, customer_id: str, field: str) -> str:
    """One detail in clear, for the customer themself (the edge passes the signed-in customer's own id;
    nothing here may be called with another customer's id on their behalf)."""
    if field not in CONTEXTS:
        raise ValidationFailed("unknown detail", field=field)
    value = _read(_customer(session, customer_id), field)
    if value is None:
        raise KycNotOnFile("that detail is not on file", field=field)
    return value
