"""Windows, folds and the message when the data does not reach them."""

from __future__ import annotations

from pathlib import Path

import pytest

from atrium.risk.benchmark.data import iso_to_day, read_transactions
from atrium.risk.benchmark.protocol import ProtocolError, check_coverage, make_folds, span
from tests.risk.benchmark import synthetic

pytestmark = pytest.mark.database_independent


def test_book_windows_by_default() -> None:
    (single,) = make_folds("single", None)
    assert single.window.describe() == {"train": "2018-07-25..31", "delay": "2018-08-01..07",
                                        "test": "2018-08-08..14"}
    folds = make_folds("prequential", None)
    assert [f.window.describe()["train"] for f in folds] == [
        "2018-07-25..31", "2018-08-01..07", "2018-08-08..14", "2018-08-15..21"]
    assert folds[0].validation.describe() == {"train": "2018-07-04..10", "delay": "2018-07-11..17",
                                              "test": "2018-07-18..24"}


def test_train_start_is_the_earliest_fold() -> None:
    folds = make_folds("prequential", "2018-06-13")
    assert [span(f.window.test_start, f.window.test_end) for f in folds] == [
        "2018-06-27..07-03", "2018-07-04..10", "2018-07-11..17", "2018-07-18..24"]
    assert span(iso_to_day("2030-12-29"), iso_to_day("2031-01-04")) == "2030-12-29..2031-01-03"


def test_data_that_ends_before_the_test_week_is_a_clear_error(tmp_path: Path) -> None:
    rows = synthetic.rows(days=2, customers=10, terminals=10)
    for row in rows:  # move them to the visible part's last days
        row["TX_DATETIME"] = "2018-07-2" + str(3 + int(row["TX_TIME_DAYS"])) + row["TX_DATETIME"][10:]
    data = read_transactions(synthetic.write(tmp_path / "t.csv", rows))
    for protocol in ("single", "prequential"):
        with pytest.raises(ProtocolError) as error:
            check_coverage(make_folds(protocol, None), data)
        assert str(error.value) == ("no transactions in the test week 2018-08-08..14; "
                                    "the data ends 2018-07-24 — pass --train-start")
    with pytest.raises(ProtocolError, match="test week 2018-07-14..20; the data starts 2018-07-23"):
        check_coverage(make_folds("single", "2018-06-30"), data)


def test_unknown_protocol() -> None:
    with pytest.raises(ProtocolError, match="single, prequential"):
        make_folds("weekly", None)
