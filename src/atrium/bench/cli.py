"""`atrium bench ledger | api | auth | pwa`: the commands; the benchmarks are imported only when run."""

from __future__ import annotations

from pathlib import Path

import typer

bench_app = typer.Typer(help="Benchmarks: every figure is a ratio to a baseline of the same run "
                             "(see bench/README.md)", no_args_is_help=True)


def _csv(value: str | None) -> tuple[str, ...] | None:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else None


@bench_app.command("ledger")
def ledger(
    json_out: Path = typer.Option(None, "--json", help="write the results as JSON here"),
    quick: bool = typer.Option(False, "--quick", help="a short run (seconds): checks the harness"),
    seconds: float = typer.Option(None, help="measured seconds per run"),
    databases: str = typer.Option(None, help="comma list: postgresql,sqlite"),
    clients: str = typer.Option(None, help="comma list of client counts, e.g. 1,4,16"),
    pg_writers: int = typer.Option(None, help="GroupCommitter writer threads on PostgreSQL"),
    max_batch: int = typer.Option(None, help="most transfers in one group commit"),
) -> None:
    """Transfers through the payments service (direct and group-committed) vs pgbench / raw sqlite3."""
    from atrium.bench import ledger as bench
    from atrium.bench.report import Reporter, ledger_table, print_summary, wide_console, write_json

    overrides: dict = {}
    if seconds:
        overrides["seconds"] = seconds
    if databases:
        overrides["databases"] = _csv(databases)
    if clients:
        overrides["clients"] = tuple(int(c) for c in _csv(clients) or ())
    if pg_writers:
        overrides["pg_writers"] = pg_writers
    if max_batch:
        overrides["max_batch"] = max_batch
    cfg = bench.LedgerBenchConfig.quick(**overrides) if quick else bench.LedgerBenchConfig(**overrides)
    console = wide_console()
    with Reporter() as reporter:
        doc = bench.run(cfg, reporter)
    console.print(ledger_table(doc))
    print_summary(console, doc)
    if json_out:
        write_json(doc, json_out)
        console.print(f"wrote {json_out}")
    if any(not m.get("ledger_check_ok", True) for m in doc["databases"].values()):
        raise typer.Exit(1)


@bench_app.command("api")
def api(
    json_out: Path = typer.Option(None, "--json", help="write the results as JSON here"),
    quick: bool = typer.Option(False, "--quick", help="a short run (seconds): checks the harness"),
    seconds: float = typer.Option(None, help="measured seconds per endpoint"),
    connections: int = typer.Option(None, help="concurrent connections (default 64)"),
    database_url: str = typer.Option(None, help="bench database (default: the PostgreSQL bench server, "
                                                 "else SQLite)"),
    generator: str = typer.Option(None, help="raw (minimal HTTP/1.1 client, default) or httpx"),
) -> None:
    """The real server (uvicorn, one worker): a transfer and the home page vs a trivial JSON endpoint."""
    from atrium.bench import api as bench
    from atrium.bench.report import Reporter, api_table, wide_console, write_json

    overrides: dict = {}
    if seconds:
        overrides["seconds"] = seconds
    if connections:
        overrides["connections"] = connections
    if database_url:
        overrides["database_url"] = database_url
    if generator:
        if generator not in ("raw", "httpx"):
            raise typer.BadParameter("generator is raw or httpx")
        overrides["generator"] = generator
    cfg = bench.ApiBenchConfig.quick(**overrides) if quick else bench.ApiBenchConfig(**overrides)
    console = wide_console()
    with Reporter() as reporter:
        doc = bench.run(cfg, reporter)
    console.print(api_table(doc))
    checks = doc["checks"]
    style = "green" if checks["answered_implies_committed"] and checks["ledger_check_ok"] else "bold red"
    found, answered = checks["transfers_found_committed"], checks["transfers_answered_201"]
    console.print(f"[{style}]{found}/{answered} answered transfers found committed; "
                  f"ledger check: {checks['ledger_check']}[/]")
    if json_out:
        write_json(doc, json_out)
        console.print(f"wrote {json_out}")
    if not (checks["answered_implies_committed"] and checks["ledger_check_ok"]):
        raise typer.Exit(1)


