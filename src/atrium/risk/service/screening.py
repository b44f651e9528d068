"""Screening: one decision per subject, within the channel's time budget, logged as the feature log.

- Idempotent on (channel, subject_ref): a repeated subject gets its first decision back (`replayed`) and is
  not observed again, so velocity features never count a retry. The same subject with different money
  facts (amount, currency, payer, payee, …) is a `SubjectConflict`. Two processes deciding one subject at
  once: the unique constraint keeps the first, and the second returns it.
- The budget (`ChannelPolicy.timeout_ms`) covers waiting for the feature state, bringing it up to date
  with the log and the engine's run. The engine runs on the process's one engine thread; if it does not
  answer in time, or raises, the channel's `on_timeout` outcome applies with reason `risk.unavailable`
  (`decide.fallback`), the decision is logged with `fallback` set, and a warning is logged. A late engine
  changes nothing: it reads a read-only view of the state (service/state.py).
- `engine_override` swaps the engine for tests (a slow or failing one shows the fail policies).
- After deciding: `review` opens a held case and emits RiskReviewOpened; `review` and `deny` (not fallback
  ones: nothing was found) emit RiskAlertRaised for the customer's inbox; `deny` opens a case too when
  `risk.case_on_deny` is set.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.events import outbox
from atrium.events.catalogue import RiskAlertRaised, RiskReviewOpened
from atrium.kit import clock, collector
from atrium.kit.hashing import fingerprint
from atrium.kit.ids import new_id
from atrium.logs import get_logger
from atrium.risk import repository
from atrium.risk.domain.decide import ChannelPolicy, Decision, fallback
from atrium.risk.domain.engine import Engine
from atrium.risk.domain.events import RiskEvent
from atrium.risk.domain.features import payer_habit
from atrium.risk.errors import SubjectConflict
from atrium.risk.models import RiskDecision
from atrium.risk.schemas import DecisionRead, RiskEventIn
from atrium.risk.service import cases as case_service
from atrium.risk.service import entities, setup, state, views
from atrium.risk.service.setup import Setup

log = get_logger("atrium.risk.screening")


class EngineLike(Protocol):
    def decide(self, event: RiskEvent, now: float | None = None) -> Decision: ...


_override: EngineLike | None = None
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


@contextmanager
def engine_override(engine: EngineLike) -> Iterator[None]:
    """Decide with `engine` instead of the configured one (tests: a slow or failing engine)."""
    global _override
    previous, _override = _override, engine
    try:
        yield
    finally:
        _override = previous


def _engine_thread() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="risk-engine")
        return _pool


def _facts(event: RiskEvent, occurred_given: bool) -> str:
    """What a retry must repeat: the money and who is involved (not the IP, device or place, which may
    change between a request and its retry)."""
    return fingerprint({
        "channel": event.channel, "amount_minor": event.amount_minor, "currency": event.currency,
        "customer": event.customer, "card": event.card, "account": event.account, "payee": event.payee,
        "terminal": event.terminal, "at": event.at if occurred_given else None,
    })


def screen(session: Session, event: RiskEventIn) -> DecisionRead:
    """Decide `event` (see the module docstring). Flushes; the caller commits."""
    now = clock.now()
    occurred = event.occurred_at or now
    risk_event, displays = entities.event_of(new_id("rskd"), event, occurred.timestamp())
    facts = _facts(risk_event, event.occurred_at is not None)
    existing = repository.decision_by_subject(session, event.channel, event.subject_ref)
    if existing is not None:
        return _replay(session, existing, facts)

    config = setup.current(session)
    policy = config.policy(event.channel)
    cache = state.current()
    started = time.perf_counter_ns()
    decision = _decide(session, cache, config, policy, risk_event, now.timestamp())
    latency_us = (time.perf_counter_ns() - started) // 1000
    values = _values(event, risk_event, occurred, displays, facts, decision, config, latency_us)
    if not repository.insert_decision(session, values):
        winner = repository.decision_by_subject(session, event.channel, event.subject_ref)
        if winner is None:  # pragma: no cover - the unique constraint fired, so a row exists
            raise RuntimeError("risk decision insert failed without a conflicting row")
        return _replay(session, winner, facts)
    state.written(session, risk_event.event_id)
    row = RiskDecision(**values)  # the logged row's values, for what follows (not added to the session)
    case_id = _follow_up(session, row, decision)
    return views.decision_read(row, case_id=case_id)


class BatchRefused(Exception):
    """A batch `screen_many` does not decide as a whole: the decision log then screens it one by one."""


def screen_many(session: Session, events: Sequence[RiskEventIn]) -> list[DecisionRead]:
    """`screen` for each of `events`, set-wise: what `screen` does once per decision — read the
    configuration, bring the feature state up to date, hand over to the engine thread, insert — is done
    once per batch, and the state observes each event right after its decision (state.py, rule 4), so the
    batch's later decisions count its earlier ones exactly as one-by-one screening would. Raises
    `BatchRefused` (having written nothing) when a subject repeats or was decided before — replays and
    conflicts are `screen`'s. Each decision has the channel's budget from the batch's start.

    In two steps, which the decision log runs in two transactions (a read, then the write: on SQLite the
    write lock is then held only to log): `decide_many`, then `log_many`."""
    return log_many(session, decide_many(session, events))


@dataclass
class DecidedBatch:
    """Decisions made and observed by the feature state, not logged yet (`log_many` logs them)."""

    rows: list[dict[str, Any]]  # each decision's log row
    decisions: list[Decision]
    cache: state.FeatureCache
    observed: bool  # the state observed the events (False: it stayed busy, so the log will tell it)

    def followed_up(self) -> dict[int, Decision]:
        """The decisions `write_decided` acts on (cases, alerts), by their index in the batch."""
        return {i: d for i, d in enumerate(self.decisions) if d.outcome in FOLLOWED_UP}

    def reads(self, case_ids: Mapping[int, str | None]) -> list[DecisionRead]:
        """The batch's answers once it is logged (`case_ids`: what `write_decided` returned)."""
        return [views.logged_read(values, case_id=case_ids.get(i)) for i, values in enumerate(self.rows)]


