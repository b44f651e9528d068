"""The server under test for `atrium bench risk`: `atrium serve` with N workers (each with its own listening
socket: atrium.serving) in a subprocess on loopback."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from atrium.bench.http1 import Http1Connection


class RiskServer:
    """`atrium serve --workers N` in a subprocess on a loopback port, with extra environment."""

    def __init__(self, app: str, database_url: str, workers: int, env: dict[str, str], port: int,
                 log_path: Path) -> None:
        self.port = port
        # The variant's environment wins (a variant may raise the log level, say).
        full_env = {**os.environ, "ATRIUM_DATABASE_URL": database_url, "ATRIUM_LOG_LEVEL": "WARNING",
                    "ATRIUM_ENV": "development", **env}
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "atrium.cli", "serve", "--app", app, "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers), "--no-access-log"],
            env=full_env, stdout=self._log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 90.0) -> None:
        async def probe() -> bool:
            conn = Http1Connection("127.0.0.1", self.port)
            try:
                return (await conn.request("GET", "/api/v1/health")).status_code == 200
            except OSError:
                return False
            finally:
                await conn.close()

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}; see {self._log.name}")
            if asyncio.run(probe()):
                return
            time.sleep(0.05)
        raise RuntimeError("the server did not answer /api/v1/health in time")

    def cpu_seconds(self) -> float:
        """utime + stime of the server and all its processes — workers, the decider, its log writer (Linux
        /proc)."""
        return sum(process_cpu_seconds(pid) for pid in (self.proc.pid, *_descendants(self.proc.pid)))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._log.close()


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (Linux /proc); 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _descendants(pid: int) -> list[int]:
    found, stack = [], _children(pid)
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(_children(child))
    return found
