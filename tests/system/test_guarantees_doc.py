"""docs/guarantees.md names the tests that prove each guarantee; every name must be a real test, and every
guarantee must name at least one, so the page cannot drift from the suite unnoticed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "guarantees.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    }


def test_every_cited_test_exists() -> None:
    references = REFERENCE.findall(DOC.read_text(encoding="utf-8"))
    assert len(references) > 40
    missing = []
    for file, name in references:
        path = ROOT / file
        if not path.is_file() or name not in _test_names(path):
            missing.append(f"{file}::{name}")
    assert missing == []


def test_every_guarantee_names_a_test() -> None:
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| **")]
    assert len(rows) >= 9
    assert [row.split("|")[1].strip() for row in rows if not REFERENCE.search(row.split("|")[-2])] == []


def test_the_checker_catches_a_wrong_name() -> None:
    assert "test_every_cited_test_exists" in _test_names(Path(__file__))
    assert "test_that_does_not_exist" not in _test_names(Path(__file__))
