"""Compatibility for hypothesis-jsonschema 0.23 (schemathesis 3's body generator) on current Hypothesis.

hypothesis-jsonschema draws JSON objects through Hypothesis' private `many` helper with the old protocol
(`while elements.more(): … elements.reject()`); newer Hypothesis releases turned `many` into a context
manager that is iterated. Without this adapter every operation with an object body fails to generate.
It is applied only when the installed Hypothesis lacks the old protocol, and only to that module.
"""

from __future__ import annotations

from typing import Any

from hypothesis.internal.conjecture import utils as cu


class _LegacyMany:
    """The old `more()` / `reject()` protocol on top of the new iterable `many`."""

    def __init__(self, data: Any, **kwargs: Any) -> None:
        self._many = cu.many(data, **kwargs)
        self._many.__enter__()
        self._elements = iter(self._many)

    def more(self) -> bool:
        if next(self._elements, StopIteration) is StopIteration:
            self._many.__exit__(None, None, None)
            return False
        return True

    def reject(self, why: str | None = None) -> None:
        self._many.reject(why)


class _UtilsWithLegacyMany:
    def __getattr__(self, name: str) -> Any:
        return _LegacyMany if name == "many" else getattr(cu, name)


def apply() -> None:
    if hasattr(cu.many, "more"):
        return
    from hypothesis_jsonschema import _from_schema

    _from_schema.cu = _UtilsWithLegacyMany()  # type: ignore[assignment]
