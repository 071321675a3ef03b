"""How evenly ``fraiseql serve --workers 2`` spreads keep-alive connections: shared vs reuse-port.

Serves the example blog app (``examples.blog.app:single_tenant_app``) three ways at once, on
127.0.0.1 and free ports: ``--workers 2 --shared-socket`` (uvicorn's supervisor, one listening
socket), ``--workers 2 --reuse-port`` (a SO_REUSEPORT socket per worker) and ``--workers 1``
for reference. wrk opens 10 keep-alive connections at once (as a proxy's upstream pool would)
and sends ``post(identifier:)`` for a few seconds; the servers take turns, in an order that
rotates each round. Per run: requests/s, and each worker's CPU time over the run from
``/proc/<pid>/stat``: the busiest worker's share of the workers' CPU (50 % is even, 100 % is one
worker doing everything), and how many of the 10 connections each worker holds, one second
into the run; then 5 bursts of 10 connections opened at once by one asyncio client (httpx),
and how they landed. Medians over rounds, a ratio is the median of the per-round ratios; the
servers are stopped at the end, whatever happens.

    python -m bench.serve_workers [--rounds 4] [--duration 5] [--threads 1] [--output FILE.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.common import (
    PROJECT_ROOT,
    bench_database,
    free_port,
    log,
    machine_info,
    paired_ratio,
    process_cpu_seconds,
    write_json,
)
from bench.compare import proctree
from bench.server import queries

APP = "examples.blog.app:single_tenant_app"
MODES = {
    "shared-socket": ["--workers", "2", "--shared-socket"],
    "reuse-port": ["--workers", "2", "--reuse-port"],
    "one worker": ["--workers", "1"],
}
CONNECTIONS = 10
BURSTS = 5  # per mode and round
WRK_SCRIPT = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[{body}]==]
"""


