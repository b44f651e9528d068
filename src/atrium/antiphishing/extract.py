"""Finding links, e-mail addresses, phone numbers and the bank's verify codes in free text, normalised.

Pure functions. The text is first *prepared*: NFKC (full-width letters and digits become ASCII),
zero-width characters removed, an ideographic full stop between letters read as a dot, and a space put
between Chinese characters and Latin letters or digits, so `请访问atrium.bank领取` and `客服4008202026`
split where a reader sees the words split. Each kind of thing found is then blanked out of the text
(links first, then codes, then phone numbers), so no part of the text is read twice.

Normal forms: a host is lower case, IDNA (punycode) ASCII, without userinfo, port or trailing dot, with
its Unicode form kept for display; a Chinese phone number is its national digits (`+86 138-1234-5678` →
`13812345678`, `+86 21 6020 2026` → `02160202026`), another country's is `+` and digits; a verify code
is upper case with one dash (`K7Q2-9M4X`).
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from dataclasses import dataclass, field

import idna

from atrium.antiphishing.lookalike import KNOWN_TLDS, skeleton

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"))
_HAN = r"\u2e80-\u2fdf\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_ASCII = re.compile(rf"(?<=[{_HAN}])(?=[A-Za-z0-9])|(?<=[A-Za-z0-9/])(?=[{_HAN}])")
_IDEOGRAPHIC_DOT = re.compile(r"(?<=[A-Za-z0-9])[。｡](?=[A-Za-z0-9])")

_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_HOST = rf"(?:{_LABEL}\.)+{_LABEL}"
_IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}"
_PATH = r"(?:[/?#][!#-;=?-~]*)?"
_SCHEME_URL = re.compile(
    rf"(?<![A-Za-z0-9+.-])(?:https?|ftp)://(?:(?P<userinfo>[^\s/?#@]+)@)?"
    rf"(?P<host>{_IPV4}|{_HOST})\.?(?::(?P<port>\d{{1,5}}))?(?P<path>{_PATH})",
    re.IGNORECASE,
)
_BARE = re.compile(
    rf"(?<![\w.@/:%+-])(?:(?P<userinfo>[\w.%+-]+)@)?(?P<host>{_HOST})\.?(?::(?P<port>\d{{1,5}}))?"
    rf"(?P<path>{_PATH})"
)
_TRAILING = ".,;:!?'\")]}>"

_CODE_LABEL = r"(?:核验码|校验码|check\s*code|verif(?:y|ication)\s*(?:code|ref(?:erence)?))"
_LABELLED_CODE = re.compile(
    rf"{_CODE_LABEL}[\s:：]*([A-Za-z0-9]{{4}})[\s‐‑–—-]?([A-Za-z0-9]{{4}})(?![A-Za-z0-9])", re.IGNORECASE
)
_BARE_CODE = re.compile(r"(?<![A-Za-z0-9-])([A-Z0-9]{4})[‐‑–—-]([A-Z0-9]{4})(?![A-Za-z0-9-])")
_WHOLE_CODE = re.compile(r"([A-Za-z0-9]{4})([\s‐‑–—-]?)([A-Za-z0-9]{4})")

_PHONE = re.compile(r"(?<![A-Za-z0-9.,:+/-])(?:\+|00)?\(?\d[\d \t\u3000\-()]{2,24}\d(?![A-Za-z0-9]|[.,:]\d)")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_SERVICE = re.compile(r"[48]00\d{7}")
_HOTLINE = re.compile(r"95\d{3}")
_SMS = re.compile(r"106\d{5,17}")
_LANDLINE = re.compile(r"0[1-9]\d{8,10}")


@dataclass(frozen=True)
class Link:
    raw: str  # as written (after preparation)
    host: str  # normal form: lower case, IDNA ASCII
    display_host: str  # Unicode form, for people
    userinfo: str = ""  # what stood before "@" (`https://atrium.bank@evil.com` → "atrium.bank")
    is_ip: bool = False
    has_scheme: bool = False


@dataclass(frozen=True)
class Email:
    raw: str
    local: str
    host: str
    display_host: str


@dataclass(frozen=True)
class Phone:
    raw: str
    value: str  # national digits, or "+" and digits for another country
    kind: str  # mobile | landline | service (400/800) | hotline (95xxx) | sms (106…) | international


@dataclass(frozen=True)
class Code:
    raw: str
    value: str  # "K7Q2-9M4X"


@dataclass
class Extracted:
    text: str  # the prepared text
    rest: str  # the prepared text with everything found blanked out
    links: list[Link] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)
    phones: list[Phone] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)


def prepare(text: str) -> str:
    out = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)
    out = _IDEOGRAPHIC_DOT.sub(".", out)
    return _HAN_ASCII.sub(" ", out)


def normalise_host(raw: str) -> tuple[str, str] | None:
    """(IDNA ASCII form, Unicode form) of a host name, or None when it is not one."""
    name = unicodedata.normalize("NFKC", raw).translate(_ZERO_WIDTH).lower()
    name = name.replace("。", ".").replace("｡", ".").strip().strip(".")
    if not name or ".." in name or len(name) > 253:
        return None
    labels = name.split(".")
    display = []
    for label in labels:
        if label.startswith("xn--"):
            with contextlib.suppress(idna.IDNAError, UnicodeError):  # malformed: shown as written
                label = idna.decode(label)
        display.append(label)
    shown = ".".join(display)
    try:
        ascii_form = idna.encode(shown, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        ascii_form = shown  # not a valid IDN (an underscore, a symbol): kept, never a registered name
    return ascii_form, shown


def _tld_ok(display_host: str, *, strict: bool) -> bool:
    tld = display_host.rsplit(".", 1)[-1]
    if tld.startswith("xn--") or tld in KNOWN_TLDS:
        return True
    if not strict:
        return len(tld) >= 2 and all(c.isalpha() for c in tld)
    return skeleton(tld) in KNOWN_TLDS  # "bаnk" (a Cyrillic а) still ends in a top-level domain


def _blank(chars: list[str], start: int, end: int) -> None:
    for i in range(start, end):
        if chars[i] != "\n":
            chars[i] = " "


def _trim_path(path: str) -> str:
    return path.rstrip(_TRAILING) if path else ""


def _links_and_emails(found: Extracted, chars: list[str]) -> None:
    text = "".join(chars)
    for m in _SCHEME_URL.finditer(text):
        host_raw = m.group("host")
        is_ip = re.fullmatch(_IPV4, host_raw) is not None
        norm = (host_raw, host_raw) if is_ip else normalise_host(host_raw)
        if norm is None:
            continue
        end = m.end() - (len(m.group("path") or "") - len(_trim_path(m.group("path") or "")))
        userinfo = m.group("userinfo") or ""
        found.links.append(Link(text[m.start():end], norm[0], norm[1], userinfo, is_ip, has_scheme=True))
        _blank(chars, m.start(), end)
    text = "".join(chars)
    for m in _BARE.finditer(text):
        norm = normalise_host(m.group("host"))
        path = _trim_path(m.group("path") or "")
        userinfo = m.group("userinfo") or ""
        if norm is None:
            continue
        is_url = not userinfo or bool(path) or m.group("port") is not None
        if not _tld_ok(norm[1], strict=is_url and not userinfo):
            continue
        end = m.end() - (len(m.group("path") or "") - len(path))
        raw = text[m.start():end]
        if is_url:
            found.links.append(Link(raw, norm[0], norm[1], userinfo))
        else:
            found.emails.append(Email(raw, userinfo, norm[0], norm[1]))
        _blank(chars, m.start(), end)


def _code(first: str, second: str) -> str:
    return f"{first.upper()}-{second.upper()}"


def _codes(found: Extracted, chars: list[str]) -> None:
    text = "".join(chars)
    whole = _WHOLE_CODE.fullmatch(text.strip())
    # The whole text is one code: "k7q2-9m4x" as typed; without a dash it needs letters and digits ("password"
    # is a word, not a code).
    if whole and any(c.isalpha() for c in whole.group(0)) and (
        whole.group(2) or any(c.isdigit() for c in whole.group(0))
    ):
        found.codes.append(Code(whole.group(0), _code(whole.group(1), whole.group(3))))
        _blank(chars, 0, len(chars))
        return
    for pattern in (_LABELLED_CODE, _BARE_CODE):
        text = "".join(chars)
        for m in pattern.finditer(text):
            if pattern is _BARE_CODE and not any(c.isalpha() for c in m.group(0)):
                continue  # 2024-0501 or 1234-5678: digits only, a date or a number
            found.codes.append(Code(m.group(0), _code(m.group(1), m.group(2))))
            _blank(chars, m.start(1), m.end(2))


def classify_phone(written: str) -> Phone | None:
    """A phone number in any usual Chinese notation (or +country for another), or None."""
    digits = re.sub(r"\D", "", written)
    international = written.lstrip().startswith("+") or digits.startswith("00")
    if digits.startswith("00"):
        digits = digits[2:]
    if international or (digits.startswith("86") and len(digits) == 13 and _MOBILE.fullmatch(digits[2:])):
        if not digits.startswith("86"):
            return Phone(written, "+" + digits, "international") if 7 <= len(digits) <= 15 else None
        digits = digits[2:]
        if not digits.startswith("0") and not _MOBILE.fullmatch(digits) and not _SERVICE.fullmatch(digits):
            digits = "0" + digits  # +86 21 … : the trunk zero is dropped after the country code
    for kind, pattern in (("mobile", _MOBILE), ("service", _SERVICE), ("hotline", _HOTLINE), ("sms", _SMS),
                          ("landline", _LANDLINE)):
        if pattern.fullmatch(digits):
            return Phone(written, digits, kind)
    return None


def _split_candidate(candidate: str) -> list[Phone]:
    """Numbers written next to each other (`验证码 123456 138 1234 5678`): the longest run of space-
    separated groups from each position that reads as one number."""
    whole = classify_phone(candidate)
    if whole is not None:
        return [whole]
    groups = candidate.split()
    phones, i = [], 0
    while i < len(groups):
        for j in range(len(groups), i, -1):
            phone = classify_phone(" ".join(groups[i:j]))
            if phone is not None:
                phones.append(phone)
                i = j
                break
        else:
            i += 1
    return phones


def _phones(found: Extracted, chars: list[str]) -> None:
    text = "".join(chars)
    for m in _PHONE.finditer(text):
        phones = _split_candidate(m.group(0).strip(" \t\u3000()-"))
        found.phones.extend(phones)
        if phones:
            _blank(chars, m.start(), m.end())


def extract(text: str) -> Extracted:
    prepared = prepare(text)
    found = Extracted(text=prepared, rest=prepared)
    chars = list(prepared)
    _links_and_emails(found, chars)
    _codes(found, chars)
    _phones(found, chars)
    found.rest = "".join(chars)
    return found


def normalise_code(text: str) -> str | None:
    """`k7q2 9m4x` → `K7Q2-9M4X`; None when it is not eight letters and digits."""
    m = _WHOLE_CODE.fullmatch(prepare(text).strip())
    return _code(m.group(1), m.group(3)) if m else None