@bench_app.command("pwa")
def pwa(
    json_out: Path = typer.Option(None, "--json", help="write the results as JSON here"),
    quick: bool = typer.Option(False, "--quick", help="one run on a tiny population: checks the harness"),
    runs: int = typer.Option(None, help="cold and warm loads per page (default 5)"),
    customers: int = typer.Option(None, help="bench customers in the database (default 50)"),
    locale: str = typer.Option(None, help="zh (default) or en"),
    database_url: str = typer.Option(None, help="bench database, emptied (default: var/bench/bench-pwa.db)"),
    chromium: str = typer.Option(None, help="the Chromium binary (default /usr/bin/chromium)"),
    latency_ms: float = typer.Option(None, help="added to every request (default 150, Lighthouse's Slow 4G "
                                                 "RTT; its DevTools-throttling preset uses 562.5)"),
) -> None:
    """The signed-in home page on a throttled mid-range phone in Chromium (LCP, FCP, bytes, requests),
    cold and warm, vs the offline page."""
    from atrium.bench import pwa as bench
    from atrium.bench.pwa_report import budget_lines, pwa_table
    from atrium.bench.report import Reporter, wide_console, write_json

    overrides: dict = {}
    if runs:
        overrides["runs"] = runs
    if customers:
        overrides["customers"] = customers
    if locale:
        if locale not in ("zh", "en"):
            raise typer.BadParameter("locale is zh or en")
        overrides["locale"] = locale
    if database_url:
        overrides["database_url"] = database_url
    if chromium:
        overrides["chromium"] = chromium
    if latency_ms is not None:
        overrides["latency_ms"] = latency_ms
    cfg = bench.PwaBenchConfig.quick(**overrides) if quick else bench.PwaBenchConfig(**overrides)
    console = wide_console()
    with Reporter() as reporter:
        doc = bench.run(cfg, reporter)
    console.print(pwa_table(doc))
    for ok, line in budget_lines(doc):
        console.print(f"[{'green' if ok else 'bold yellow'}]{line}[/]")
    if json_out:
        write_json(doc, json_out)
        console.print(f"wrote {json_out}")
    checks = doc["checks"]
    if not (checks["all_loads_200"] and checks["warm_loads_controlled_by_worker"]):
        raise typer.Exit(1)  # a broken page or worker, not a slow one: budgets never fail the run


@bench_app.command("auth")
def auth(
    json_out: Path = typer.Option(None, "--json", help="write the results as JSON here"),
    quick: bool = typer.Option(False, "--quick", help="a short run (seconds): checks the harness"),
    seconds: float = typer.Option(None, help="measured seconds per flow and concurrency"),
    concurrency: str = typer.Option(None, help="comma list of connection counts (default 16,64)"),
    databases: str = typer.Option(None, help="comma list: sqlite (default), postgresql"),
    database_url: str = typer.Option(None, help="one bench database instead of --databases (it is emptied)"),
    flows: str = typer.Option(None, help="comma list: trivial,sign-in,two-step,refresh"),
    no_argon2: bool = typer.Option(False, "--no-argon2", help="skip the argon2id parameter sets"),
) -> None:
    """Sign-ins (trusted device; password + SMS code) and refresh-token rotations vs a trivial endpoint."""
    from atrium.bench import auth as bench
    from atrium.bench.auth_report import argon2_table, auth_table
    from atrium.bench.report import Reporter, print_summary, wide_console, write_json

    overrides: dict = {}
    if seconds:
        overrides["seconds"] = seconds
    if concurrency:
        overrides["concurrency"] = tuple(int(c) for c in _csv(concurrency) or ())
    if databases:
        overrides["databases"] = _csv(databases)
    if database_url:
        overrides["database_url"] = database_url
    if flows:
        overrides["flows"] = _csv(flows)
        if "trivial" not in overrides["flows"]:
            overrides["flows"] = ("trivial", *overrides["flows"])  # every figure is a ratio to it
    if no_argon2:
        overrides["argon2"] = False
    cfg = bench.AuthBenchConfig.quick(**overrides) if quick else bench.AuthBenchConfig(**overrides)
    console = wide_console()
    with Reporter() as reporter:
        doc = bench.run(cfg, reporter)
    console.print(auth_table(doc))
    if doc["argon2"]:
        console.print(argon2_table(doc))
    print_summary(console, doc)
    if json_out:
        write_json(doc, json_out)
        console.print(f"wrote {json_out}")
    if any(r["errors"] for r in doc["results"]):
        raise typer.Exit(1)


