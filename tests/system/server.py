"""A real Atrium server in a subprocess (uvicorn on loopback), to kill with SIGKILL and start again.

`python -m uvicorn …` without `--workers` or `--reload` serves in the process it starts, so the pid of the
`Popen` is the server itself: SIGKILL hits it, not a supervisor that would survive. The output goes to a
log file under the test's tmp dir, read back into a failure message.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
APP = "tests.system.probe_server:app"
PROBE = "system.crash_probe"  # the consumer probe_server.py registers in the server process


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(
    database_url: str, *, nats_url: str | None, stream: str, subject_prefix: str
) -> dict[str, str]:
    """The environment of the server: this one without any ATRIUM_ setting of the test run, plus ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATRIUM_")}
    env.update(
        ATRIUM_ENV="test",
        ATRIUM_DATABASE_URL=database_url,
        ATRIUM_LOG_LEVEL="WARNING",
        ATRIUM_EVENTS__RELAY_INTERVAL_S="0.2",
        # What the killed server had fetched comes back after the ack wait: 5 s, not production's 30 s, so
        # the crash test waits for it five times less (the handlers here take milliseconds).
        ATRIUM_EVENTS__ACK_WAIT_S="5",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
    )
    # These tests are about durability, not about the anti-fraud budget: a server saturated on purpose
    # would answer timed-out decisions with the fail policy (a challenge) instead of paying.
    if "ATRIUM_RISK__POLICIES" in os.environ:
        env["ATRIUM_RISK__POLICIES"] = os.environ["ATRIUM_RISK__POLICIES"]
    if nats_url:
        env.update(ATRIUM_NATS_URL=nats_url, ATRIUM_EVENTS__STREAM=stream,
                   ATRIUM_EVENTS__SUBJECT_PREFIX=subject_prefix)
    return env


class ServerProcess:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def start(self, timeout_s: float = 90.0) -> None:
        """Start on a fresh loopback port and wait until /api/v1/health answers."""
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [sys.executable, "-m", "uvicorn", APP, "--host", "127.0.0.1", "--port", str(port),
                 "--no-access-log", "--log-level", "warning", "--timeout-graceful-shutdown", "10"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"the server did not answer within {timeout_s:.0f}s:\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> int | None:
        """SIGKILL the server process and reap it; returns its exit status (-9)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(30)

    def stop(self) -> int | None:
        """A graceful stop (SIGTERM: the relay drains, NATS consumers ack), SIGKILL past 30 s."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            return self.kill()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return "(no log)"
