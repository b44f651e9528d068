"""Property test: random sequences of transfers, holds, (partial) posts, voids, reversals, expiries and
retried requests (same key, sometimes another body) keep the ledger consistent.

A plain-integer model (written here, independent of `atrium.ledger.domain`) predicts every outcome —
accepted, InsufficientFunds, HoldNotPending, AlreadyReversed, IdempotencyConflict — and every account's
four totals. After each step the work is COMMITTED (even after a refused request, so a half-written
refusal would surface), and then: the model's totals equal the database's, no floor-enforced account is
below its floor, the trial balance is zero per currency, and `check()` is clean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from atrium.db.session import Database
from atrium.kit import clock
from atrium.kit.errors import IdempotencyConflict
from atrium.ledger import service as ledger
from atrium.ledger.errors import AlreadyReversed, HoldExpired, HoldNotPending, InsufficientFunds
from atrium.ledger.models import LedgerAccount
from atrium.ledger.schemas import JournalRead

CREDIT_NORMAL = {"liability", "income", "equity"}


@dataclass
class Acct:
    id: str
    type: str
    enforce: bool
    od: int
    dp: int = 0  # debits posted
    cp: int = 0
    dpend: int = 0
    cpend: int = 0

    def available(self) -> int:
        if self.type in CREDIT_NORMAL:
            return self.cp - self.dp - self.dpend
        return self.dp - self.cp - self.cpend


@dataclass
class HoldM:
    id: str
    debit: int
    credit: int
    amount: int
    expires_at: datetime
    status: str = "pending"


class Refused(Exception):
    pass


class LedgerMachine(RuleBasedStateMachine):
    db: Database
    engine: Engine  # the test's own engine (see the test function)

    def __init__(self) -> None:
        super().__init__()
        self.clock = clock.FrozenClock(datetime(2030, 3, 1, 12, 0, tzinfo=UTC))
        self.previous_clock = clock.use(self.clock)
        self.s = Session(self.engine, expire_on_commit=False)
        self.n = 0
        self.steps = 0
        specs = [  # (type, enforce floor, overdraft)
            ("asset", False, 0),  # the bank's settlement account: money from outside
            ("liability", True, 0),  # customers
            ("liability", True, 0),
            ("liability", True, 500),  # a customer with an overdraft
            ("liability", True, 0),  # a merchant
            ("income", False, 0),  # fees
        ]
        self.accts = [
            Acct(ledger.open_account(self.s, name=f"a{i}", type=t, currency="CNY", enforce_floor=e,
                                     overdraft_limit_minor=od).id, t, e, od)
            for i, (t, e, od) in enumerate(specs)
        ]
        self.s.commit()
        self.journals: list[tuple[str, list[tuple[int, str, int]]]] = []  # id, legs (acct idx, side, amount)
        self.reversed: set[str] = set()
        self.holds: list[HoldM] = []
        # Successful requests, for retries: (operation, kwargs, id of the first result).
        self.done: list[tuple[str, dict[str, Any], str]] = []

    def teardown(self) -> None:
        try:
            self.assert_check_clean()
        finally:
            self.s.rollback()
            self.s.close()
            clock.use(self.previous_clock)
            self.wipe()

    def wipe(self) -> None:
        with self.engine.begin() as conn:
            if self.db.is_sqlite:
                for table in ("ledger_legs", "ledger_journals", "ledger_holds", "ledger_accounts"):
                    conn.exec_driver_sql(f"DELETE FROM {table}")
            else:  # TRUNCATE does not fire the append-only row triggers
                conn.exec_driver_sql(
                    "TRUNCATE ledger_legs, ledger_journals, ledger_holds, ledger_accounts CASCADE"
                )

    # --- the model -------------------------------------------------------------------------------------

    def key(self) -> str:
        self.n += 1
        return f"prop-{self.n}"

    def try_apply(self, moves: list[tuple[int, str, int, bool]]) -> None:
        """Apply (account index, side, ±amount, pending?) to the model, or raise Refused (model unchanged)."""
        touched = {i for i, _, _, _ in moves}
        saved = {i: (self.accts[i].dp, self.accts[i].cp, self.accts[i].dpend, self.accts[i].cpend)
                 for i in touched}
        before = {i: self.accts[i].available() for i in touched}
        for i, side, amount, pending in moves:
            a = self.accts[i]
            if side == "debit" and pending:
                a.dpend += amount
            elif side == "debit":
                a.dp += amount
            elif pending:
                a.cpend += amount
            else:
                a.cp += amount
        for i in touched:
            a = self.accts[i]
            if a.enforce and a.available() < before[i] and a.available() < -a.od:
                for j, (dp, cp, dpend, cpend) in saved.items():
                    self.accts[j].dp, self.accts[j].cp, self.accts[j].dpend, self.accts[j].cpend = (
                        dp, cp, dpend, cpend)
                raise Refused

    def commit(self) -> None:
        self.s.commit()

    def idx(self, account_id: str) -> int:
        return next(i for i, a in enumerate(self.accts) if a.id == account_id)

    # --- rules -----------------------------------------------------------------------------------------

    @rule(src=st.integers(0, 5), dst=st.integers(0, 5), amount=st.integers(1, 3_000))
    def transfer(self, src: int, dst: int, amount: int) -> None:
        if src == dst:
            return
        kwargs = {"idempotency_key": self.key(), "debit_account_id": self.accts[src].id,
                  "credit_account_id": self.accts[dst].id, "amount_minor": amount, "currency": "CNY",
                  "kind": "transfer"}
        try:
            self.try_apply([(src, "debit", amount, False), (dst, "credit", amount, False)])
        except Refused:
            with pytest.raises(InsufficientFunds):
                ledger.post_transfer(self.s, **kwargs)
        else:
            j = ledger.post_transfer(self.s, **kwargs)
            self.journals.append((j.id, [(src, "debit", amount), (dst, "credit", amount)]))
            self.done.append(("transfer", kwargs, j.id))
        self.commit()

    @rule(src=st.integers(1, 4), dst=st.integers(0, 5), over=st.integers(0, 1), as_hold=st.booleans())
    def spend_to_the_floor(self, src: int, dst: int, over: int, as_hold: bool) -> None:
        """Exactly everything that may be spent (over=0) or one minor unit more (over=1): the boundary."""
        amount = self.accts[src].available() + self.accts[src].od + over
        if amount < 1:
            return
        if as_hold:
            self.place_hold(src, dst, amount, 3600)
        else:
            self.transfer(src, dst, amount)

    @rule(src=st.integers(0, 5), dst=st.integers(0, 5), amount=st.integers(1, 3_000),
          ttl=st.integers(1, 7200))
    def place_hold(self, src: int, dst: int, amount: int, ttl: int) -> None:
        if src == dst:
            return
        expires = clock.now() + timedelta(seconds=ttl)
        kwargs = {"idempotency_key": self.key(), "debit_account_id": self.accts[src].id,
                  "credit_account_id": self.accts[dst].id, "amount_minor": amount, "currency": "CNY",
                  "expires_at": expires, "kind": "card"}
        try:
            self.try_apply([(src, "debit", amount, True), (dst, "credit", amount, True)])
        except Refused:
            with pytest.raises(InsufficientFunds):
                ledger.place_hold(self.s, **kwargs)
        else:
            h = ledger.place_hold(self.s, **kwargs)
            self.holds.append(HoldM(h.id, src, dst, amount, expires))
            self.done.append(("place_hold", kwargs, h.id))
        self.commit()

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), partial=st.booleans())
    def post_hold(self, data: st.DataObject, partial: bool) -> None:
        h = data.draw(st.sampled_from(self.holds))
        amount = data.draw(st.integers(1, h.amount)) if partial else None
        kwargs = {"hold_id": h.id, "idempotency_key": self.key(), "amount_minor": amount}
        if h.status != "pending":
            with pytest.raises(HoldNotPending):
                ledger.post_hold(self.s, **kwargs)
        elif clock.now() >= h.expires_at:
            with pytest.raises(HoldExpired):
                ledger.post_hold(self.s, **kwargs)
        else:
            take = h.amount if amount is None else amount
            self.try_apply([(h.debit, "debit", -h.amount, True), (h.credit, "credit", -h.amount, True),
                            (h.debit, "debit", take, False), (h.credit, "credit", take, False)])
            j = ledger.post_hold(self.s, **kwargs)
            assert j.hold_id == h.id and j.legs[0].amount_minor == take
            h.status = "posted"
            self.journals.append((j.id, [(h.debit, "debit", take), (h.credit, "credit", take)]))
            self.done.append(("post_hold", kwargs, j.id))
        self.commit()

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def void_hold(self, data: st.DataObject) -> None:
        h = data.draw(st.sampled_from(self.holds))
        kwargs = {"hold_id": h.id, "idempotency_key": self.key()}
        if h.status != "pending":
            with pytest.raises(HoldNotPending):
                ledger.void_hold(self.s, **kwargs)
        else:
            self.try_apply([(h.debit, "debit", -h.amount, True), (h.credit, "credit", -h.amount, True)])
            assert ledger.void_hold(self.s, **kwargs).status == "voided"
            h.status = "voided"
            self.done.append(("void_hold", kwargs, h.id))
        self.commit()

    @rule(seconds=st.integers(0, 5000))
    def time_passes_and_holds_expire(self, seconds: int) -> None:
        self.clock.set(clock.now() + timedelta(seconds=seconds))
        due = [h for h in self.holds if h.status == "pending" and h.expires_at <= clock.now()]
        for h in due:
            self.try_apply([(h.debit, "debit", -h.amount, True), (h.credit, "credit", -h.amount, True)])
            h.status = "expired"
        assert ledger.expire_holds(self.s) == len(due)
        self.commit()

    @precondition(lambda self: self.journals)
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        journal_id, legs = data.draw(st.sampled_from(self.journals))
        kwargs = {"journal_id": journal_id, "idempotency_key": self.key(), "reason": "correction"}
        if journal_id in self.reversed:
            with pytest.raises(AlreadyReversed):
                ledger.reverse(self.s, **kwargs)
            self.commit()
            return
        swapped = [(i, "credit" if side == "debit" else "debit", amount) for i, side, amount in legs]
        try:
            self.try_apply([(i, side, amount, False) for i, side, amount in swapped])
        except Refused:
            with pytest.raises(InsufficientFunds):
                ledger.reverse(self.s, **kwargs)
        else:
            j = ledger.reverse(self.s, **kwargs)
            assert j.reverses_id == journal_id
            self.reversed.add(journal_id)
            self.journals.append((j.id, swapped))
            self.done.append(("reverse", kwargs, j.id))
        self.commit()

    @precondition(lambda self: self.done)
    @rule(data=st.data(), same_body=st.booleans())
    def retry(self, data: st.DataObject, same_body: bool) -> None:
        op, kwargs, first_id = data.draw(st.sampled_from(self.done))
        call = getattr(ledger, op if op != "transfer" else "post_transfer")
        if same_body:
            result = call(self.s, **kwargs)
            assert result.id == first_id  # the first result, whatever happened since
            if isinstance(result, JournalRead):
                assert result == ledger.get_journal(self.s, first_id)
        else:
            changed = dict(kwargs)
            if op in ("transfer", "place_hold"):
                changed["amount_minor"] += 1
            elif op == "post_hold":
                changed["amount_minor"] = (kwargs["amount_minor"] or 0) + 10**6
            elif op == "reverse":
                changed["reason"] = "another reason"
            else:  # void_hold: the same key for another hold
                others = [h for h in self.holds if h.id != kwargs["hold_id"]]
                if not others:
                    return
                changed["hold_id"] = others[0].id
            with pytest.raises(IdempotencyConflict):
                call(self.s, **changed)
        self.commit()

    # --- invariants ------------------------------------------------------------------------------------

    @invariant()
    def matches_the_model(self) -> None:
        """Every step: the four totals of every account equal the model's; floors hold."""
        fresh = select(LedgerAccount).execution_options(populate_existing=True)
        rows = {r.id: r for r in self.s.scalars(fresh)}
        for a in self.accts:
            row = rows[a.id]
            assert (row.debits_posted, row.credits_posted, row.debits_pending, row.credits_pending) == (
                a.dp, a.cp, a.dpend, a.cpend)
        self.s.commit()

    @invariant()
    def checks_clean(self) -> None:
        """The full check (a dozen aggregate queries) every third step and at the end of every run."""
        self.steps += 1
        if self.steps % 3 == 0:
            self.assert_check_clean()

    def assert_check_clean(self) -> None:
        for a in self.accts:
            read = ledger.get_account(self.s, a.id)
            assert read.available_minor == a.available()
            if a.enforce:
                assert read.available_minor >= -a.od
        report = ledger.check(self.s)
        assert report.ok, report.discrepancies
        assert all(line.difference_minor == 0 for line in report.trial_balance.values())
        self.s.commit()


def test_random_ledger_histories_stay_consistent(db: Database) -> None:
    LedgerMachine.db = db
    # Each step commits (so PostgreSQL's deferred balance trigger judges it). Durability is not under test
    # here, so on PostgreSQL the machine's own engine skips the WAL flush at commit: the run stays short.
    engine = db.engine
    if not db.is_sqlite:
        engine = create_engine(db.engine.url, connect_args={"options": "-c synchronous_commit=off"})
    LedgerMachine.engine = engine
    try:
        run_state_machine_as_test(
            LedgerMachine,
            settings=settings(max_examples=50, stateful_step_count=20, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]),
        )
    finally:
        if engine is not db.engine:
            engine.dispose()