def decide_many(session: Session, events: Sequence[RiskEventIn], *, inline: bool = False) -> DecidedBatch:
    """Decide `events` (`screen_many`'s first step); `session` is only read. `inline`: run the engine in
    this thread rather than the engine thread (a caller with no other work to do meanwhile: the decider)."""
    subjects = [(event.channel, event.subject_ref) for event in events]
    if len(set(subjects)) != len(subjects) or repository.decided_subjects(session, subjects):
        raise BatchRefused("a subject repeats or was decided before")
    now = clock.now()
    batch = []
    for event in events:
        occurred = event.occurred_at or now
        risk_event, displays = entities.event_of(new_id("rskd"), event, occurred.timestamp())
        facts = _facts(risk_event, event.occurred_at is not None)
        batch.append((event, risk_event, occurred, displays, facts))
    config = setup.current(session)
    cache = state.current()
    decided, observed = _decide_many(session, cache, config, [b[1] for b in batch], now.timestamp(), inline)
    try:
        rows = [_values(event, risk_event, occurred, displays, facts, decision, config, latency_us)
                for (event, risk_event, occurred, displays, facts), (decision, latency_us)
                in zip(batch, decided, strict=True)]
    except BaseException:
        if observed:
            cache.invalidate()  # the state observed events that will not be logged
        raise
    return DecidedBatch(rows, [d for d, _latency in decided], cache, observed)


def log_many(session: Session, batch: DecidedBatch) -> list[DecisionRead]:
    """Log a decided batch and act on it (`screen_many`'s second step). Re-runnable: a retried
    transaction logs the same decisions again. Raises `BatchRefused` if another process decided one of
    the subjects meanwhile (the batch is then screened one by one, which replays it)."""
    try:
        positions, case_ids = write_decided(session, batch.rows, batch.followed_up())
        if batch.observed:
            batch.cache.logged(session, positions)
        else:  # the state never saw them: it reads them from the log like anyone else's (rule 2)
            for decision_id in positions:
                state.written(session, decision_id)
    except BaseException:
        if batch.observed:
            batch.cache.invalidate()  # the state observed events that are not (all) logged
        raise
    return batch.reads(case_ids)


def write_decided(session: Session, rows: Sequence[dict[str, Any]],
                  followed_up: Mapping[int, Decision]) -> tuple[dict[str, int], dict[int, str | None]]:
    """Insert a decided batch's rows and act on those that call for it (`followed_up`, by index: a case, an
    alert); returns the rows' positions (decision id → seq) and the cases opened (index → case id). Raises
    `BatchRefused` if another process decided one of the subjects meanwhile. What `log_many` writes, and
    all the decider's log writer does (`atrium.risk.endpoints.log_writer`): it touches no feature state."""
    positions = repository.insert_decisions(session, rows)
    if len(positions) != len(rows):
        raise BatchRefused("a subject was decided meanwhile")
    case_ids = {i: _follow_up(session, RiskDecision(**rows[i]), decision)
                for i, decision in followed_up.items()}
    return positions, case_ids


