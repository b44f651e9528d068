"""The house rules of docs/architecture.md, checked on the source so they cannot rot into prose.

- the import-linter contracts in pyproject.toml (layers, kit, pure domain rules) hold;
- a domain's models and repository are imported only inside the domain (and by atrium.schema);
- no module is longer than 400 lines;
- services and repositories flush, never commit (the edge commits);
- no print() outside command-line entry points (logs go through structlog, which redacts);
- no float arithmetic on money in the money domains.
"""

from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "atrium"
MAX_LINES = 400
MONEY_DOMAINS = ("ledger", "accounts", "payments", "limits")


def _modules(under: Path = SRC) -> list[Path]:
    return sorted(p for p in under.rglob("*.py") if "__pycache__" not in p.parts)


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _calls(tree: ast.AST) -> Iterator[ast.Call]:
    return (node for node in ast.walk(tree) if isinstance(node, ast.Call))


def test_import_linter_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(  # noqa: S603 - our own venv's tool, fixed arguments
        [str(lint_imports), "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True, text=True, timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout


# --- domain boundaries ----------------------------------------------------------------------------

_PRIVATE = re.compile(r"^atrium\.(?P<domain>[a-z_]+)(?:\.[a-z_]+)*\.(?:models|repository)(?:\.|$)")
# Composition roots that legitimately import every domain's tables.
_MODEL_REGISTRIES = {"atrium.schema"}


def test_domains_keep_their_models_and_repositories_to_themselves() -> None:
    graph = grimp.build_graph("atrium", cache_dir=None)
    private = {m: match["domain"] for m in graph.modules if (match := _PRIVATE.match(m))}
    assert any(d == "ledger" for d in private.values()), "the rule found no models to protect"
    offenders = []
    for module, domain in sorted(private.items()):
        for importer in sorted(graph.find_modules_that_directly_import(module)):
            inside = importer == f"atrium.{domain}" or importer.startswith(f"atrium.{domain}.")
            if not inside and importer not in _MODEL_REGISTRIES:
                offenders.append(f"{importer} -> {module}")
    assert not offenders, (
        "reach another domain through its service, schemas and errors, never its models or repository:\n"
        + "\n".join(offenders)
    )


# --- size -----------------------------------------------------------------------------------------


def test_no_module_over_400_lines() -> None:
    too_long = {
        _rel(p): n for p in _modules() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"split these into a package by use case (> {MAX_LINES} lines): {too_long}"


# --- transactions ---------------------------------------------------------------------------------


def _service_or_repository(path: Path) -> bool:
    parts = path.relative_to(SRC).parts
    names = {"service", "repository"}
    return path.stem in names or any(part in names for part in parts[:-1])


def test_services_and_repositories_never_commit() -> None:
    checked = [p for p in _modules() if _service_or_repository(p)]
    assert checked, "found no service or repository modules to check"
    offenders = [
        f"{_rel(p)}:{call.lineno}"
        for p in checked
        for call in _calls(_tree(p))
        if isinstance(call.func, ast.Attribute) and call.func.attr == "commit"
    ]
    assert not offenders, f"services and repositories flush; the edge commits: {offenders}"


# --- output ---------------------------------------------------------------------------------------


def _is_command_line(path: Path) -> bool:
    """atrium.cli, and modules run as `python -m …` (they have a __main__ guard): their output is the UI."""
    if path.relative_to(SRC).parts[0] in ("cli.py", "cli"):
        return True
    return any(
        isinstance(node, ast.If) and "__main__" in ast.unparse(node.test) for node in _tree(path).body
    )


def test_no_print_outside_the_cli() -> None:
    offenders = [
        f"{_rel(p)}:{call.lineno}"
        for p in _modules()
        if not _is_command_line(p)
        for call in _calls(_tree(p))
        if isinstance(call.func, ast.Name) and call.func.id == "print"
    ]
    assert not offenders, f"use atrium.logs.get_logger (it redacts secrets and PII), not print: {offenders}"


def test_the_print_rule_exempts_only_command_lines() -> None:
    assert _is_command_line(SRC / "cli.py")
    assert not _is_command_line(SRC / "app.py")


# --- money ----------------------------------------------------------------------------------------


def _names(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _names(node.value)
    return ""


def _money_name(node: ast.AST) -> bool:
    name = _names(node).lower()
    return "minor" in name or name in {"amount", "balance"}


def _float_offences(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float":
            yield node.lineno, "float(...)"
        elif isinstance(node, ast.BinOp | ast.AugAssign):
            left = node.left if isinstance(node, ast.BinOp) else node.target
            right = node.right if isinstance(node, ast.BinOp) else node.value
            if isinstance(node.op, ast.Div) and (_money_name(left) or _money_name(right)):
                yield node.lineno, "true division of a money amount (use // with an explicit rounding rule)"
            operands = (left, right)
            if any(isinstance(o, ast.Constant) and isinstance(o.value, float) for o in operands) and any(
                _money_name(o) for o in operands
            ):
                yield node.lineno, "a float literal in money arithmetic"


@pytest.mark.parametrize("domain", MONEY_DOMAINS)
def test_no_float_arithmetic_on_money(domain: str) -> None:
    package = SRC / domain
    if not package.exists():
        pytest.fail(f"src/atrium/{domain} is missing")
    offenders = [
        f"{_rel(p)}:{line}: {what}" for p in _modules(package) for line, what in _float_offences(_tree(p))
    ]
    assert not offenders, "money is integer minor units:\n" + "\n".join(offenders)


def test_the_float_rule_catches_what_it_should() -> None:
    """The checker itself: float arithmetic on money is found, integer arithmetic is not."""
    bad = ast.parse(
        "a = float(x)\nb = amount_minor / 100\nc = balance * 1.5\nd = acct.available_minor / n\n"
        "fee_minor /= 2\n"
    )
    assert sorted(line for line, _ in _float_offences(bad)) == [1, 2, 3, 4, 5]
    good = ast.parse(
        "a = amount_minor // 100\nb = Decimal(amount_minor) / 100\nc = rate / 2\nd = amount_minor * 3\n"
    )
    assert list(_float_offences(good)) == []


def test_every_top_level_module_has_a_layer() -> None:
    """A new top-level package must be placed in the layers contract, or it escapes every direction."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    placed = {m.strip().strip("()") for layer in layers for m in re.split(r"[|:]", layer)}
    present = {
        f"atrium.{p.stem if p.is_file() else p.name}"
        for p in SRC.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())
    }
    unplaced = present - placed
    assert not unplaced, f"add these to the layers contract in pyproject.toml: {sorted(unplaced)}"
