"""Pure catalogue rules: the audience-rule language, service definitions, windows, visibility and
maker-checker. No SQLAlchemy, no FastAPI.

The audience-rule language (plain JSON/TOML data, so a business line can write it in a file):

    {"all": [rule, …]}        every rule matches (at least one rule)
    {"any": [rule, …]}        some rule matches (at least one rule)
    {"not": rule}             the rule does not match
    {"attr": "age", "op": "gte", "value": 60}     a comparison with one attribute of the viewer

Operators: eq, ne, in, not_in, gt, gte, lt, lte, contains, exists. Invariants:
- A missing attribute never matches a comparison (not even `ne` or `not_in`); only `exists` asks about
  presence, and only `not` turns a non-match into a match.
- Comparisons are typed: a boolean equals only a boolean (true is not 1), numbers compare as numbers (1 equals
  1.0), strings as strings; an ordering between different types does not match.
- `in` / `not_in`: a scalar attribute is (not) one of the values; a list attribute shares (no) element with
  them. `contains`: a list attribute has the value as an element, a string attribute has it as a substring.
- A rule is validated before it is stored; an error names the bad part by path (`audience.all[1].op`).

Visibility: a service is shown to a viewer only if it is switched on, the moment is inside its window
[starts_at, ends_at), the viewer's channel and identity kind are among the service's, an organisation
identity's role is among the service's permissions (when it lists any), and its audience rule matches.

Maker-checker: the checker is never the maker, and a proposal applies only to the version it was based on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from atrium.catalog.errors import InvalidDefinition, InvalidRule, SelfApproval, StaleProposal

OPERATORS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "exists")
COMBINATORS = ("all", "any", "not")
LINES = ("retail", "cards", "loans", "wealth", "life", "enterprise", "rural", "security", "service")
IDENTITY_KINDS = ("person", "company_operator", "merchant")
ORGANISATION_KINDS = frozenset({"company_operator", "merchant"})
CHANNELS = ("app", "life", "partner")
PLACEMENTS = ("grid", "quick", "tab")
LOCALES = ("zh", "en")
MAX_DEPTH = 8
MAX_NODES = 200

_ATTR = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,30}(\.[a-z][a-z0-9_]{0,30}){1,2}$")
_ICON = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_ROLE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$")

# --- audience rules ----------------------------------------------------------------------------------


def _scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str | int | bool)


def validate_rule(rule: Any, *, path: str = "audience") -> dict[str, Any]:
    """Check `rule` against the language; return it unchanged. Raises InvalidRule naming the bad part."""
    count = [0]
    _check(rule, path, 0, count)
    return rule


def _check(rule: Any, path: str, depth: int, count: list[int]) -> None:
    count[0] += 1
    if count[0] > MAX_NODES:
        raise InvalidRule(f"{path}: the rule has more than {MAX_NODES} parts", path=path)
    if depth > MAX_DEPTH:
        raise InvalidRule(f"{path}: rules nest at most {MAX_DEPTH} deep", path=path)
    if not isinstance(rule, Mapping):
        raise InvalidRule(f"{path}: a rule is an object, not {type(rule).__name__}", path=path)
    keys = set(rule)
    combinator = keys & set(COMBINATORS)
    if combinator:
        if len(keys) != 1:
            raise InvalidRule(f"{path}: '{sorted(combinator)[0]}' stands alone in its object", path=path)
        (name,) = combinator
        inner = rule[name]
        if name == "not":
            _check(inner, f"{path}.not", depth + 1, count)
            return
        if not isinstance(inner, list) or not inner:
            raise InvalidRule(f"{path}.{name}: a non-empty list of rules", path=f"{path}.{name}")
        for i, part in enumerate(inner):
            _check(part, f"{path}.{name}[{i}]", depth + 1, count)
        return
    if "attr" not in keys or "op" not in keys:
        raise InvalidRule(
            f"{path}: a rule is all / any / not, or a comparison with attr, op and value", path=path
        )
    unknown = keys - {"attr", "op", "value"}
    if unknown:
        first = sorted(unknown)[0]
        raise InvalidRule(f"{path}.{first}: unknown field '{first}'", path=f"{path}.{first}")
    attr, op = rule["attr"], rule["op"]
    if not isinstance(attr, str) or not _ATTR.match(attr):
        raise InvalidRule(f"{path}.attr: an attribute name such as 'age' (a-z, 0-9, _)", path=f"{path}.attr")
    if op not in OPERATORS:
        raise InvalidRule(f"{path}.op: unknown operator {op!r}; one of {', '.join(OPERATORS)}",
                          path=f"{path}.op")
    vpath = f"{path}.value"
    if op == "exists":
        if "value" in keys:
            raise InvalidRule(f"{vpath}: 'exists' takes no value", path=vpath)
        return
    if "value" not in keys:
        raise InvalidRule(f"{vpath}: '{op}' needs a value", path=vpath)
    value = rule["value"]
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value or not all(_scalar(v) for v in value):
            raise InvalidRule(f"{vpath}: '{op}' takes a non-empty list of strings or numbers", path=vpath)
    elif op in ("gt", "gte", "lt", "lte"):
        if isinstance(value, bool) or not _scalar(value):
            raise InvalidRule(f"{vpath}: '{op}' compares with a number or a string", path=vpath)
    elif not _scalar(value):
        raise InvalidRule(f"{vpath}: '{op}' takes one string, number or boolean", path=vpath)


def _same(a: Any, b: Any) -> bool:
    """Typed equality: booleans only equal booleans; numbers compare numerically."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def _ordered(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    numbers = isinstance(a, int | float) and isinstance(b, int | float)
    return numbers or (isinstance(a, str) and isinstance(b, str))


