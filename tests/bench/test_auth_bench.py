"""`atrium bench auth` at tiny sizes against the real server: every flow completes without an error, the
figures are ratios to the same run's trivial endpoint, and the server hashed passwords with its production
argon2 parameters (not the cheap hasher this test process uses). Not a performance test."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from atrium.bench import auth_argon2
from atrium.bench.auth import AuthBenchConfig
from atrium.bench.auth import run as run_auth
from atrium.bench.auth_client import DeviceKey, source_address
from atrium.bench.auth_report import argon2_table, auth_table
from atrium.bench.report import Reporter, write_json


def test_device_key_signs_as_webcrypto_does() -> None:
    from atrium.identity.devices import signing

    key = DeviceKey.generate()
    signature = key.sign("nonce-1")
    assert signing.verify(key.public_key, b"nonce-1", signature)
    assert not signing.verify(key.public_key, b"nonce-2", signature)
    assert source_address(0) == "127.0.10.1" and source_address(250) == "127.0.11.1"


def test_argon2_parameters_are_read_from_the_hash() -> None:
    from argon2 import PasswordHasher

    encoded = PasswordHasher(time_cost=2, memory_cost=8 * 1024, parallelism=1).hash("x")
    ps = auth_argon2.from_hash(encoded)
    assert (ps.time_cost, ps.memory_kib, ps.parallelism) == (2, 8 * 1024, 1)
    row = auth_argon2.measure(ps, repeats=1, seconds=0.2, threads=2)
    assert row["memory_mib"] == 8 and row["verify_ms"] > 0 and row["verifies_per_s"] > 0


def _smoke(tmp_path: Path, **overrides: object) -> dict:  # type: ignore[type-arg]
    cfg = AuthBenchConfig.quick(var_dir=tmp_path, **overrides)
    with Reporter(quiet=True) as reporter:
        return run_auth(cfg, reporter)


def _check_rows(doc: dict, backend: str) -> None:  # type: ignore[type-arg]
    rows = {r["flow"]: r for r in doc["results"] if r["database"] == backend}
    assert set(rows) == {"trivial", "sign-in", "two-step", "refresh"}
    for r in rows.values():
        assert r["errors"] == 0, r["first_error"]
        assert r["ok"] > 0 and r["req_per_s"] > 0 and r["concurrency"] == 2
        assert r["p50_ms"] <= r["p99_ms"]
    assert rows["trivial"]["ratio_to_trivial"] == 1.0
    assert rows["sign-in"]["ratio_to_trivial"] == pytest.approx(
        rows["sign-in"]["req_per_s"] / rows["trivial"]["req_per_s"], abs=1e-4)
    # Every sign-in verifies an argon2id hash with the server's real parameters: never near the trivial rate.
    assert rows["sign-in"]["req_per_s"] < rows["trivial"]["req_per_s"] / 5
    meta = doc["databases"][backend]
    # The hash the server wrote: argon2id at production strength (this test process hashes with 1 MiB).
    shape = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)", meta["server_password_hash"])
    assert shape is not None, meta["server_password_hash"]
    assert int(shape[1]) >= 19 * 1024 and int(shape[2]) >= 2  # at least OWASP's minimum
    assert 0 < meta["two_step_customers_used"][0] <= meta["two_step_customers_per_level"]


@pytest.mark.database_independent
def test_auth_bench_smoke_on_sqlite(tmp_path: Path) -> None:
    doc = _smoke(tmp_path, concurrency=(2,), seconds=1.0, warmup=0.6)
    _check_rows(doc, "sqlite")
    a = doc["argon2"]
    assert a["production"]["type"] == "argon2id" and a["production"]["memory_mib"] >= 19
    assert a["parameter_sets"][0]["memory_mib"] == a["production"]["memory_mib"]
    assert [r["name"] for r in a["parameter_sets"]][0] == "production" and len(a["parameter_sets"]) >= 3
    write_json(doc, tmp_path / "auth.json")
    assert json.loads((tmp_path / "auth.json").read_text())["benchmark"] == "auth"
    assert auth_table(doc).row_count == 4
    assert argon2_table(doc).row_count == len(a["parameter_sets"])


@pytest.mark.postgres
def test_auth_bench_smoke_on_postgresql(tmp_path: Path) -> None:
    url = os.environ.get("ATRIUM_TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("needs ATRIUM_TEST_DATABASE_URL on PostgreSQL")
    doc = _smoke(tmp_path, concurrency=(2,), seconds=1.0, warmup=0.6, argon2=False,
                 database_url=url.rsplit("/", 1)[0] + "/atrium_bench_auth_smoke")
    assert doc["argon2"] is None
    _check_rows(doc, "postgresql")
