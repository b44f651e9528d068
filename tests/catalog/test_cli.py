"""`atrium catalog sync` and `atrium catalog list`."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from atrium.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog"


def test_sync_then_list_then_sync_again(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first = runner.invoke(app, ["catalog", "sync"])
    assert first.exit_code == 0, first.output
    assert "created retail.transfer" in first.output and "0 updated" in first.output
    again = runner.invoke(app, ["catalog", "sync"])
    assert again.exit_code == 0 and "0 created, 0 updated" in again.output
    listed = runner.invoke(app, ["catalog", "list", "--line", "enterprise"])
    assert listed.exit_code == 0, listed.output
    assert "enterprise.company" in listed.output and "/biz" in listed.output
    assert "retail." not in listed.output
    assert "2 services" in listed.output


def test_sync_a_directory_and_refuse_a_bad_one(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = runner.invoke(app, ["catalog", "sync", "--dir", str(EXAMPLE)])
    assert done.exit_code == 0 and "created wealth.pension_safety" in done.output
    (tmp_path / "bad.toml").write_text('[[services]]\nkey = "wealth.x"\nversion = 1\n', encoding="utf-8")
    refused = runner.invoke(app, ["catalog", "sync", "--dir", str(tmp_path)])
    assert refused.exit_code == 1
    assert "bad.toml" in refused.output and "services[0]" in refused.output
