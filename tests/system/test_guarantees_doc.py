"""docs/guarantees.md and docs/security.md name the tests that prove each guarantee and each security
control; every name must be a real test, and every row must name at least one, so the pages cannot drift
from the suite unnoticed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "docs" / "guarantees.md", ROOT / "docs" / "security.md"]
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    }


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_cited_test_exists(doc: Path) -> None:
    references = REFERENCE.findall(doc.read_text(encoding="utf-8"))
    assert len(references) > 40
    missing = []
    for file, name in references:
        path = ROOT / file
        if not path.is_file() or name not in _test_names(path):
            missing.append(f"{file}::{name}")
    assert missing == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_guarantee_names_a_test(doc: Path) -> None:
    rows = [line for line in doc.read_text(encoding="utf-8").splitlines() if line.startswith("| **")]
    assert len(rows) >= 9
    assert [row.split("|")[1].strip() for row in rows if not REFERENCE.search(row.split("|")[-2])] == []


def test_the_checker_catches_a_wrong_name() -> None:
    assert "test_every_cited_test_exists" in _test_names(Path(__file__))
    assert "test_that_does_not_exist" not in _test_names(Path(__file__))
