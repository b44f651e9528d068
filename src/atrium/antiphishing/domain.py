"""The anti-phishing check's rules: is this text, link or number really the bank's? Pure; no database.

`analyse(text, registry, sent)` finds every link, e-mail address, phone number and verify code in the
text (`extract`) and judges each one against the bank's registered channels (`Registry`) and the messages
the bank really sent (`sent`: verify code → `SentRecord`, looked up by the service beforehand):

- **genuine**: a registered domain or number, or a verify code the bank issued (with whether the pasted
  text is the text that was sent);
- **suspicious**, with reasons: a domain imitating a bank domain (confusable characters, one or two edits,
  mixed scripts, the bank's name in another registrant's domain or subdomain), a link shortener, a bank
  domain posing as userinfo (`atrium.bank@evil.com`), an unregistered number in a text that claims to be
  the bank, a verify code the bank never issued or a text that differs from the one sent, wording that
  asks for codes or passwords;
- **unknown**: recognisable but not the bank's and not imitating it. An unknown domain is never called
  phishing just for being unknown.

The whole text is genuine when the bank's verify code authenticates it (the text is the one sent); else
suspicious if anything is; genuine if everything found is; else unknown. Reasons are stable ids with
parameters; `reasons.py` words them in Chinese and English.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from atrium.antiphishing import lookalike as look
from atrium.antiphishing.extract import (
    Code,
    Email,
    Extracted,
    Link,
    Phone,
    classify_phone,
    extract,
    normalise_host,
    prepare,
)

Verdict = Literal["genuine", "suspicious", "unknown"]
ChannelKind = Literal["phone", "sms", "web", "email"]
CHANNEL_KINDS: tuple[str, ...] = ("web", "email", "phone", "sms")
MAX_TEXT = 2_000


@dataclass(frozen=True)
class Registered:
    """One active registered channel, in normal form (see `normalise_channel`)."""

    kind: str
    value: str
    label: str
    include_subdomains: bool = False


@dataclass(frozen=True)
class Registry:
    channels: tuple[Registered, ...]
    brands: tuple[str, ...]  # the bank's names: "atrium", "中庭银行", …

    def host_label(self, host: str, kinds: tuple[str, ...]) -> str | None:
        mine = [c for c in self.channels if c.kind in kinds]
        exact = next((c.label for c in mine if host == c.value), None)  # the most specific entry first
        return exact or next(
            (c.label for c in mine if c.include_subdomains and host.endswith("." + c.value)), None
        )

    def number_label(self, value: str) -> str | None:
        return next((c.label for c in self.channels if c.kind in ("phone", "sms") and c.value == value), None)

    def hosts(self) -> list[str]:
        return [c.value for c in self.channels if c.kind in ("web", "email")]


@dataclass(frozen=True)
class SentRecord:
    """A message the bank sent, as the check may show it (never its body, which may hold a live code)."""

    code: str
    body: str
    sent_at: datetime
    recipient_masked: str
    channel: str
    category: str


@dataclass(frozen=True)
class Reason:
    id: str
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, id: str, **params: str) -> Reason:  # noqa: A002 - a reason's id
        return cls(id, tuple(sorted(params.items())))


@dataclass(frozen=True)
class Finding:
    kind: str  # link | email | phone | sender | code
    text: str  # as found in the text
    value: str  # normal form
    display: str  # for people (a Unicode host, a masked code …)
    verdict: Verdict
    reasons: tuple[Reason, ...]
    label: str | None = None  # the registered channel's label, when genuine
    sent: SentRecord | None = None
    text_matches: bool | None = None  # for a code: the pasted text is the text sent (None: only the code)


@dataclass(frozen=True)
class Analysis:
    verdict: Verdict
    findings: tuple[Finding, ...]
    reasons: tuple[Reason, ...]  # about the text as a whole
    claims_bank: bool = False
    codes_looked_up: tuple[str, ...] = field(default=())


class InvalidChannel(ValueError):
    """A channel value that is not a domain, phone number or sender id of its kind."""


def normalise_channel(kind: str, value: str) -> str:
    """The normal form a registered channel is stored and matched in; InvalidChannel when it is none."""
    if kind not in CHANNEL_KINDS:
        raise InvalidChannel(f"unknown channel kind {kind!r}")
    text = prepare(value).strip()
    if kind in ("web", "email"):
        text = re.sub(r"^[a-z]+://", "", text.casefold()).split("/", 1)[0].split("@")[-1].split(":", 1)[0]
        norm = normalise_host(text)
        if norm is None or "." not in norm[0] or not re.fullmatch(r"[a-z0-9.-]+", norm[0]):
            raise InvalidChannel("not a domain name")
        return norm[0]
    phone = classify_phone(text)
    if phone is not None:
        return phone.value
    if kind == "sms" and re.fullmatch(r"[A-Za-z][A-Za-z0-9 ._-]{1,19}", text):
        return text.casefold()  # an alphanumeric sender id
    raise InvalidChannel("not a phone number" if kind == "phone" else "not a short code or sender id")


# --- hosts ------------------------------------------------------------------------------------------------


def _imitation(host: str, display: str, registry: Registry) -> list[Reason]:
    """Why a host that is not registered imitates one that is (empty: it does not)."""
    reasons: list[Reason] = []
    shape = look.skeleton(display)
    reg_shape = look.skeleton(look.registrable(display))
    for known in registry.hosts():
        known_shape = look.skeleton(known)
        if shape == known_shape or reg_shape == known_shape:
            reasons.append(Reason.of("confusable_characters", host=display, like=known))
            break
        mine, theirs = look.registrable(host), look.registrable(known)
        allowed = 2 if len(theirs) >= 8 else 1
        if look.edit_distance(mine, theirs, cap=allowed + 1) <= allowed:
            reasons.append(Reason.of("lookalike_domain", host=display, like=known))
            break
    if look.mixes_spoofing_scripts(display):
        reasons.append(Reason.of("mixed_scripts", host=display))
    if not reasons:
        sld = look.second_level(display)
        brand = look.contains_brand(sld, registry.brands)
        if brand:
            reasons.append(Reason.of("brand_in_domain", host=display, brand=brand))
        elif (near := look.near_brand(sld, registry.brands)) is not None:
            reasons.append(Reason.of("lookalike_domain", host=display, like=near))
    for label in look.subdomain_labels(display):
        brand = look.contains_brand(label, registry.brands)
        if brand:
            domain = look.registrable(display)
            reasons.append(Reason.of("brand_in_subdomain", host=display, brand=brand, domain=domain))
            break
    return reasons


def _judge_link(link: Link, registry: Registry, claims_bank: bool) -> Finding:
    if link.is_ip:
        verdict: Verdict = "suspicious" if claims_bank else "unknown"
        reason = Reason.of("ip_address_link" if claims_bank else "domain_not_registered", host=link.host)
        return Finding("link", link.raw, link.host, link.display_host, verdict, (reason,))
    reasons: list[Reason] = []
    if link.userinfo:
        posing = normalise_host(link.userinfo)
        if (posing and registry.host_label(posing[0], ("web", "email"))) or look.contains_brand(
            link.userinfo, registry.brands
        ):
            reasons.append(Reason.of("userinfo_disguise", shown=link.userinfo, host=link.display_host))
    label = registry.host_label(link.host, ("web",))
    if label and not reasons:
        reason = Reason.of("registered_domain", host=link.display_host, label=label)
        return Finding("link", link.raw, link.host, link.display_host, "genuine", (reason,), label=label)
    if not label:
        if look.is_shortener(link.host):
            reasons.append(Reason.of("url_shortener", host=link.display_host))
        reasons.extend(_imitation(link.host, link.display_host, registry))
    if reasons:
        return Finding("link", link.raw, link.host, link.display_host, "suspicious", tuple(reasons))
    reason = Reason.of("domain_not_registered", host=link.display_host)
    return Finding("link", link.raw, link.host, link.display_host, "unknown", (reason,))


def _judge_email(email: Email, registry: Registry) -> Finding:
    address = f"{email.local}@{email.display_host}"
    label = registry.host_label(email.host, ("email",))
    if label:
        reason = Reason.of("registered_email_domain", host=email.display_host, label=label)
        return Finding("email", email.raw, email.host, address, "genuine", (reason,), label=label)
    reasons = _imitation(email.host, email.display_host, registry)
    if not reasons and look.contains_brand(email.local, registry.brands):
        reasons.append(Reason.of("brand_in_email_name", address=address))
    if reasons:
        return Finding("email", email.raw, email.host, address, "suspicious", tuple(reasons))
    reason = Reason.of("domain_not_registered", host=email.display_host)
    return Finding("email", email.raw, email.host, address, "unknown", (reason,))


# --- numbers, codes and wording ----------------------------------------------------------------------------


def _judge_phone(phone: Phone, registry: Registry, claims_bank: bool) -> Finding:
    label = registry.number_label(phone.value)
    if label:
        reason = Reason.of("registered_number", number=phone.raw, label=label)
        return Finding("phone", phone.raw, phone.value, phone.raw, "genuine", (reason,), label=label)
    if claims_bank:
        reason = Reason.of("unregistered_number_claims_bank", number=phone.raw)
        return Finding("phone", phone.raw, phone.value, phone.raw, "suspicious", (reason,))
    reason = Reason.of("number_not_registered", number=phone.raw)
    return Finding("phone", phone.raw, phone.value, phone.raw, "unknown", (reason,))


_OPEN, _CLOSE = r"[\[【(（][^\]】)）\[【]{0,40}?", r"[^\]】)）]{0,5}[\]】)）]"
_LEFTOVER = re.compile(
    r"(?i)[\W_]|atrium|中庭银行|核验码|校验码|check\s*code|verif(?:y|ication)\s*(?:code|ref(?:erence)?)"
)


def _comparable(text: str, code: str) -> str:
    """The text without the code (and the bracket it stands in) and without whitespace (a copy from a phone
    may break lines or add spaces; nobody tampers with a message by spacing it)."""
    pattern = code.replace("-", r"[\s‐‑–—-]?")
    out = re.sub(_OPEN + pattern + _CLOSE, " ", prepare(text), flags=re.IGNORECASE)
    out = re.sub(pattern, " ", out, flags=re.IGNORECASE)
    return "".join(out.split())


def _same_text(pasted: str, sent: str) -> bool:
    """The pasted text is the sent one. A secret the bank kept out of its record (a one-time code, stored
    as "••••••") matches any characters of the same length in that place."""
    if "•" not in sent:
        return pasted == sent
    parts = re.split(r"(•+)", sent)
    pattern = "".join(f".{{{len(p)}}}" if p.startswith("•") else re.escape(p) for p in parts)
    return re.fullmatch(pattern, pasted) is not None


def _judge_code(code: Code, text: str, record: SentRecord | None) -> Finding:
    if record is None:
        reason = Reason.of("code_not_issued", code=code.value)
        return Finding("code", code.raw, code.value, code.value, "suspicious", (reason,))
    issued = Reason.of("code_issued", code=code.value)
    pasted = _comparable(text, code.value)
    if not _LEFTOVER.sub("", pasted):
        reasons = (issued, Reason.of("text_not_given"))
        return Finding("code", code.raw, code.value, code.value, "genuine", reasons, sent=record)
    if _same_text(pasted, _comparable(record.body, code.value)):
        reasons = (issued, Reason.of("text_matches"))
        return Finding("code", code.raw, code.value, code.value, "genuine", reasons, sent=record,
                       text_matches=True)
    reasons_list = [issued, Reason.of("text_differs")]
    sent_parts = extract(record.body)
    sent_hosts = {link.host for link in sent_parts.links} | {e.host for e in sent_parts.emails}
    sent_numbers = {p.value for p in sent_parts.phones}
    found = extract(text)
    for host in dict.fromkeys([link.display_host for link in found.links if link.host not in sent_hosts]):
        reasons_list.append(Reason.of("text_added_link", host=host))
    for phone in found.phones:
        if phone.value not in sent_numbers:
            reasons_list.append(Reason.of("text_added_number", number=phone.raw))
    return Finding("code", code.raw, code.value, code.value, "suspicious", tuple(reasons_list), sent=record,
                   text_matches=False)


_ASKED_FOR_ZH = (
    r"(?:验证码|动态码|校验码|核验码|动态密码|登录密码|支付密码|交易密码|密码|口令|银行卡号|卡号|CVV|安全码)"
)
_ASK_ZH = re.compile(
    r"(?:提供|告诉|告知|发送|发给|发到|回复|报给|报一下|念给|念一下|透露|转发|说出)(?:一下)?(?:给)?"
    r"(?:我们|我|客服|工作人员|专员)?(?:您的|你的|您|你)?(?:收到的)?(?:短信)?" + _ASKED_FOR_ZH
    + r"|" + _ASKED_FOR_ZH + r"(?:发|告诉|报|转发|截图发)给(?:我们|我|客服|工作人员|专员)",
    re.IGNORECASE,
)
_ASK_EN = re.compile(
    r"\b(?:send|tell|give|share|provide|reply\s+with|read\s+out|forward|text)\s+(?:(?:it\s+)?to\s+)?"
    r"(?:us\s+|me\s+)?(?:your|the)\s+(?:(?:one[- ]time|sms|verification|security|login)\s+)?"
    r"(?:code|otp|password|passcode|pin|cvv|card\s+number)\b",
    re.IGNORECASE,
)
_NOT_ZH = re.compile(r"(?:勿|不要|别|不会|绝不|从不|不得|禁止|谨防|不能)[^。！!？?\n]{0,8}$")
_NOT_EN = re.compile(
    r"(?i)\b(?:never|not|don't|do\s+not|won't|will\s+not|no\s+one|nobody|nor)\b[^.!?\n]{0,30}$"
)


def asks_for_secrets(text: str) -> list[Reason]:
    """Wording that asks the reader to hand over a code, password or card number (a warning *not* to
    share one, as the bank's own messages carry, does not count)."""
    reasons = []
    for pattern, negation in ((_ASK_ZH, _NOT_ZH), (_ASK_EN, _NOT_EN)):
        for m in pattern.finditer(text):
            if not negation.search(text[max(0, m.start() - 40): m.start()]):
                reasons.append(Reason.of("asks_for_secret", phrase=m.group(0)))
    return reasons[:3]


def claims_to_be_bank(text: str, brands: tuple[str, ...]) -> bool:
    folded = text.casefold()
    return any(brand.casefold() in folded for brand in brands)


# --- the whole text ---------------------------------------------------------------------------------------


def codes_in(text: str) -> list[str]:
    """The verify codes a text carries: the service looks these up before `analyse`."""
    return list(dict.fromkeys(c.value for c in extract(text).codes))


def _sender(text: str, registry: Registry) -> Finding | None:
    whole = prepare(text).strip().casefold()
    for c in registry.channels:
        if c.kind == "sms" and not c.value.isdigit() and c.value == whole:
            reason = Reason.of("registered_sender", number=text.strip(), label=c.label)
            return Finding("sender", text.strip(), c.value, text.strip(), "genuine", (reason,), label=c.label)
    return None


def _overall(findings: list[Finding], text_reasons: list[Reason]) -> Verdict:
    if text_reasons or any(f.verdict == "suspicious" for f in findings):
        return "suspicious"
    if findings and all(f.verdict == "genuine" for f in findings):
        return "genuine"
    return "unknown"


def analyse(text: str, registry: Registry, sent: Mapping[str, SentRecord | None]) -> Analysis:
    """Judge everything found in `text`. `sent` maps each code of `codes_in(text)` to the message the bank
    sent with it, or None when the bank never issued it."""
    found: Extracted = extract(text[:MAX_TEXT])
    claims = claims_to_be_bank(found.rest, registry.brands)
    findings: list[Finding] = []
    sender = _sender(text, registry)
    if sender is not None:
        findings.append(sender)
    findings += [_judge_code(c, text, sent.get(c.value)) for c in found.codes]
    findings += [_judge_link(link, registry, claims) for link in found.links]
    findings += [_judge_email(e, registry) for e in found.emails]
    findings += [_judge_phone(p, registry, claims) for p in found.phones]
    codes = tuple(c.value for c in found.codes)
    if any(f.kind == "code" and f.text_matches for f in findings):
        # The bank's own code vouches for the whole text: it is, word for word, the message sent.
        return Analysis("genuine", tuple(findings), (Reason.of("message_authentic"),), claims, codes)
    text_reasons = asks_for_secrets(found.rest)
    return Analysis(_overall(findings, text_reasons), tuple(findings), tuple(text_reasons), claims, codes)
