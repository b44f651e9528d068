"""`atrium serve --workers N` (atrium.serving): the workers, not the supervising parent, take a burst of
keep-alive connections, each worker some of them; the risk decider runs beside them; and a SIGTERM to the
parent stops them all cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from atrium import serving
from atrium.bench.api import free_port


async def pid_app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    """Answers every request with the pid of the worker that served it."""
    if scope["type"] == "lifespan":
        while True:
            kind = (await receive())["type"].removeprefix("lifespan.")
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    body = str(os.getpid()).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _ask(port: int, sock: socket.socket | None = None) -> tuple[socket.socket, str]:
    """Ask once on a keep-alive connection (a new one unless given); the connection stays open."""
    sock = sock or socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
    reply = b""
    while b"\r\n\r\n" not in reply or not reply.split(b"\r\n\r\n", 1)[1]:
        chunk = sock.recv(4096)
        if not chunk:
            break
        reply += chunk
    return sock, reply.split(b"\r\n\r\n", 1)[1].decode()


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="SO_REUSEPORT is Linux's and the BSDs'")
def test_every_worker_takes_connections_and_sigterm_stops_them_all() -> None:
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "atrium.cli", "serve", "--app", "tests.test_serving:pid_app", "--host",
         "127.0.0.1", "--port", str(port), "--workers", "2", "--no-access-log"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pool: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                sock, pid = _ask(port)
                sock.close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        time.sleep(1.0)  # the other worker's socket too
        # A pool's burst: 64 connections made at once, then used (and kept open).
        pool = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(64)]
        pids = {_ask(port, sock)[1] for sock in pool}
        assert len(pids) == 2  # each worker listens on its own socket and serves some of the burst
        assert server.pid not in {int(p) for p in pids}  # the parent only supervises
        children = _children(server.pid)
        assert {int(p) for p in pids} < children and len(children) == 3  # the workers and the decider
    finally:
        for sock in pool:
            sock.close()
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def _children(pid: int) -> set[int]:
    """The processes `pid` started as its workers (Linux /proc), not multiprocessing's resource tracker."""
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        pids = {int(p) for p in f.read().split()}
    return {p for p in pids if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()}


class _Stuck:
    """A decider process that never opens its socket."""

    exitcode = None

    def __init__(self, **_kwargs: object) -> None:
        self.alive, self.terminated = False, False

    def start(self) -> None:
        self.alive = True

    def is_alive(self) -> bool:
        return self.alive

    def terminate(self) -> None:
        self.alive, self.terminated = False, True

    def join(self, _timeout: float | None = None) -> None:
        pass


def test_a_decider_that_does_not_start_is_stopped_and_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[_Stuck] = []
    folders: list[str] = []

    class Context:
        def Process(self, **kwargs: object) -> _Stuck:  # noqa: N802 - multiprocessing's name
            started.append(_Stuck(**kwargs))
            return started[-1]

    real_mkdtemp = serving.tempfile.mkdtemp
    def mkdtemp(**kwargs: str) -> str:
        folders.append(real_mkdtemp(**kwargs))
        return folders[-1]

    monkeypatch.setattr(serving.tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setattr(serving, "DECIDER_START_S", 0.2)
    with pytest.raises(SystemExit, match="did not start"):
        serving._start_decider(Context())
    assert started[0].terminated and not Path(folders[0]).exists()
