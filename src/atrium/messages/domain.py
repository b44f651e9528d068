"""Pure rules of the inbox: categories and the channels each may use, a customer's channel choices, message
templates (their `{placeholders}` and rendering in a locale), links, notices' audiences and retry timing.

No SQLAlchemy, no FastAPI: tested without a database.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from babel import dates, numbers

from atrium.kit.money import exponent
from atrium.messages.errors import InvalidLink, InvalidNotice, InvalidPreferences, InvalidTemplate

Category = Literal["transaction", "security", "service", "marketing"]
CATEGORIES: tuple[str, ...] = ("transaction", "security", "service", "marketing")
Channel = Literal["sms", "push"]
CHANNELS: tuple[str, ...] = ("sms", "push")  # besides the inbox, which every message reaches
LOCALES: tuple[str, ...] = ("zh", "en")
AUDIENCES: tuple[str, ...] = ("all", "person", "company_operator", "merchant")
TEMPLATE_KEY = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+){1,3}$")
PLACEHOLDER = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TITLE_MAX, BODY_MAX, LINK_MAX = 120, 1000, 300

# The bank serves customers in mainland China: times in messages are Beijing time.
DISPLAY_TZ = ZoneInfo("Asia/Shanghai")
_BABEL_LOCALE = {"zh": "zh_Hans_CN", "en": "en_US"}


@dataclass(frozen=True)
class ChannelRule:
    """Which channels a category may use, which the customer cannot switch off, which start on."""

    allowed: frozenset[str]
    locked: frozenset[str]
    default_on: frozenset[str]


# Security alerts reach the customer on every channel, always: a stolen session must not be able to mute
# them. Notices and marketing never go by SMS (a text costs the bank and reads like a phishing attempt).
RULES: dict[str, ChannelRule] = {
    "transaction": ChannelRule(frozenset(CHANNELS), frozenset(), frozenset({"push"})),
    "security": ChannelRule(frozenset(CHANNELS), frozenset(CHANNELS), frozenset(CHANNELS)),
    "service": ChannelRule(frozenset({"push"}), frozenset(), frozenset()),
    "marketing": ChannelRule(frozenset({"push"}), frozenset(), frozenset()),
}

ChannelChoices = dict[str, dict[str, bool]]


def resolve_choices(stored: Mapping[str, Mapping[str, object]] | None) -> ChannelChoices:
    """The customer's effective channel choices: stored choices over the defaults, locked channels on,
    channels a category may not use absent."""
    out: ChannelChoices = {}
    for category in CATEGORIES:
        rule = RULES[category]
        mine = (stored or {}).get(category) or {}
        out[category] = {
            ch: True if ch in rule.locked else bool(mine.get(ch, ch in rule.default_on))
            for ch in CHANNELS
            if ch in rule.allowed
        }
    return out


def check_choices(wanted: Mapping[str, Mapping[str, bool]]) -> ChannelChoices:
    """Validate a customer's new choices (only what they name changes); refuse switching off a locked
    channel or choosing one the category may not use."""
    clean: ChannelChoices = {}
    for category, chans in wanted.items():
        if category not in RULES:
            raise InvalidPreferences(f"unknown category {category!r}", field=category)
        rule = RULES[category]
        for channel, on in chans.items():
            if channel not in rule.allowed:
                raise InvalidPreferences(f"{category} messages cannot go by {channel}", field=category)
            if channel in rule.locked and not on:
                raise InvalidPreferences(f"{category} alerts cannot be switched off", field=category)
            clean.setdefault(category, {})[channel] = bool(on)
    return clean


def may_receive(category: str, marketing_opt_in: bool) -> bool:
    """Marketing reaches only those who said yes; everything else reaches everyone."""
    return category != "marketing" or marketing_opt_in


def channels_to_send(category: str, template_channels: tuple[str, ...] | list[str],
                     choices: ChannelChoices) -> tuple[str, ...]:
    """The channels (besides the inbox) one message goes out on: what its template uses, what the category
    allows and what the customer chose — locked channels regardless of the choice."""
    rule = RULES[category]
    mine = choices.get(category, {})
    return tuple(
        ch for ch in CHANNELS
        if ch in template_channels and ch in rule.allowed and (ch in rule.locked or mine.get(ch, False))
    )


# --- template text ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class Label:
    """A word from the definitions' label table (a switch name, a return reason), in the message's
    language."""

    key: str


@dataclass(frozen=True)
class Moment:
    at: datetime


Value = str | int | Money | Label | Moment | date


def placeholders(text: str) -> list[str]:
    """The `{names}` in a template text, in order. Refuses what `str.format` would treat as code: attribute
    or index access, conversions, format specs, unbalanced braces (staff write these texts)."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise InvalidTemplate(f"unbalanced braces: {exc}") from exc
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not PLACEHOLDER.match(name) or spec or conversion:
            raise InvalidTemplate(f"{{{name}}} is not a placeholder: write {{name}}, letters and digits")
        names.append(name)
    return names


