"""The CSV reader: columns, TX_FRAUD_SCENARIO never read, folders, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from atrium.risk.benchmark.data import REQUIRED, DataError, read_transactions
from tests.risk.benchmark import synthetic

pytestmark = pytest.mark.database_independent


def small() -> list[dict[str, object]]:
    return synthetic.rows(days=3, customers=20, terminals=30)


def test_reads_a_gzip_file_or_a_folder_holding_it(tmp_path: Path) -> None:
    synthetic.write(tmp_path / "transactions.csv.gz", small())
    (tmp_path / "other.csv").write_text("ignored\n")
    tx = read_transactions(tmp_path)
    assert len(tx) == len(small()) and tx.source.endswith("transactions.csv.gz")
    assert tx.day[0] == np.datetime64("2031-03-01").astype(int) and np.all(np.diff(tx.at) >= 0)
    assert set(np.unique(tx.fraud)) <= {0, 1} and len(tx.sha256) == 64


def test_the_fraud_scenario_column_is_never_read(tmp_path: Path) -> None:
    rows = small()
    scrambled = [{**r, "TX_FRAUD_SCENARIO": "not a number"} for r in rows]
    a = read_transactions(synthetic.write(tmp_path / "a.csv", rows))
    b = read_transactions(synthetic.write(tmp_path / "b.csv", scrambled))
    without = tuple(c for c in synthetic.COLUMNS if c != "TX_FRAUD_SCENARIO")
    c = read_transactions(synthetic.write(tmp_path / "c.csv", rows, without))
    for name in ("tx_id", "at", "day", "customer", "terminal", "amount", "fraud"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
        assert np.array_equal(getattr(a, name), getattr(c, name))
    assert not any("SCENARIO" in field.upper() for field in vars(a))


def test_missing_columns_are_named(tmp_path: Path) -> None:
    columns = tuple(c for c in synthetic.COLUMNS if c not in ("TX_FRAUD", "TERMINAL_ID"))
    path = synthetic.write(tmp_path / "bad.csv", small(), columns)
    expected = r"missing column\(s\) TERMINAL_ID, TX_FRAUD; need " + ", ".join(REQUIRED)
    with pytest.raises(DataError, match=expected):
        read_transactions(path)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("TX_DATETIME", "yesterday", "TX_DATETIME is not"),
    ("TX_AMOUNT", "lots", "must be numbers"),
    ("TX_FRAUD", "2", "must be 0 or 1"),
])
def test_bad_values_are_data_errors(tmp_path: Path, field: str, value: str, message: str) -> None:
    rows = small()
    rows[5] = {**rows[5], field: value}
    with pytest.raises(DataError, match=message):
        read_transactions(synthetic.write(tmp_path / "bad.csv", rows))


def test_missing_paths_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_transactions(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="no transactions.csv.gz"):
        read_transactions(tmp_path)
    (tmp_path / "empty.csv").write_text(",".join(synthetic.COLUMNS) + "\n")
    with pytest.raises(DataError, match="no transactions"):
        read_transactions(tmp_path / "empty.csv")