def _member(attr: Any, values: list[Any]) -> bool:
    items = attr if isinstance(attr, list) else [attr]
    return any(_same(x, v) for x in items for v in values)


def evaluate(rule: Mapping[str, Any] | None, attributes: Mapping[str, Any]) -> bool:
    """Does `rule` (validated) select a viewer with these attributes? `None` selects everyone."""
    if rule is None:
        return True
    if "all" in rule:
        return all(evaluate(r, attributes) for r in rule["all"])
    if "any" in rule:
        return any(evaluate(r, attributes) for r in rule["any"])
    if "not" in rule:
        return not evaluate(rule["not"], attributes)
    name, op = rule["attr"], rule["op"]
    if name not in attributes:
        return False
    if op == "exists":
        return True
    attr, value = attributes[name], rule.get("value")
    if op == "eq":
        return _same(attr, value)
    if op == "ne":
        return not _same(attr, value)
    if op == "in":
        return _member(attr, value)
    if op == "not_in":
        return not _member(attr, value)
    if op == "contains":
        if isinstance(attr, list):
            return any(_same(x, value) for x in attr)
        return isinstance(attr, str) and isinstance(value, str) and value in attr
    if not _ordered(attr, value):
        return False
    if op == "gt":
        return attr > value
    if op == "gte":
        return attr >= value
    if op == "lt":
        return attr < value
    return attr <= value  # lte


def describe(rule: Mapping[str, Any] | None, *, indent: int = 0) -> list[str]:
    """The rule as readable lines for the staff console ("age ≥ 60", "all of:" …)."""
    pad = "  " * indent
    if rule is None:
        return [f"{pad}everyone"]
    for name, word in (("all", "all of:"), ("any", "any of:")):
        if name in rule:
            return [f"{pad}{word}"] + [line for r in rule[name] for line in describe(r, indent=indent + 1)]
    if "not" in rule:
        return [f"{pad}not:"] + describe(rule["not"], indent=indent + 1)
    symbols = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "in": "in",
               "not_in": "not in", "contains": "contains"}
    if rule["op"] == "exists":
        return [f"{pad}{rule['attr']} is known"]
    return [f"{pad}{rule['attr']} {symbols[rule['op']]} {_show(rule['value'])}"]


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


# --- service definitions -----------------------------------------------------------------------------


def _bad(field: str, detail: str) -> InvalidDefinition:
    return InvalidDefinition(f"{field}: {detail}", field=field)


def valid_target(target: str) -> bool:
    """A path on this site ("/transfer", never "//host" which browsers read as another site) or an https
    URL with a host name."""
    if not isinstance(target, str) or not 1 <= len(target) <= 300:
        return False
    if any(c.isspace() or c == "\\" for c in target):
        return False
    if target.startswith("/"):
        return not target.startswith("//")
    if target.startswith("https://"):
        host = target[len("https://"):].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        return "@" not in host and bool(_HOST.match(host.split(":", 1)[0].lower()))
    return False


def _subset(field: str, values: Any, allowed: tuple[str, ...], *, empty_ok: bool = False) -> None:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _bad(field, "a list of names")
    if not values and not empty_ok:
        raise _bad(field, f"at least one of {', '.join(allowed)}")
    for v in values:
        if v not in allowed:
            raise _bad(field, f"unknown {v!r}; one of {', '.join(allowed)}")
    if len(set(values)) != len(values):
        raise _bad(field, "each name once")


def _texts(field: str, texts: Any, *, required: bool, limit: int) -> None:
    if not isinstance(texts, Mapping):
        raise _bad(field, "an object with zh and en")
    for locale in texts:
        if locale not in LOCALES:
            raise _bad(f"{field}.{locale}", "locales are zh and en")
    for locale in LOCALES:
        text = texts.get(locale, "")
        if not isinstance(text, str) or len(text) > limit or (required and not text.strip()):
            raise _bad(f"{field}.{locale}", f"{'required, ' if required else ''}at most {limit} characters")


