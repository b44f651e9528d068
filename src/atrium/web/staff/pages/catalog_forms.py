"""The catalogue console's forms: a service definition as form fields and back, with each refusal placed
against the field it is about (the domain names it: `field` for a definition, `path` for an audience rule).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from atrium.catalog import domain
from atrium.catalog.schemas import ServiceDefinition
from atrium.kit.errors import AtriumError

# The mobile app draws service icons from its sprite; the form offers exactly those names.
_SPRITE = Path(__file__).resolve().parents[2] / "mobile" / "static" / "icons.svg"
BANK_TZ = ZoneInfo("Asia/Shanghai")  # windows are typed in the bank's local time
TEXT_FIELDS = ("key", "line", "name_zh", "name_en", "description_zh", "description_en", "keywords_zh",
               "keywords_en", "icon", "target", "permissions", "rank", "audience", "note")
LIST_FIELDS = ("identity_kinds", "channels", "placements")


@lru_cache(maxsize=1)
def icon_names() -> tuple[str, ...]:
    text = _SPRITE.read_text(encoding="utf-8") if _SPRITE.exists() else ""
    return tuple(sorted(set(re.findall(r'<symbol[^>]*\bid="([^"]+)"', text)) - {"logo"}))


def _words(text: str) -> list[str]:
    return [w.strip() for w in re.split(r"[,，、\n]", text) if w.strip()]


def values_of(d: ServiceDefinition | None, note: str = "") -> dict[str, Any]:
    """Form values for a definition (a blank form when None)."""
    if d is None:
        return {**dict.fromkeys(TEXT_FIELDS, ""), "rank": "100", "identity_kinds": ["person"],
                "channels": ["app"], "placements": ["grid"], "note": note}
    return {
        "key": d.key, "line": d.line, "name_zh": d.name.get("zh", ""), "name_en": d.name.get("en", ""),
        "description_zh": d.description.get("zh", ""), "description_en": d.description.get("en", ""),
        "keywords_zh": ", ".join(d.keywords.get("zh", [])),
        "keywords_en": ", ".join(d.keywords.get("en", [])),
        "icon": d.icon, "target": d.target, "permissions": ", ".join(d.permissions), "rank": str(d.rank),
        "audience": json.dumps(d.audience, ensure_ascii=False, indent=2) if d.audience is not None else "",
        "identity_kinds": list(d.identity_kinds), "channels": list(d.channels),
        "placements": list(d.placements), "note": note,
    }


def _field_of(exc: AtriumError) -> str:
    if "path" in exc.extra:
        return "audience"
    field = str(exc.extra.get("field") or "form").split(".")[0]
    if field in ("name", "description", "keywords"):
        locale = str(exc.extra.get("field", "")).split(".")[-1]
        return f"{field}_{locale}" if locale in domain.LOCALES else f"{field}_zh"
    return field if field in TEXT_FIELDS or field in LIST_FIELDS else "form"


def definition_from(values: dict[str, Any]) -> tuple[ServiceDefinition | None, dict[str, str]]:
    """Parse and validate the form: (the definition, {}) or (None, {field: what is wrong})."""
    errors: dict[str, str] = {}
    audience: Any = None
    text = str(values.get("audience", "")).strip()
    if text:
        try:
            audience = json.loads(text)
        except json.JSONDecodeError as exc:
            errors["audience"] = f"JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    rank = str(values.get("rank", "")).strip()
    if not re.fullmatch(r"\d{1,5}", rank):
        errors["rank"] = "rank: a whole number from 0 to 10000"
    if errors:
        return None, errors
    data = {
        "key": str(values["key"]).strip(), "line": str(values["line"]),
        "name": {"zh": str(values["name_zh"]).strip(), "en": str(values["name_en"]).strip()},
        "description": {loc: str(values[f"description_{loc}"]).strip() for loc in domain.LOCALES},
        "keywords": {loc: _words(str(values[f"keywords_{loc}"])) for loc in domain.LOCALES
                     if _words(str(values[f"keywords_{loc}"]))},
        "icon": str(values["icon"]), "target": str(values["target"]).strip(),
        "identity_kinds": list(values["identity_kinds"]), "permissions": _words(str(values["permissions"])),
        "channels": list(values["channels"]), "placements": list(values["placements"]), "rank": int(rank),
        "audience": audience,
    }
    try:
        definition = ServiceDefinition.model_validate(data)
        domain.validate_definition(definition.model_dump())
    except ValidationError as exc:
        first = exc.errors()[0]
        return None, {"form": f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"}
    except AtriumError as exc:
        return None, {_field_of(exc): exc.detail}
    if definition.icon not in icon_names():
        return None, {"icon": "icon: choose one of the app's icons"}
    return definition, {}


def local_time(text: str) -> datetime | None:
    """A datetime-local field ("2025-02-01T09:00"), in the bank's time zone; blank is None."""
    text = text.strip()
    if not text:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=BANK_TZ)


def local_text(at: datetime | None) -> str:
    return "" if at is None else at.astimezone(BANK_TZ).strftime("%Y-%m-%dT%H:%M")
