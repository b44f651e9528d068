"""Reading the handbook's transaction stream (or any CSV with the same columns and other dates).

`TX_FRAUD_SCENARIO` is label-side: the reader never takes it (only the columns in `REQUIRED` are read), so
nothing downstream can see it. Times have no zone in the file; they are read as UTC.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

REQUIRED: Final = ("TRANSACTION_ID", "TX_DATETIME", "CUSTOMER_ID", "TERMINAL_ID", "TX_AMOUNT", "TX_FRAUD")
DEFAULT_FILE: Final = "transactions.csv.gz"
DAY_S: Final = 86400


class DataError(ValueError):
    """The input is not a usable transaction file (missing, unreadable, wrong columns, bad values)."""


@dataclass(frozen=True)
class Transactions:
    """Columns in time order (ties by file order). `day` is whole days since 1970-01-01 (UTC)."""

    tx_id: np.ndarray  # str
    at: np.ndarray  # float64, epoch seconds
    day: np.ndarray  # int64
    customer: np.ndarray  # str
    terminal: np.ndarray  # str
    amount: np.ndarray  # float64, major units
    fraud: np.ndarray  # int8, 0/1
    source: str
    sha256: str

    def __len__(self) -> int:
        return len(self.tx_id)

    @property
    def first_day(self) -> int:
        return int(self.day[0])

    @property
    def last_day(self) -> int:
        return int(self.day[-1])


def resolve(path: Path) -> Path:
    """A file, or a folder holding `transactions.csv.gz` (else its only *.csv / *.csv.gz)."""
    if path.is_dir():
        preferred = path / DEFAULT_FILE
        if preferred.is_file():
            return preferred
        found = sorted([*path.glob("*.csv.gz"), *path.glob("*.csv")])
        if len(found) != 1:
            raise DataError(f"{path} holds no {DEFAULT_FILE} and {len(found)} other CSV files; name one")
        return found[0]
    if not path.is_file():
        raise DataError(f"{path}: no such file or folder")
    return path


def read_transactions(path: Path) -> Transactions:
    file = resolve(Path(path))
    raw = file.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        text = io.StringIO(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DataError(f"{file}: not UTF-8 text ({exc})") from exc
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None:
        raise DataError(f"{file}: empty file")
    header = [h.strip() for h in header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise DataError(f"{file}: missing column(s) {', '.join(missing)}; need {', '.join(REQUIRED)}")
    index = [header.index(c) for c in REQUIRED]
    columns: list[list[str]] = [[] for _ in REQUIRED]
    appenders = [c.append for c in columns]
    pairs = list(zip(index, appenders, strict=True))
    width = max(index) + 1
    for line, row in enumerate(reader, start=2):
        if len(row) < width:
            if not row:
                continue
            raise DataError(f"{file}:{line}: {len(row)} fields, expected {len(header)}")
        for i, append in pairs:
            append(row[i])
    if not columns[0]:
        raise DataError(f"{file}: no transactions")
    return _typed(columns, str(file), digest)


def _typed(columns: list[list[str]], source: str, digest: str) -> Transactions:
    tx_id, when, customer, terminal, amount, fraud = columns
    try:
        stamps = np.array([w.strip().replace(" ", "T", 1) for w in when], dtype="datetime64[s]")
    except ValueError as exc:
        raise DataError(f"{source}: TX_DATETIME is not 'YYYY-MM-DD HH:MM:SS' ({exc})") from exc
    try:
        amounts = np.array(amount, dtype=np.float64)
        labels = np.array(fraud, dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"{source}: TX_AMOUNT / TX_FRAUD must be numbers ({exc})") from exc
    if not np.isin(labels, (0.0, 1.0)).all():
        raise DataError(f"{source}: TX_FRAUD must be 0 or 1")
    if not np.isfinite(amounts).all() or (amounts < 0).any():
        raise DataError(f"{source}: TX_AMOUNT must be a non-negative number")
    at = stamps.astype(np.int64)
    order = np.argsort(at, kind="stable")
    at = at[order]
    ids = np.array(tx_id, dtype=str)[order]
    if len(np.unique(ids)) != len(ids):
        raise DataError(f"{source}: TRANSACTION_ID values are not unique")
    return Transactions(
        tx_id=ids,
        at=at.astype(np.float64),
        day=at // DAY_S,
        customer=np.array(customer, dtype=str)[order],
        terminal=np.array(terminal, dtype=str)[order],
        amount=amounts[order],
        fraud=labels[order].astype(np.int8),
        source=source,
        sha256=digest,
    )


def day_to_iso(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def iso_to_day(text: str) -> int:
    try:
        return int(np.datetime64(text, "D").astype(np.int64))
    except ValueError as exc:
        raise DataError(f"not a date (YYYY-MM-DD): {text!r}") from exc
