"""The engine's configuration — published rules, live list entries, champion and challenger models, channel
policies — cached per risk revision.

Every rule, list or model change bumps `risk_revision` to a fresh random stamp in the same transaction
(`changed`). A reader runs one indexed single-row query for the stamp (or none within
`risk.revision_ttl_ms`, if set) and reuses the decoded configuration while the stamp is unchanged. Models
are cached by id on top of that, so a list change does not deserialise the boosters again. A process that
made the change itself forgets its TTL at once, so it sees its own change on its next decision.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.db.session import Database
from atrium.kit import clock
from atrium.logs import get_logger
from atrium.risk import repository
from atrium.risk.domain.decide import DEFAULT_POLICIES, ChannelPolicy, policy_for
from atrium.risk.domain.lists import ListEntry, ListIndex
from atrium.risk.domain.model import Scorer, TrainedModel
from atrium.risk.domain.rules import Rule, RuleSet, default_vocabulary
from atrium.risk.models import RiskModel

log = get_logger("atrium.risk.setup")
_KEEP = 8  # configurations kept: enough for a few databases (tests, the bench) in one process


@dataclass(frozen=True)
class Setup:
    """What one revision of the configuration gives the engine."""

    stamp: str
    lists: ListIndex
    rules: RuleSet
    champion: Scorer | None
    challenger: Scorer | None

    @property
    def champion_version(self) -> str | None:
        return self.champion.version if self.champion is not None else None

    @property
    def challenger_version(self) -> str | None:
        return self.challenger.version if self.challenger is not None else None

    @property
    def policies(self) -> dict[str, ChannelPolicy]:
        """The channel policies come from the settings, not the revision (read at each call, cached)."""
        return policies()

    def policy(self, channel: str) -> ChannelPolicy:
        return policy_for(channel, policies())


_lock = threading.Lock()
_cache: OrderedDict[str, Setup] = OrderedDict()
_scorers: OrderedDict[str, Scorer] = OrderedDict()
_last: tuple[float, Setup] | None = None  # (monotonic time of the stamp check, what it gave)


def changed(session: Session) -> str:
    """Record that rules, lists or models changed (call in the changing transaction)."""
    global _last
    stamp = repository.bump_revision(session)
    with _lock:
        _last = None
    return stamp


def current(session: Session) -> Setup:
    """The configuration as this session sees it."""
    global _last
    ttl = get_settings().risk.revision_ttl_ms / 1000
    if ttl > 0:
        last = _last
        if last is not None and time.monotonic() - last[0] < ttl:
            return last[1]
    # "" (no change was ever recorded) is cached too: every change writes a stamp, so under "" there are
    # no rules, lists or models, and a fresh install need not query them on every decision.
    stamp = repository.revision_stamp(session)
    with _lock:
        hit = _cache.get(stamp)
        if hit is not None:
            _cache.move_to_end(stamp)
    if hit is None:
        hit = _load(session, stamp)
        with _lock:
            _cache[stamp] = hit
            while len(_cache) > _KEEP:
                _cache.popitem(last=False)
    if ttl > 0:
        with _lock:
            _last = (time.monotonic(), hit)
    return hit


def preload(db: Database) -> Setup:
    """Load the configuration and the model library in a read transaction of its own. The first load
    imports LightGBM, and with it scikit-learn: 1.7 s on this machine. Done on the way — inside the post-event
    monitor's write transaction, or a server's first decision — it held SQLite's write lock (every decision
    waited ~1.7 s, `atrium bench risk`'s p99) or sent a first batch of card decisions to the fail policy."""
    import lightgbm  # noqa: F401 - imported here, where nobody waits for it

    with db.read_session() as session:
        return current(session)


def preload_at_start(db: Database) -> None:
    """`preload` for a process that is starting (a server worker, the decider): a database that is not
    migrated yet, or not reachable, is logged and left to the first decision, and the process starts."""
    try:
        preload(db)
    except Exception as exc:  # noqa: BLE001 - start anyway; the first decision loads it
        log.warning("risk_preload_failed", error=type(exc).__name__)


def clear() -> None:
    """Forget every cached configuration and model (tests)."""
    global _last
    with _lock:
        _cache.clear()
        _scorers.clear()
        _last = None


def _load(session: Session, stamp: str) -> Setup:
    now = clock.now()
    entries = [
        ListEntry(list_kind=e.list_kind, subject_kind=e.subject_kind, value=e.value, entry_id=e.id,
                  expires_at=e.expires_at.timestamp() if e.expires_at is not None else None)
        for e in repository.live_entries(session, now)
    ]
    rules = [Rule(key=r.key, version=r.version, expression=r.expression, action=r.action, weight=r.weight,
                  reason=r.reason, mode=r.mode) for r in repository.rules(session, status="published")]
    # Not strict: a published rule that stops compiling (a renamed feature) must not stop every decision;
    # it is reported on each decision's rule errors instead.
    ruleset = RuleSet(rules, default_vocabulary(), strict=False)
    for broken in ruleset.broken:
        log.error("risk_rule_broken", rule=broken.key, version=broken.version, message=broken.message)
    return Setup(
        stamp=stamp, lists=ListIndex(entries), rules=ruleset,
        champion=_scorer(repository.model_in_role(session, "champion")),
        challenger=_scorer(repository.model_in_role(session, "challenger")),
    )


def _scorer(row: RiskModel | None) -> Scorer | None:
    if row is None:
        return None
    with _lock:
        hit = _scorers.get(row.id)
    if hit is None:
        hit = TrainedModel.from_bytes(row.blob).scorer()
        with _lock:
            _scorers[row.id] = hit
            while len(_scorers) > _KEEP:
                _scorers.popitem(last=False)
    return hit


def policies() -> dict[str, ChannelPolicy]:
    """The per-channel policies: the domain's defaults with `risk.policies` overrides, field by field."""
    overrides = get_settings().risk.policies
    return dict(_policies(json.dumps(overrides, sort_keys=True)))


@lru_cache(maxsize=8)
def _policies(overrides_json: str) -> tuple[tuple[str, ChannelPolicy], ...]:
    overrides: dict[str, dict[str, Any]] = json.loads(overrides_json)
    out = dict(DEFAULT_POLICIES)
    for channel, fields in overrides.items():
        base = policy_for(channel)
        values = {**{f: getattr(base, f) for f in base.__dataclass_fields__}, **fields}
        if "timeout_ms" in values:
            values["timeout_ms"] = int(values["timeout_ms"])
        out[channel] = ChannelPolicy(**values)
    return tuple(out.items())