def check_text(text: str, allowed: frozenset[str] | set[str], *, limit: int, field: str) -> str:
    clean = (text or "").strip()
    if not clean:
        raise InvalidTemplate(f"{field} is empty", field=field)
    if len(clean) > limit:
        raise InvalidTemplate(f"{field} is longer than {limit} characters", field=field)
    unknown = sorted(set(placeholders(clean)) - set(allowed))
    if unknown:
        raise InvalidTemplate(f"{field} uses unknown placeholders {unknown}", field=field, unknown=unknown)
    return clean


def format_money(amount_minor: int, currency: str, locale: str) -> str:
    """`¥1,234.50` (zh) / `CN¥1,234.50` (en), as the app shows money (Babel, CLDR)."""
    value = Decimal(amount_minor).scaleb(-exponent(currency))
    return numbers.format_currency(value, currency, locale=_BABEL_LOCALE.get(locale, "zh_Hans_CN"),
                                   currency_digits=True, group_separator=True)


def format_value(value: Value, locale: str, labels: Mapping[str, Mapping[str, str]]) -> str:
    babel = _BABEL_LOCALE.get(locale, "zh_Hans_CN")
    if isinstance(value, Money):
        return format_money(value.amount_minor, value.currency, locale)
    if isinstance(value, Label):
        table = labels.get(locale, {})
        return table.get(value.key) or table.get(value.key.split(":")[0] + ":*") or value.key
    if isinstance(value, Moment):
        return dates.format_datetime(value.at, "short", tzinfo=DISPLAY_TZ, locale=babel)
    if isinstance(value, date):
        return dates.format_date(value, "long", locale=babel)
    return str(value)


def render(text: str, values: Mapping[str, Value], locale: str,
           labels: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """Fill a template text. A placeholder without a value stays as written (visible, never a crash)."""
    out: list[str] = []
    for literal, name, _, _ in string.Formatter().parse(text):
        out.append(literal)
        if name is not None:
            out.append(format_value(values[name], locale, labels or {}) if name in values else f"{{{name}}}")
    return "".join(out)


def safe_link(path: str | None) -> str | None:
    """A link a message may carry: a path on this site, never another site (no phishing from our inbox)."""
    if path is None or path == "":
        return None
    text = path.strip()
    if (
        not text.startswith("/") or text.startswith("//") or "\\" in text or len(text) > LINK_MAX
        or any(ord(ch) < 33 for ch in text)
    ):
        raise InvalidLink("a message links to a path on this site, like /accounts", field="link")
    return text


def sms_text(title: str, body: str, locale: str) -> str:
    return f"{title}：{body}" if locale == "zh" else f"{title}: {body}"


# --- delivery and notices ----------------------------------------------------------------------------


def retry_delay_s(attempts: int, base_s: float, cap_s: float) -> float:
    """Exponential backoff after the `attempts`-th failed attempt (1, 2, …): base, 2·base, … capped."""
    return min(cap_s, base_s * 2 ** min(max(attempts, 1) - 1, 30))


def audience_matches(audience: str, identity_kinds: set[str] | frozenset[str]) -> bool:
    """Whether a notice for `audience` is for someone acting in (or holding) these identity kinds."""
    return audience == "all" or audience in identity_kinds


def check_window(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise InvalidNotice("a notice ends after it starts", field="ends_at")