@bench_app.command("risk-ab")
def risk_ab(
    a: str = typer.Option(..., "--a", help="variant A, name:KEY=VALUE,… (the server's extra environment)"),
    b: str = typer.Option(..., "--b", help="variant B, e.g. decider:ATRIUM_RISK_API__DECIDER=true"),
    json_out: Path = typer.Option(None, "--json", help="write the results as JSON here"),
    rounds: int = typer.Option(6, min=1, help="bursts per variant, alternating A-B, B-A, …"),
    seconds: float = typer.Option(4.0, min=0.5, help="measured seconds per burst"),
    workers: int = typer.Option(2, min=1, help="worker processes per server"),
    connections: int = typer.Option(64, min=1, help="concurrent connections per server"),
    database: str = typer.Option("sqlite", help="sqlite or postgresql (a database per variant)"),
    warm_rows: int = typer.Option(30_000, min=0, help="untimed decisions per server before the rounds"),
    data: Path = typer.Option(None, help="the handbook's transactions (default: ../shared/data)"),
) -> None:
    """Two variants of the decision API's server at once, in alternating bursts: the median ratio B ÷ A
    over the rounds compares them on a machine whose speed drifts."""
    from atrium.bench import risk_ab as bench
    from atrium.bench.report import Reporter, write_json

    try:
        variants = bench.Variant.parse(a), bench.Variant.parse(b)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    extra = {"data": data} if data else {}
    cfg = bench.RiskAbConfig(*variants, rounds=rounds, seconds=seconds, workers=workers,
                             connections=connections, database=database, warm_rows=warm_rows, **extra)
    with Reporter() as reporter:
        doc = bench.run(cfg, reporter)
    for row in doc["rounds"]:
        typer.echo(f"round {row['round']}: " + ", ".join(
            f"{name} {row[name]['decisions_per_s']:,.0f}/s p99 {row[name]['p99_ms']} ms"
            for name in row["order"]))
    for name, s in doc["summary"].items():
        typer.echo(f"{name}: median {s['median_decisions_per_s']:,.0f}/s, "
                   f"median p99 {s['median_p99_ms']} ms, {s['fallbacks']} fail-policy answers")
    ratio = doc["ratio_b_to_a"]
    typer.echo(f"{cfg.b.name} ÷ {cfg.a.name}: median {ratio['median']} (per round {ratio['per_round']}); "
               f"answered = logged: {doc['all_answered_logged']}")
    if json_out:
        write_json(doc, json_out)


