"""Serving with several worker processes, each listening on a socket of its own (SO_REUSEPORT).

uvicorn's `--workers` shares one listening socket among its workers, and asyncio accepts every pending
connection on each wake-up: a burst of keep-alive connections — a load balancer's pool, a card network
gateway's — lands on whichever worker woke first, and the others idle. Measured with `atrium bench risk`
(64 connections, `--workers 2`): one process at 100 % CPU, the other at 8 %, and no more decisions a second
than one worker. Here each worker binds the port itself with SO_REUSEPORT, so the kernel spreads new
connections over the workers by a hash of their addresses.

The parent only supervises: it starts the workers, passes SIGINT/SIGTERM on (each worker then shuts down
gracefully: lifespan shutdown, so the decision log commits what it was given), and if one worker dies it
stops the others and exits with that worker's code. Without SO_REUSEPORT (not Linux or BSD), or with one
worker, it is plain `uvicorn.run`.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from typing import Any

import uvicorn

from atrium.config import get_settings

BACKLOG = 2048
DECIDER_START_S = 60.0
DECIDER_ENV = "ATRIUM_RISK_API__DECIDER_SOCKET"


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    return sock


def _worker(app: str, host: str, port: int, options: dict[str, Any]) -> None:
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **options))
    server.run(sockets=[_listen(host, port)])


def _decider(path: str) -> None:
    from atrium.risk.endpoints import decider_process

    decider_process.main(path)


def _start_decider(context: Any) -> tuple[Any, str]:
    """The decision API's decider process (atrium.risk.endpoints.decider), listening before this returns;
    the workers find its socket in their environment."""
    folder = tempfile.mkdtemp(prefix="atrium-")  # 0700: only this user reaches the socket
    path = os.path.join(folder, "risk-decider.sock")
    process = context.Process(target=_decider, args=(path,), name="atrium-risk-decider")
    process.start()
    deadline = time.monotonic() + DECIDER_START_S
    try:
        while not os.path.exists(path):
            if not process.is_alive() or time.monotonic() > deadline:
                raise SystemExit(f"the risk decider did not start (exit code {process.exitcode})")
            time.sleep(0.05)
    except BaseException:  # it did not start, or Ctrl-C meanwhile: leave no process (it ignores SIGINT)
        if process.is_alive():
            process.terminate()
        process.join(10)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    os.environ[DECIDER_ENV] = path
    return process, folder


def run(app: str, *, host: str, port: int, workers: int, **options: Any) -> None:
    """Serve `app` ("module:attribute") on host:port with `workers` processes; `options` go to
    uvicorn.Config (log_level, access_log, proxy_headers, …)."""
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(app, host=host, port=port, workers=workers, **options)
        return
    _listen(host, port).close()  # fail here, once, if the port is taken
    context = multiprocessing.get_context("spawn")
    decider, folder = (_start_decider(context) if get_settings().risk_api.decider
                       and not get_settings().risk_api.decider_socket else (None, None))
    processes = [context.Process(target=_worker, args=(app, host, port, options), name=f"atrium-worker-{i}")
                 for i in range(workers)]
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        # SIGTERM for either signal: a worker already interrupted from the terminal (Ctrl-C reaches the
        # whole process group) takes a second SIGINT as "force exit" and would skip its shutdown.
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.start()
    code = 0
    while any(p.is_alive() for p in processes):
        for process in processes:
            process.join(0.5)
            if not process.is_alive() and process.exitcode and not stopping:
                code = process.exitcode  # a worker died: stop the others, report it
                stop(signal.SIGTERM, None)
        if decider is not None and not decider.is_alive() and not stopping:
            code = decider.exitcode or 1  # the decider died: stop the workers, report it
            stop(signal.SIGTERM, None)
    if decider is not None:  # last: the workers' graceful shutdown may still have sent it decisions
        if decider.is_alive() and decider.pid is not None:
            os.kill(decider.pid, signal.SIGTERM)
        decider.join()
        shutil.rmtree(folder, ignore_errors=True)
    sys.exit(code)
