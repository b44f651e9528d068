"""The ranking seam: how the home page orders the services it offers a viewer.

A later recommender registers itself with `register_ranker`; until then the default orders by the person's
own use (most used first) and then by the catalogue's rank. Invariant for every ranker: it returns a
permutation of a subset of `candidates` — it may drop or reorder, never add a service the viewer cannot see
(`service.home_quick` re-checks this, so a faulty ranker cannot leak a hidden service).
"""

from __future__ import annotations

import threading
from typing import Protocol

from atrium.catalog.schemas import ServiceRead, Viewer


class Ranker(Protocol):
    name: str

    def rank(self, viewer: Viewer, candidates: list[ServiceRead], usage: dict[str, int]) -> list[ServiceRead]:
        """Order `candidates` (all visible to `viewer`) for display; `usage` is the viewer's own use count per
        service key in its current identity."""
        ...


class OwnUseThenRank:
    """The default: the services the person uses most come first; ties and unused ones keep the catalogue's
    order (business line, then rank), which is the order the candidates arrive in — the sort is stable."""

    name = "own-use"

    def rank(self, viewer: Viewer, candidates: list[ServiceRead], usage: dict[str, int]) -> list[ServiceRead]:
        return sorted(candidates, key=lambda s: -usage.get(s.key, 0))


DEFAULT_RANKER: Ranker = OwnUseThenRank()

_lock = threading.Lock()
_current: Ranker = DEFAULT_RANKER


def register_ranker(ranker: Ranker) -> None:
    """Install `ranker` for the whole process (a recommender at start-up; tests restore the default)."""
    global _current
    if not getattr(ranker, "name", "") or not callable(getattr(ranker, "rank", None)):
        raise TypeError("a ranker needs a name and a rank(viewer, candidates, usage) method")
    with _lock:
        _current = ranker


def current_ranker() -> Ranker:
    return _current


def reset_ranker() -> None:
    register_ranker(DEFAULT_RANKER)
