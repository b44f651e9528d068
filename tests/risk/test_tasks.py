"""Risk's jobs: the monitor job commits its batches; retraining trains when due and labels suffice."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest

from atrium.config import reset_settings_cache
from atrium.kit import clock
from atrium.kit.clock import FrozenClock
from atrium.risk import service, tasks
from atrium.risk.schemas import ListEntryCreate, RiskEventIn
from atrium.risk.service import setup, state
from atrium.runtime import load_jobs
from tests.risk.service.factories import generous_budgets


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    state.reset()
    setup.clear()
    with generous_budgets(monkeypatch):
        yield
    state.reset()
    setup.clear()


@pytest.fixture()
def frozen() -> Iterator[FrozenClock]:
    fake = FrozenClock(clock.now().replace(microsecond=0))
    previous = clock.use(fake)
    yield fake
    clock.use(previous)


def test_the_jobs_are_registered() -> None:
    names = {job.name for job in load_jobs()}
    assert {"risk.monitor", "risk.retrain"} <= names


def test_the_monitor_job_commits_its_alerts(db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        service.screen(s, RiskEventIn(channel="card", subject_ref="auth_1", card_ref="card_1",
                                      customer_id="cust_1", amount_minor=100))
        entry = ListEntryCreate(list_kind="block", subject_kind="card", value="card_1")
        service.add_entry(s, entry, "staff_1")
    report = tasks.monitor_job(db)
    assert (report.checked, report.alerted) == (1, 1)
    assert tasks.monitor_job(db).checked == 0
    with db.session() as s:
        assert service.count_open(s) == 1


def test_the_monitor_loads_its_model_before_taking_the_write_lock(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The model (and LightGBM's import, 1.7 s) is loaded in a read transaction: inside a batch's write
    transaction it held SQLite's write lock, which every decision waits for."""
    with db.unit_of_work() as s:
        service.bootstrap_model(s, customers=40, days=20)
        service.screen(s, RiskEventIn(channel="card", subject_ref="auth_1", card_ref="card_1",
                                      customer_id="cust_1", amount_minor=100))
    setup.clear()  # a process that never decided: the monitor is its first use of the model
    writing = False
    loads: list[bool] = []
    unit_of_work, load = db.unit_of_work, setup._load

    @contextmanager
    def watched_unit_of_work():  # type: ignore[no-untyped-def]
        nonlocal writing
        with unit_of_work() as session:
            writing = True
            try:
                yield session
            finally:
                writing = False

    def watched_load(session, stamp):  # type: ignore[no-untyped-def]
        loads.append(writing)
        return load(session, stamp)

    monkeypatch.setattr(db, "unit_of_work", watched_unit_of_work)
    monkeypatch.setattr(setup, "_load", watched_load)
    tasks.monitor_job(db)
    assert loads == [False]  # loaded once, outside any write transaction
    assert setup._scorers  # the champion's scorer, cached for the batches


def test_retraining_waits_for_labels_and_then_for_its_interval(db, frozen, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ATRIUM_RISK__RETRAIN_MIN_ROWS", "20")
    monkeypatch.setenv("ATRIUM_RISK__RETRAIN_MIN_FRAUDS", "5")
    reset_settings_cache()
    start = frozen.now()
    frauds = []
    with db.unit_of_work() as s:
        for i in range(60):
            frozen.set(start + timedelta(hours=4 * i))
            fraud = i % 6 == 0
            decision = service.screen(s, RiskEventIn(
                channel="transfer", subject_ref=f"t{i}", customer_id=f"cust_{i % 5}",
                amount_minor=900_000 if fraud else 10_000, payee_ref=f"mule-{i}" if fraud else "landlord"))
            if fraud:
                frauds.append(decision.id)
    frozen.set(start + timedelta(days=20))
    assert db.run(tasks.retrain) is None  # no fraud reported yet: skipped (and logged)
    with db.unit_of_work() as s:
        for decision_id in frauds:
            service.label(s, decision_id, True, "chargeback")
    model = db.run(tasks.retrain)
    assert model is not None and (model.frauds, model.role) == (len(frauds), "challenger")
    assert db.run(tasks.retrain) is None  # trained less than a week ago
    frozen.set(frozen.now() + timedelta(days=8))
    assert db.run(tasks.retrain) is not None
