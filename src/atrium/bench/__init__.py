"""Atrium's benchmarks (see bench/README.md and BENCHMARKS.md): every speed figure is a ratio against a
baseline measured in the same run, on the same machine and database.

- `ledger`: transfers through the payments service, direct and group-committed, vs pgbench / raw sqlite3;
- `api`: the real server under 64 connections, a transfer vs a trivial JSON endpoint.
"""