@dataclass
class Served:
    """One ``fraiseql serve`` session: the supervisor (or the only worker) leads it."""

    mode: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def workers(self) -> list[int]:
        """The pids answering requests: the worker processes, or the single process."""
        if MODES[self.mode][1] == "1":
            return [self.process.pid]
        stats = proctree.session_stats(self.process.pid)
        return [s.pid for s in stats if s.ppid == self.process.pid and _is_worker(s.pid)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def _is_worker(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    return False


@contextlib.contextmanager
def serving(dsn: str, workdir: Path) -> Iterator[dict[str, Served]]:
    """The three servers, started one after the other and ready, stopped at the end."""
    running: dict[str, Served] = {}
    env = {**os.environ, "FRAISEQL_DATABASE_URL": dsn, "FRAISEQL_IMPL": "c"}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    try:
        for mode, options in MODES.items():
            port = free_port()
            log_path = workdir / f"{mode.replace(' ', '-')}.log"
            command = [sys.executable, "-m", "fraiseql", "serve", APP, "--port", str(port)]
            command += [*options, "--log-level", "warning"]
            with log_path.open("wb") as output:
                process = subprocess.Popen(
                    command,
                    cwd=PROJECT_ROOT,
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            served = Served(mode, process, port, log_path)
            running[mode] = served
            _wait_ready(served, int(options[1]))
        yield running
    finally:
        for served in running.values():
            served.stop()


def _wait_ready(served: Served, workers: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise SystemExit(f"{served.mode} exited:\n{served.log_path.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(served.url, json={"query": "{ __typename }"}, timeout=2)
            if len(served.workers()) == workers:
                break
        time.sleep(0.3)
    else:
        raise SystemExit(f"{served.mode} did not start in {timeout_s}s")
    while True:  # the workers import the app after the first answer: wait until they are idle
        before = sum(process_cpu_seconds(p) or 0.0 for p in served.workers())
        time.sleep(0.5)
        if sum(process_cpu_seconds(p) or 0.0 for p in served.workers()) - before < 0.02:
            return


def connections_by_worker(port: int, pids: list[int]) -> list[int]:
    """How many established connections to ``port`` each worker holds now (largest first).

    Read from ``/proc``: the sockets of ``/proc/net/tcp{,6}`` with that local port, matched by
    inode to the ``socket:[inode]`` links in each worker's ``/proc/<pid>/fd``.
    """
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    established.add(fields[9])
    counts = []
    for pid in pids:
        held = 0
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    link = os.readlink(fd)
                    held += link.startswith("socket:[") and link[8:-1] in established
        counts.append(held)
    return sorted(counts, reverse=True)


def run_wrk(
    served: Served, script: Path, duration_s: int, threads: int = 1
) -> tuple[dict[str, float], list[int]]:
    """wrk with 10 connections (opened together at its start): requests/s and errors, and the
    connections each worker holds one second into the run."""
    wrk = shutil.which("wrk")
    assert wrk is not None
    command = [wrk, f"-t{threads}", f"-c{CONNECTIONS}", f"-d{duration_s}s", "-s", str(script)]
    running = subprocess.Popen([*command, served.url], stdout=subprocess.PIPE, text=True)
    time.sleep(min(1.0, duration_s / 2))
    held = connections_by_worker(served.port, served.workers())
    stdout, _ = running.communicate(timeout=duration_s + 60)
    found = re.search(r"Requests/sec:\s+([\d.]+)", stdout)
    if running.returncode or found is None:
        raise SystemExit(f"wrk failed:\n{stdout}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", stdout)
    errors = re.search(r"Socket errors: (.*)", stdout)
    figures = {
        "rps": float(found.group(1)),
        "non_2xx": float(non_2xx.group(1)) if non_2xx else 0.0,
        "socket_errors": 0.0 if errors is None else 1.0,
    }
    return figures, held


async def burst(served: Served, query: str) -> list[int]:
    """10 keep-alive connections opened at once by one asyncio client: connections per worker."""
    clients = [httpx.AsyncClient(timeout=10) for _ in range(CONNECTIONS)]
    try:
        await asyncio.gather(*(c.post(served.url, json={"query": query}) for c in clients))
        return connections_by_worker(served.port, served.workers())
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


def measure(served: Served, script: Path, duration_s: int, threads: int) -> dict[str, Any]:
    """One wrk run against ``served``: requests/s, each worker's CPU seconds and connections."""
    pids = served.workers()
    before = {pid: process_cpu_seconds(pid) or 0.0 for pid in pids}
    figures, held = run_wrk(served, script, duration_s, threads)
    after = {pid: process_cpu_seconds(pid) or 0.0 for pid in pids}
    cpu = sorted((after[pid] - before[pid] for pid in pids), reverse=True)
    result: dict[str, Any] = dict(figures)
    result["worker_cpu_s"] = [round(c, 2) for c in cpu]
    result["busiest_share"] = cpu[0] / sum(cpu) if sum(cpu) else 1.0
    result["connections_by_worker"] = held
    return result


def check_answer(served: Served, query: str) -> None:
    """The server answers the measured query without errors."""
    answer = httpx.post(served.url, json={"query": query}, timeout=10)
    if answer.status_code != 200 or b'"errors"' in answer.content:
        raise SystemExit(f"{served.mode}: {answer.status_code} {answer.text[:300]}")


def summarize(results: list[dict[str, Any]], bursts: list[list[int]]) -> dict[str, Any]:
    """Medians and range over the rounds of one mode, and how the bursts were spread."""
    shares = [r["busiest_share"] for r in results]
    return {
        "rps_median": round(statistics.median(r["rps"] for r in results)),
        "busiest_share_median": round(statistics.median(shares), 3),
        "busiest_share_range": [round(min(shares), 3), round(max(shares), 3)],
        "wrk_busiest_connections": [r["connections_by_worker"][0] for r in results],
        "bursts_all_on_one_worker": sum(b[0] == CONNECTIONS for b in bursts),
        "bursts": bursts,
        "runs": results,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--output", type=Path, help="write the results as JSON here")
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench.serve_workers needs wrk (apt-get install wrk)")
    async with bench_database() as dsn:
        query = (await queries(dsn))["post_by_identifier"]
        machine = await machine_info(dsn)
        with tempfile.TemporaryDirectory() as directory, serving(dsn, Path(directory)) as running:
            script = Path(directory) / "post.lua"
            body = orjson.dumps({"query": query}).decode()
            script.write_text(WRK_SCRIPT.format(body=body))
            for served in running.values():
                check_answer(served, query)
                run_wrk(served, script, 1)  # warm-up
            modes = list(running)
            runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
            bursts: dict[str, list[list[int]]] = {mode: [] for mode in modes}
            for index in range(arguments.rounds):
                order = modes[index % len(modes) :] + modes[: index % len(modes)]
                for mode in order:
                    run = measure(running[mode], script, arguments.duration, arguments.threads)
                    runs[mode].append(run)
                    log(f"round {index + 1} {mode}: {run}")
                    for _ in range(BURSTS):
                        bursts[mode].append(await burst(running[mode], query))
                        await asyncio.sleep(0.2)
                    log(f"round {index + 1} {mode} bursts: {bursts[mode][-BURSTS:]}")
    summary = {mode: summarize(runs[mode], bursts[mode]) for mode in runs}
    ratio = paired_ratio(
        [r["rps"] for r in runs["reuse-port"]], [r["rps"] for r in runs["shared-socket"]]
    )
    print(f"{'mode':<14} {'req/s':>6} {'busiest CPU share':>22} {'wrk conns':>16} {'bursts':>8}")
    for mode, figures in summary.items():
        low, high = figures["busiest_share_range"]
        share = f"{figures['busiest_share_median']:.0%} ({low:.0%} to {high:.0%})"
        held = ",".join(str(n) for n in figures["wrk_busiest_connections"])
        alone = f"{figures['bursts_all_on_one_worker']}/{len(figures['bursts'])}"
        print(f"{mode:<14} {figures['rps_median']:>6} {share:>22} {held:>16} {alone:>8}")
    print(f"req/s reuse-port / shared-socket, median of the per-round ratios: {ratio:.2f}")
    if arguments.output:
        write_json(
            arguments.output,
            {
                "machine": {**machine, "load_average_at_end": os.getloadavg()},
                "connections": CONNECTIONS,
                "duration_s": arguments.duration,
                "wrk_threads": arguments.threads,
                "rounds": arguments.rounds,
                "query": "post_by_identifier",
                "rps_ratio_reuse_port_to_shared_socket": round(ratio, 3),
                "results": summary,
            },
        )


if __name__ == "__main__":
    asyncio.run(main())
