"""atrium.kit.collector: the server's start-up heap leaves the collector's walk; its pauses are timed."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from atrium.config import reset_settings_cache
from atrium.kit import collector


@pytest.fixture
def restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    collector.WATCH.uninstall()


def test_freezing_moves_the_live_heap_out_of_the_collectors_walk(restore_gc: None) -> None:
    kept = [[i] for i in range(1000)]  # tracked objects that stay alive
    frozen = collector.freeze_static_heap()
    assert frozen >= len(kept)
    assert gc.get_freeze_count() >= len(kept)  # (some frozen objects may since have been freed)
    assert not any(o is kept[0] for o in gc.get_objects())  # frozen objects are not walked any more


def test_freezing_first_collects_garbage_cycles(restore_gc: None) -> None:
    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # type: ignore[attr-defined]
    del a, b
    collector.freeze_static_heap()
    assert not any(isinstance(o, Node) for o in gc.get_objects())
    gc.unfreeze()
    assert not any(isinstance(o, Node) for o in gc.get_objects())  # collected, not frozen


def test_tune_sets_the_young_threshold_and_keeps_the_older_ratios(restore_gc: None) -> None:
    gc.set_threshold(700, 11, 12)
    collector.tune(10_000)
    assert gc.get_threshold() == (10_000, 11, 12)
    collector.tune(0)  # 0 leaves the thresholds alone
    assert gc.get_threshold() == (10_000, 11, 12)


def test_the_watch_times_each_generation(restore_gc: None) -> None:
    watch = collector.PauseWatch().install()
    try:
        before = watch.paused_ms()
        gc.collect(0)
        gc.collect(2)
        assert watch.collections[0] >= 1 and watch.collections[2] >= 1
        assert watch.paused_ms() > before
        assert watch.max_ms[2] > 0
        summary = watch.summary()
        assert summary["collections"] == watch.collections and "frozen" in summary
    finally:
        watch.uninstall()
    assert watch not in gc.callbacks


def test_the_app_freezes_and_tunes_when_it_starts(restore_gc: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from atrium.app import create_app

    try:
        with monkeypatch.context() as env:
            env.setenv("ATRIUM_GC_FREEZE", "true")
            env.setenv("ATRIUM_GC_YOUNG_THRESHOLD", "12345")
            reset_settings_cache()
            with TestClient(create_app(start_background=False)) as client:
                assert client.get("/api/v1/health").status_code == 200
                assert gc.get_freeze_count() > 0
                assert gc.get_threshold()[0] == 12345
                assert collector.WATCH in gc.callbacks
    finally:
        reset_settings_cache()  # the suite's own settings again