def _decide_many(session: Session, cache: state.FeatureCache, config: Setup, events: list[RiskEvent],
                 now: float, inline: bool = False) -> tuple[list[tuple[Decision, int]], bool]:
    """(decision, latency µs from the batch's start) per event — the fail policy for those not decided
    within their channel's budget — and whether the state observes the events (False: it stayed busy).
    Inline, a decision past its deadline still gets the fail policy (and no engine run), but a slow engine
    call delays the batch's answer rather than being left behind."""
    started, gc_mark = time.monotonic(), collector.WATCH.paused_ms()
    policies = [config.policy(event.channel) for event in events]
    if not cache.lock.acquire(timeout=min(p.timeout_ms for p in policies) / 1000):
        _batch_unavailable(events, policies, {"timeout": len(events)}, started,
                           "the feature state stayed busy")
        return [(fallback(p, cause="timeout"), 0) for p in policies], False
    locked = time.monotonic()
    handed_over = False
    try:
        cache.prepare(session, events)
        prepared = time.monotonic()
        engine = _override or Engine(cache.view, config.lists, config.rules, config.champion,  # type: ignore[arg-type]
                                     config.challenger, config.policies)
        done: list[tuple[Decision | Exception | None, float]] = []

        deadlines = [started + p.timeout_ms / 1000 for p in policies]

        def run() -> None:
            for event, deadline, policy in zip(events, deadlines, policies, strict=True):
                # Past its deadline the fail policy answers anyway: no engine work that nobody waits for
                # (it would delay the next batch's decisions past theirs, and so on).
                result: Decision | Exception | None = None
                if time.monotonic() < deadline:
                    try:
                        result = engine.decide(event, now)
                    except Exception as exc:  # this decision's fail policy; the batch goes on
                        result = exc
                finished = time.monotonic()
                done.append((result, finished))
                # Logged whatever the outcome: the next decisions count it. Its habit is the one its row
                # will log: the engine's if the decision is used (the test below), else none.
                in_time = not finished - started > policy.timeout_ms / 1000
                cache.state.observe(event, payer_habit(event, result.features)
                                    if isinstance(result, Decision) and in_time else math.nan)

        if inline:
            run()
        else:
            future = _engine_thread().submit(run)
            handed_over = True
            future.add_done_callback(lambda _done: cache.lock.release())
            # Those not decided in time get their fail policy below; the engine's late work is ignored.
            with suppress(FutureTimeout):
                future.result(timeout=max(0.0, started + max(p.timeout_ms for p in policies) / 1000
                                          - time.monotonic()))
        answered = list(done)
    finally:
        if not handed_over:
            cache.lock.release()
    out: list[tuple[Decision, int]] = []
    causes: dict[str, int] = {}
    for i, policy in enumerate(policies):
        result, at = answered[i] if i < len(answered) else (None, math.inf)
        if result is None or at - started > policy.timeout_ms / 1000:
            causes["timeout"] = causes.get("timeout", 0) + 1
            out.append((fallback(policy, cause="timeout"), int((time.monotonic() - started) * 1e6)))
        elif isinstance(result, Exception):
            causes[type(result).__name__] = causes.get(type(result).__name__, 0) + 1
            out.append((fallback(policy, cause="error"), int((at - started) * 1e6)))
        else:
            out.append((result, int((at - started) * 1e6)))
    if causes:
        _batch_unavailable(events, policies, causes, started, "no answer within the budget",
                           lock_wait_ms=(locked - started) * 1000, prepare_ms=(prepared - locked) * 1000,
                           engine_answered=len(answered), loaded=cache.loaded, gaps=cache.gaps,
                           **cache.last_prepare, gc_ms=collector.WATCH.paused_ms() - gc_mark)
    return out, True


def _batch_unavailable(events: list[RiskEvent], policies: list[ChannelPolicy], causes: dict[str, int],
                       started: float, detail: str, **timings: float) -> None:
    """One warning per batch whose decisions (some or all) fell to the fail policy — not one per decision,
    which under load would add a log line per answer just when the process is short of time — with where
    the batch's time went, to tell a busy state from slow reads from a slow engine."""
    log.warning("risk_engine_unavailable", batch=len(events), fallbacks=sum(causes.values()), causes=causes,
                detail=detail, channels=sorted({e.channel for e in events}),
                budget_ms=min(p.timeout_ms for p in policies), first_decision_id=events[0].event_id,
                elapsed_ms=round((time.monotonic() - started) * 1000, 1),
                **{k: round(v, 1) if isinstance(v, float) else v for k, v in timings.items()})