def validate_definition(data: Mapping[str, Any]) -> None:
    """Check one service definition (a mapping shaped like schemas.ServiceDefinition). Raises
    InvalidDefinition naming the field, or InvalidRule naming the part of the audience rule."""
    key, line = data.get("key"), data.get("line")
    if line not in LINES:
        raise _bad("line", f"one of {', '.join(LINES)}")
    if not isinstance(key, str) or not _KEY.match(key):
        raise _bad("key", "dotted lower-case names such as 'retail.transfer'")
    if key.split(".", 1)[0] != line:
        raise _bad("key", f"a {line} service's key starts with '{line}.'")
    _texts("name", data.get("name"), required=True, limit=40)
    _texts("description", data.get("description", {}), required=False, limit=120)
    keywords = data.get("keywords", {})
    if not isinstance(keywords, Mapping):
        raise _bad("keywords", "an object of word lists per locale")
    for locale, words in keywords.items():
        if locale not in LOCALES:
            raise _bad(f"keywords.{locale}", "locales are zh and en")
        if not isinstance(words, list) or len(words) > 20 or not all(
            isinstance(w, str) and 1 <= len(w.strip()) <= 30 for w in words
        ):
            raise _bad(f"keywords.{locale}", "at most 20 words of 1–30 characters")
    if not isinstance(data.get("icon"), str) or not _ICON.match(data["icon"]):
        raise _bad("icon", "an icon name such as 'transfer'")
    if not valid_target(data.get("target", "")):
        raise _bad("target", "a path on this site starting with '/' or an https:// URL")
    _subset("identity_kinds", data.get("identity_kinds", ["person"]), IDENTITY_KINDS)
    permissions = data.get("permissions", [])
    if not isinstance(permissions, list) or not all(
        isinstance(p, str) and _ROLE.match(p) for p in permissions
    ):
        raise _bad("permissions", "organisation role names such as 'finance'")
    _subset("channels", data.get("channels", ["app"]), CHANNELS)
    _subset("placements", data.get("placements", ["grid"]), PLACEMENTS)
    rank = data.get("rank", 100)
    if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank <= 10_000:
        raise _bad("rank", "a whole number from 0 to 10000")
    if data.get("audience") is not None:
        validate_rule(data["audience"])


# --- windows, visibility, maker-checker --------------------------------------------------------------


def validate_window(starts_at: datetime | None, ends_at: datetime | None) -> None:
    for name, at in (("starts_at", starts_at), ("ends_at", ends_at)):
        if at is not None and at.tzinfo is None:
            raise InvalidDefinition(f"{name}: a time with a time zone", field=name)
    if starts_at is not None and ends_at is not None and not starts_at < ends_at:
        raise InvalidDefinition("the window must start before it ends", field="ends_at")


def in_window(now: datetime, starts_at: datetime | None, ends_at: datetime | None) -> bool:
    """[starts_at, ends_at): open at the start instant, closed at the end instant; None is unbounded."""
    return (starts_at is None or starts_at <= now) and (ends_at is None or now < ends_at)


@dataclass(frozen=True, slots=True)
class Entry:
    """What visibility needs of one service (the catalogue cache holds these, decoded once per revision)."""

    key: str
    enabled: bool
    starts_at: datetime | None
    ends_at: datetime | None
    channels: frozenset[str]
    identity_kinds: frozenset[str]
    permissions: frozenset[str]
    audience: Mapping[str, Any] | None


def hidden_because(entry: Entry, *, channel: str, identity_kind: str, identity_role: str,
                   attributes: Mapping[str, Any], now: datetime) -> str | None:
    """Why the viewer does not see the service ("switched-off", "outside-window", "channel",
    "identity-kind", "role", "audience"), or None when it is shown. Checked in that order."""
    if not entry.enabled:
        return "switched-off"
    if not in_window(now, entry.starts_at, entry.ends_at):
        return "outside-window"
    if channel not in entry.channels:
        return "channel"
    if identity_kind not in entry.identity_kinds:
        return "identity-kind"
    if entry.permissions and identity_kind in ORGANISATION_KINDS and identity_role not in entry.permissions:
        return "role"
    return None if evaluate(entry.audience, attributes) else "audience"


def visible(entry: Entry, *, channel: str, identity_kind: str, identity_role: str,
            attributes: Mapping[str, Any], now: datetime) -> bool:
    return hidden_because(entry, channel=channel, identity_kind=identity_kind, identity_role=identity_role,
                          attributes=attributes, now=now) is None


def check_checker(proposed_by: str, decided_by: str) -> None:
    if proposed_by == decided_by:
        raise SelfApproval("the operator who proposed a change cannot approve it; a second operator must")


def check_base(base_version: int, current_version: int) -> None:
    if base_version != current_version:
        raise StaleProposal(
            f"the proposal was written against version {base_version}; the service is now at version "
            f"{current_version}", base_version=base_version, current_version=current_version,
        )
