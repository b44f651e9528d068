"""The decoded catalogue, cached per revision.

Every page view asks which services a viewer sees; decoding every service's JSON each time would cost a
query per page plus the parsing. Instead the process keeps the decoded catalogue under the revision stamp
(`models.CatalogRevision`): a reader runs one indexed single-row query for the stamp and reuses the decoded
catalogue while the stamp is unchanged. The cache is per revision, never per customer — visibility for a
viewer is computed over it in memory. Stamps are fresh random ids, so a cached catalogue is never reused for
different content (not after a rollback, not across databases in one process).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from atrium.catalog import domain, repository
from atrium.catalog.schemas import ServiceRead, TabLayoutRead

_KEEP = 8  # stamps kept: enough for a few databases (tests, the bench) in one process


@dataclass(frozen=True, slots=True)
class Catalogue:
    stamp: str
    items: tuple[tuple[domain.Entry, ServiceRead], ...]  # ordered by line, then rank, then key
    by_key: dict[str, tuple[domain.Entry, ServiceRead]]
    layouts: tuple[TabLayoutRead, ...]  # highest priority first


_lock = threading.Lock()
_cache: OrderedDict[str, Catalogue] = OrderedDict()


def _line_order(line: str) -> int:
    return domain.LINES.index(line) if line in domain.LINES else len(domain.LINES)


def service_read(definition: dict[str, Any], version: int) -> ServiceRead:
    d = definition
    return ServiceRead(
        key=d["key"], line=d["line"], name=dict(d["name"]), description=dict(d.get("description") or {}),
        keywords={k: list(v) for k, v in (d.get("keywords") or {}).items()}, icon=d["icon"],
        target=d["target"], identity_kinds=list(d.get("identity_kinds") or ["person"]),
        permissions=list(d.get("permissions") or []), channels=list(d.get("channels") or ["app"]),
        placements=list(d.get("placements") or ["grid"]), rank=int(d.get("rank", 100)), version=version,
    )


def _decode(session: Session, stamp: str) -> Catalogue:
    items = []
    for row in repository.all_services(session):
        read = service_read(row.definition, row.version)
        entry = domain.Entry(
            key=row.key, enabled=row.enabled, starts_at=row.starts_at, ends_at=row.ends_at,
            channels=frozenset(read.channels), identity_kinds=frozenset(read.identity_kinds),
            permissions=frozenset(read.permissions), audience=row.definition.get("audience"),
        )
        items.append((entry, read))
    items.sort(key=lambda pair: (_line_order(pair[1].line), pair[1].rank, pair[1].key))
    layouts = tuple(
        TabLayoutRead(key=r.key, identity_kind=r.identity_kind, audience=r.audience, priority=r.priority,
                      tabs=list(r.tabs))
        for r in repository.tab_layouts(session)
    )
    by_key = {e.key: (e, s) for e, s in items}
    return Catalogue(stamp=stamp, items=tuple(items), by_key=by_key, layouts=layouts)


def load(session: Session) -> Catalogue:
    """The catalogue as this session sees it: one query for the stamp, decoding only on a new stamp."""
    stamp = repository.revision_stamp(session)
    if stamp:
        with _lock:
            hit = _cache.get(stamp)
            if hit is not None:
                _cache.move_to_end(stamp)
                return hit
    catalogue = _decode(session, stamp)
    if stamp:
        with _lock:
            _cache[stamp] = catalogue
            while len(_cache) > _KEEP:
                _cache.popitem(last=False)
    return catalogue


def clear() -> None:
    """Forget every cached catalogue (tests that measure decoding)."""
    with _lock:
        _cache.clear()
