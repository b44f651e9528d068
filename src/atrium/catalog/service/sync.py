"""Services declared in configuration: a business line plugs a service in with a TOML file, no code.

Files: the built-in `atrium/catalog/definitions/*.toml` (one per business line), then every `*.toml` in the
directories of `settings.catalog.dirs`, each in name order. A file holds `[[services]]` (a service
definition plus its own `version`, and optionally `enabled`, `starts_at`, `ends_at`) and `[[tab_layouts]]`
(`key`, `version`, `identity_kind`, `priority`, `tabs`, optional `audience`). A top-level `line` binds
every service of the file to that business line.

Invariants:
- A key absent from the database is created; a stored key is updated only when the file's `version` is
  higher than the version last applied from a file (`config_version`), so operators' console changes to a
  service survive restarts until its business line publishes a new file version. Running the sync twice
  changes nothing the second time.
- Every applied change is a history row made by "configuration" with the file as its source, and makes
  pending console proposals for that service stale (superseded).
- Files are validated completely before anything is written: one bad file (or a key declared twice)
  stops the whole sync with an error naming the file and the field.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from atrium.catalog import domain, repository
from atrium.catalog.defaults import BUILTIN_TABS, MAX_TABS, MIN_TABS
from atrium.catalog.errors import InvalidDefinition, InvalidRule
from atrium.catalog.models import CatalogTabLayout
from atrium.catalog.schemas import ServiceDefinition, SyncReport
from atrium.catalog.service import changes
from atrium.catalog.service.proposals import supersede_pending
from atrium.config import get_settings
from atrium.kit import clock

BUILTIN_DIR = Path(__file__).resolve().parents[1] / "definitions"
_SERVICE_FIELDS = set(ServiceDefinition.model_fields)
_CONTROL_FIELDS = {"version", "enabled", "starts_at", "ends_at"}
_LAYOUT_FIELDS = {"key", "version", "identity_kind", "priority", "tabs", "audience"}


@dataclass(frozen=True)
class FileService:
    definition: dict[str, Any]
    version: int
    enabled: bool | None
    starts_at: datetime | None
    ends_at: datetime | None
    source: str
    window_given: bool


@dataclass(frozen=True)
class FileLayout:
    key: str
    version: int
    identity_kind: str
    priority: int
    tabs: list[str]
    audience: dict[str, Any] | None
    source: str


@dataclass
class Definitions:
    services: list[FileService] = field(default_factory=list)
    layouts: list[FileLayout] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def definition_dirs() -> list[Path]:
    return [BUILTIN_DIR, *get_settings().catalog.dirs]


def _source(path: Path) -> str:
    if path.parent == BUILTIN_DIR:
        return f"builtin:{path.name}"
    return str(path)[-200:]


def _fail(source: str, where: str, exc: Exception | str) -> InvalidDefinition:
    detail = getattr(exc, "detail", str(exc))
    return InvalidDefinition(f"{source}: {where}: {detail}", file=source, field=where)


def _version(source: str, where: str, raw: dict[str, Any]) -> int:
    version = raw.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _fail(source, f"{where}.version", "a whole number from 1, raised with every change")
    return version


def _service(source: str, where: str, raw: Any, line: str | None) -> FileService:
    if not isinstance(raw, dict):
        raise _fail(source, where, "a table")
    unknown = set(raw) - _SERVICE_FIELDS - _CONTROL_FIELDS
    if unknown:
        raise _fail(source, f"{where}.{sorted(unknown)[0]}", "unknown field")
    version = _version(source, where, raw)
    data = {k: v for k, v in raw.items() if k in _SERVICE_FIELDS}
    if line is not None:
        data.setdefault("line", line)
    try:
        definition = ServiceDefinition.model_validate(data).model_dump()
        domain.validate_definition(definition)
        starts_at, ends_at = raw.get("starts_at"), raw.get("ends_at")
        for name, at in (("starts_at", starts_at), ("ends_at", ends_at)):
            if at is not None and not isinstance(at, datetime):
                raise InvalidDefinition(f"{name}: a TOML date-time with an offset", field=name)
        domain.validate_window(starts_at, ends_at)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first["loc"])
        raise _fail(source, f"{where}.{place}", first["msg"]) from None
    except (InvalidDefinition, InvalidRule, ValueError) as exc:
        raise _fail(source, where, exc) from None
    if line is not None and definition["line"] != line:
        raise _fail(source, f"{where}.line", f"this file publishes {line} services only")
    enabled = raw.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise _fail(source, f"{where}.enabled", "true or false")
    return FileService(definition, version, enabled, starts_at, ends_at, source,
                       window_given="starts_at" in raw or "ends_at" in raw)


def _layout(source: str, where: str, raw: Any) -> FileLayout:
    if not isinstance(raw, dict):
        raise _fail(source, where, "a table")
    unknown = set(raw) - _LAYOUT_FIELDS
    if unknown:
        raise _fail(source, f"{where}.{sorted(unknown)[0]}", "unknown field")
    version = _version(source, where, raw)
    key, kind, tabs = raw.get("key"), raw.get("identity_kind"), raw.get("tabs")
    priority = raw.get("priority", 0)
    if not isinstance(key, str) or not 1 <= len(key) <= 80:
        raise _fail(source, f"{where}.key", "a name of 1–80 characters")
    if kind not in domain.IDENTITY_KINDS:
        raise _fail(source, f"{where}.identity_kind", f"one of {', '.join(domain.IDENTITY_KINDS)}")
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise _fail(source, f"{where}.priority", "a whole number (higher wins)")
    if not isinstance(tabs, list) or not MIN_TABS <= len(tabs) <= MAX_TABS or not all(
        isinstance(t, str) for t in tabs
    ) or len(set(tabs)) != len(tabs):
        raise _fail(source, f"{where}.tabs", f"{MIN_TABS}–{MAX_TABS} different tab names or service keys")
    audience = raw.get("audience")
    if audience is not None:
        try:
            domain.validate_rule(audience, path=f"{where}.audience")
        except InvalidRule as exc:
            raise _fail(source, f"{where}.audience", exc) from None
    return FileLayout(key, version, kind, priority, list(tabs), audience, source)


def load_definitions(dirs: list[Path] | None = None) -> Definitions:
    """Read and validate every definition file (nothing is written). Raises InvalidDefinition."""
    found = Definitions()
    for directory in dirs if dirs is not None else definition_dirs():
        if not directory.is_dir():
            raise InvalidDefinition(f"{directory}: not a directory of catalogue definitions",
                                    file=str(directory))
        for path in sorted(directory.glob("*.toml")):
            source = _source(path)
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise _fail(source, "file", exc) from None
            line = data.get("line")
            if line is not None and line not in domain.LINES:
                raise _fail(source, "line", f"one of {', '.join(domain.LINES)}")
            unknown = set(data) - {"line", "services", "tab_layouts"}
            if unknown:
                raise _fail(source, sorted(unknown)[0], "unknown table; use [[services]] or [[tab_layouts]]")
            found.files.append(source)
            for i, raw in enumerate(data.get("services", [])):
                found.services.append(_service(source, f"services[{i}]", raw, line))
            for i, raw in enumerate(data.get("tab_layouts", [])):
                found.layouts.append(_layout(source, f"tab_layouts[{i}]", raw))
    _check_unique(found)
    return found


def _check_unique(found: Definitions) -> None:
    seen: dict[str, str] = {}
    for s in found.services:
        key = s.definition["key"]
        if key in seen:
            raise _fail(s.source, key, f"declared twice (also in {seen[key]})")
        seen[key] = s.source
    layouts: dict[str, str] = {}
    for lay in found.layouts:
        if lay.key in layouts:
            raise _fail(lay.source, lay.key, f"tab layout declared twice (also in {layouts[lay.key]})")
        layouts[lay.key] = lay.source


def _check_tabs(session: Session, found: Definitions) -> None:
    known = set(BUILTIN_TABS) | {s.definition["key"] for s in found.services}
    for lay in found.layouts:
        for tab in lay.tabs:
            if tab not in known and repository.get_service(session, tab) is None:
                raise _fail(lay.source, f"{lay.key}.tabs", f"{tab!r} is neither a built-in tab nor a service")


def sync_definitions(session: Session, dirs: list[Path] | None = None) -> SyncReport:
    """Apply the definition files to the catalogue (see the module's invariants). Flushes."""
    found = load_definitions(dirs)
    _check_tabs(session, found)
    report = SyncReport(files=found.files)
    actor = changes.CONFIGURATION
    for fs in found.services:
        key = fs.definition["key"]
        row = repository.get_service(session, key, lock=True)
        note = f"from {fs.source} version {fs.version}"
        if row is None:
            changes.create(session, fs.definition, enabled=True if fs.enabled is None else fs.enabled,
                           starts_at=fs.starts_at, ends_at=fs.ends_at, proposed_by=actor, approved_by=actor,
                           source=fs.source, config_version=fs.version, note=note)
            supersede_pending(session, key, actor, f"created by {fs.source} version {fs.version}")
            report.created.append(key)
        elif fs.version > row.config_version:
            changes.change(session, row, "update", definition=fs.definition, enabled=fs.enabled,
                           window=(fs.starts_at, fs.ends_at) if fs.window_given else None,
                           proposed_by=actor, approved_by=actor, source=fs.source, config_version=fs.version,
                           note=note)
            supersede_pending(session, key, actor, f"replaced by {fs.source} version {fs.version}")
            report.updated.append(key)
        else:
            report.unchanged += 1
    layouts_changed = False
    for lay in found.layouts:
        stored = repository.get_tab_layout(session, lay.key)
        if stored is not None and lay.version <= stored.config_version:
            report.unchanged += 1
            continue
        if stored is None:
            stored = CatalogTabLayout(key=lay.key)
            session.add(stored)
            report.created.append(f"tabs:{lay.key}")
        else:
            report.updated.append(f"tabs:{lay.key}")
        stored.identity_kind, stored.priority, stored.tabs = lay.identity_kind, lay.priority, list(lay.tabs)
        stored.audience, stored.config_version, stored.source = lay.audience, lay.version, lay.source
        stored.updated_at = clock.now()
        layouts_changed = True
    if layouts_changed:
        session.flush()
        repository.bump_revision(session)
    session.flush()
    return report