@bench_app.command("risk-decider")
def risk_decider(
    json_out: Path = typer.Option(None, "--json", help="write the results as JSON here, e.g. "
                                                       "bench/results/risk-decider.json"),
    rounds: int = typer.Option(5, min=1, help="bursts per side, alternating chain and decider"),
    decisions: int = typer.Option(4_000, min=32, help="decisions per side and round"),
    warm_rows: int = typer.Option(10_000, min=0, help="untimed decisions per side first"),
    in_flight: int = typer.Option(64, min=1, help="requests outstanding at the decider"),
    decider_env: str = typer.Option("", help="the decider's extra environment, KEY=VALUE,… (e.g. "
                                             "PYTHONPATH=/tmp/old/src: another checkout's decider)"),
    data: Path = typer.Option(None, help="the handbook's transactions (default: ../shared/data)"),
) -> None:
    """The decider process's CPU per decision against the decision chain it runs, in this process (SQLite,
    no HTTP): what the process boundary costs."""
    from atrium.bench import risk_decider as bench
    from atrium.bench.report import Reporter, write_json
    from atrium.bench.risk_ab import Variant

    try:
        env = Variant.parse(f"decider:{decider_env}").env
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    extra = {"data": data} if data else {}
    cfg = bench.RiskDeciderConfig(rounds=rounds, decisions=decisions, warm_rows=warm_rows,
                                  in_flight=in_flight, decider_env=env, **extra)
    with Reporter() as reporter:
        doc = bench.run(cfg, reporter)
    for row in doc["rounds"]:
        typer.echo(f"round {row['round']}: chain {row['chain_cpu_us']:.0f} µs/decision, decider "
                   f"{row['decider_cpu_us']:.0f} µs ({row['decider_decisions_per_s']:,.0f}/s at "
                   f"{row['decider_cores']} cores), client {row['client_cpu_us']:.0f} µs: ×{row['ratio']}")
    s = doc["summary"]
    typer.echo(f"median: chain {s['chain_cpu_us']:.0f} µs, decider {s['decider_cpu_us']:.0f} µs "
               f"(×{s['ratio']}), {s['decider_decisions_per_s']:,.0f} decisions/s; "
               f"answered = logged: {doc['all_answered_logged']}")
    if json_out:
        write_json(doc, json_out)


@bench_app.command("risk")
def risk(
    json_out: Path = typer.Option(None, "--json", help="write the results as JSON here, e.g. "
                                                       "bench/results/risk-api-YYYY-MM-DD.json"),
    quick: bool = typer.Option(False, "--quick", help="a short run (seconds): checks the harness"),
    seconds: float = typer.Option(None, help="measured seconds per endpoint"),
    connections: int = typer.Option(None, help="concurrent connections (default 64)"),
    workers: str = typer.Option(None, help="comma list of uvicorn worker counts (default 1,2)"),
    databases: str = typer.Option(None, help="comma list: sqlite,postgresql (default both)"),
    configs: str = typer.Option(None, help="comma list: strict,tuned (default both)"),
    database_url: str = typer.Option(None, help="one bench database instead of --databases (it is emptied)"),
    app: str = typer.Option(None, help="the ASGI app uvicorn serves (default atrium.asgi:app)"),
    data: Path = typer.Option(None, help="the handbook's transactions for the traffic's cards, terminals "
                                         "and amounts (default ../shared/data/fraud-handbook)"),
    warm_rows: int = typer.Option(None, help="untimed decisions before measuring (default 30000)"),
) -> None:
    """Card authorisations through the HTTP decision API vs the same server's trivial endpoint, with every
    answered decision checked in the decision log."""
    from atrium.bench import risk_api as bench
    from atrium.bench.report import Reporter, print_summary, wide_console, write_json
    from atrium.bench.risk_api_report import check_lines, risk_table

    overrides: dict = {}
    if seconds:
        overrides["seconds"] = seconds
    if connections:
        overrides["connections"] = connections
    if workers:
        overrides["workers"] = tuple(int(w) for w in _csv(workers) or ())
    if databases:
        overrides["databases"] = _csv(databases)
    if configs:
        unknown = set(_csv(configs) or ()) - set(bench.CONFIGS)
        if unknown:
            raise typer.BadParameter(f"configs are {', '.join(bench.CONFIGS)}")
        overrides["configs"] = _csv(configs)
    if database_url:
        overrides["database_url"] = database_url
    if app:
        overrides["app"] = app
    if data:
        overrides["data"] = data
    if warm_rows is not None:
        overrides["warm_rows"] = warm_rows
    cfg = bench.RiskApiBenchConfig.quick(**overrides) if quick else bench.RiskApiBenchConfig(**overrides)
    console = wide_console()
    with Reporter() as reporter:
        doc = bench.run(cfg, reporter)
    console.print(risk_table(doc))
    for ok, line in check_lines(doc):
        console.print(f"[{'green' if ok else 'bold red'}]{line}[/]")
    print_summary(console, doc)
    if json_out:
        write_json(doc, json_out)
        console.print(f"wrote {json_out}")
    if not doc["all_answered_logged"] or any(r["errors"] for r in doc["results"]):
        raise typer.Exit(1)