def _replay(session: Session, row: RiskDecision, facts: str) -> DecisionRead:
    if row.fingerprint != facts:
        raise SubjectConflict(f"{row.channel} {row.subject_ref} was decided with different details")
    case = repository.case_for_decision(session, row.id)
    return views.decision_read(row, case_id=case.id if case else None, replayed=True)


def _decide(session: Session, cache: state.FeatureCache, config: Setup, policy: ChannelPolicy,
            event: RiskEvent, now: float) -> Decision:
    budget = policy.timeout_ms / 1000
    deadline = time.monotonic() + budget
    if not cache.lock.acquire(timeout=budget):
        return _unavailable(policy, event, "timeout", "the feature state stayed busy")
    handed_over = False
    try:
        cache.prepare(session, event)
        engine = _override or Engine(cache.view, config.lists, config.rules, config.champion,  # type: ignore[arg-type]
                                     config.challenger, config.policies)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _unavailable(policy, event, "timeout", "reading the feature state used the budget")
        future = _engine_thread().submit(engine.decide, event, now)
        handed_over = True
        # The lock is the engine's until it finishes, late or not: nothing else touches the state meanwhile.
        future.add_done_callback(lambda _done: cache.lock.release())
        try:
            return future.result(timeout=remaining)
        except FutureTimeout:
            return _unavailable(policy, event, "timeout", f"no answer within {policy.timeout_ms} ms")
        except Exception as exc:  # any engine failure: the channel's fail policy, never a 500
            return _unavailable(policy, event, "error", type(exc).__name__)
    finally:
        if not handed_over:
            cache.lock.release()


def _unavailable(policy: ChannelPolicy, event: RiskEvent, cause: str, detail: str) -> Decision:
    log.warning("risk_engine_unavailable", channel=event.channel, decision_id=event.event_id, cause=cause,
                detail=detail, budget_ms=policy.timeout_ms, outcome=policy.on_timeout)
    return fallback(policy, cause=cause)


def _values(event: RiskEventIn, risk_event: RiskEvent, occurred: datetime, displays: dict[str, str],
            facts: str, decision: Decision, config: Setup, latency_us: int) -> dict[str, Any]:
    return dict(
        id=risk_event.event_id, channel=event.channel, subject_ref=event.subject_ref, fingerprint=facts,
        occurred_at=occurred, amount_minor=risk_event.amount_minor,
        currency=risk_event.currency, customer_id=risk_event.customer, card=risk_event.card,
        account=risk_event.account, device=risk_event.device, payee=risk_event.payee,
        terminal=risk_event.terminal, ip=risk_event.ip, lat=risk_event.lat, lon=risk_event.lon,
        displays=displays, outcome=decision.outcome, score=float(decision.score),
        model_score=decision.model_score,
        model_version=config.champion_version if decision.model_score is not None else None,
        challenger_score=decision.challenger_score,
        challenger_version=config.challenger_version if decision.challenger_score is not None else None,
        reasons=[r.to_dict() for r in decision.reasons],
        features={}, feature_set=repository.FEATURE_SET,
        feature_values=repository.pack_features(decision.features),  # None: the engine failed
        rule_hits=[h.to_dict() for h in decision.rule_hits],
        shadow_hits=[h.to_dict() for h in decision.shadow_hits],
        list_hits=[h.to_dict() for h in decision.list_hits],
        rule_errors=[f"{e.key} v{e.version}: {e.message}" for e in decision.rule_errors],
        fallback=decision.fallback, latency_us=int(latency_us), revision=config.stamp, created_at=clock.now(),
    )


FOLLOWED_UP = frozenset({"review", "deny"})  # the outcomes `_follow_up` may act on


def _follow_up(session: Session, row: RiskDecision, decision: Decision) -> str | None:
    case_id = None
    if row.outcome == "review" or (row.outcome == "deny" and get_settings().risk.case_on_deny):
        case = case_service.open_case(session, row, origin=row.outcome, held=row.outcome == "review")
        case_id = case.id
        if row.outcome == "review":
            outbox.record(session, RiskReviewOpened(
                decision_id=row.id, case_id=case.id, channel=row.channel, subject_ref=row.subject_ref,
                transfer_id=row.transfer_id, customer_id=row.customer_id))
    if row.outcome in ("review", "deny") and not decision.fallback and row.customer_id:
        outbox.record(session, RiskAlertRaised(
            customer_id=row.customer_id, decision_id=row.id, channel=row.channel, outcome=row.outcome,
            reason_codes=[r.code for r in decision.reasons], source="decision"))
    return case_id
