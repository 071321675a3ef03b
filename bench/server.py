"""End-to-end requests per second of the example server, with the C core vs the Python builder.

Starts the example blog app (``examples.blog.app:single_tenant_app``: no tenant role or claims)
twice under uvicorn, one worker each, on 127.0.0.1 and free ports: one with
``FRAISEQL_IMPL=c``, one with ``FRAISEQL_IMPL=python``. For each query and concurrency level,
a load generator in its own process (``wrk`` when it is installed, else ``bench.loadgen``)
drives the two servers in turn, C and Python alternating
(C, Py, then Py, C, ...) for a few rounds. Reported per case: requests/s of each side (median
over rounds), the C/Python ratio (median of the per-round ratios), latency percentiles and the
server process's CPU time per request (from /proc), a steadier measure than requests/s on a
busy machine. Both servers are stopped at the end, whatever happens.

    python -m bench.server [--quick] [--output FILE.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import (
    NESTED_FIELDS,
    PROJECT_ROOT,
    bench_database,
    free_port,
    list_query,
    log,
    machine_info,
    paired_ratio,
    write_json,
)

SETTINGS = {
    "full": {"duration_s": 3.0, "warmup_s": 2.0, "rounds": 5, "connections": [1, 16]},
    "quick": {"duration_s": 1.0, "warmup_s": 0.5, "rounds": 1, "connections": [1, 16]},
}
IMPLEMENTATIONS = ("c", "python")


async def queries(dsn: str) -> dict[str, str]:
    """The measured queries; the single post is a published one (it has comments)."""
    connection = await asyncpg.connect(dsn)
    try:
        identifier = await connection.fetchval(
            "SELECT identifier FROM tv_post WHERE data ->> 'status' = 'published' "
            "AND jsonb_array_length(data -> 'comments') > 0 ORDER BY identifier LIMIT 1"
        )
    finally:
        await connection.close()
    return {
        "post_by_identifier": f'{{ post(identifier: "{identifier}") {{ {NESTED_FIELDS} }} }}',
        "list20_with_author": (
            "{ posts(limit: 20, orderBy: [{identifier: ASC}]) { id title author { id name } } }"
        ),
        "list100_nested": list_query("nested", 100),
    }


# --- the servers ---------------------------------------------------------------------------------


class Server:
    """One uvicorn process serving the example app with one implementation of the builder."""

    def __init__(self, implementation: str, dsn: str, workdir: Path) -> None:
        self.implementation = implementation
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.log_path = workdir / f"uvicorn-{implementation}.log"
        env = {
            **os.environ,
            "FRAISEQL_IMPL": implementation,
            "FRAISEQL_DATABASE_URL": dsn,
        }
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "examples.blog.app:single_tenant_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        with self.log_path.open("wb") as output:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"the {self.implementation} server exited:\n{self.log_path.read_text()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                response = httpx.post(self.url, json={"query": "{ __typename }"}, timeout=2)
                if response.status_code == 200:
                    return
            time.sleep(0.2)
        raise SystemExit(
            f"the {self.implementation} server did not start in {timeout_s}s:\n"
            + self.log_path.read_text()
        )

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

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
def servers(dsn: str, workdir: Path) -> Iterator[dict[str, Server]]:
    started: dict[str, Server] = {}
    try:
        for implementation in IMPLEMENTATIONS:
            started[implementation] = Server(implementation, dsn, workdir)
        for server in started.values():
            server.wait_ready()
        yield started
    finally:
        for server in started.values():
            server.stop()


# --- the load ------------------------------------------------------------------------------------

WRK_SCRIPT = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[{body}]==]
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


class LoadGenerator:
    """wrk when installed (the numbers then come from its Lua ``done`` hook), else bench.loadgen."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.wrk = shutil.which("wrk")
        self.name = "wrk" if self.wrk else "bench.loadgen (httpx)"

    def body_file(self, name: str, body: bytes) -> Path:
        if self.wrk:
            path = self.workdir / f"{name}.lua"
            path.write_text(WRK_SCRIPT.format(body=body.decode()))
        else:
            path = self.workdir / f"{name}.json"
            path.write_bytes(body)
        return path

    def run(self, url: str, script: Path, connections: int, duration_s: float) -> dict[str, Any]:
        if self.wrk:
            command = [
                self.wrk,
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(duration_s))}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                url,
            ]
        else:
            command = [
                sys.executable,
                "-m",
                "bench.loadgen",
                url,
                str(script),
                "--connections",
                str(connections),
                "--duration",
                str(duration_s),
            ]
        done = subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=duration_s + 60,
            check=True,
        )
        if self.wrk:
            line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
            requests, micros, non_2xx, errors, p50, p99 = (int(x) for x in line.split()[1:])
            return {
                "requests": requests,
                "duration_s": micros / 1e6,
                "non_2xx": non_2xx,
                "errors": errors,
                "latency_p50_ms": p50 / 1e3,
                "latency_p99_ms": p99 / 1e3,
            }
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --- the benchmark -------------------------------------------------------------------------------


def check_responses(running: dict[str, Server], bodies: dict[str, bytes]) -> dict[str, int]:
    """Both servers answer each query with the same bytes, and without errors."""
    sizes = {}
    for name, body in bodies.items():
        answers = {
            impl: httpx.post(
                server.url, content=body, headers={"Content-Type": "application/json"}, timeout=30
            )
            for impl, server in running.items()
        }
        for impl, answer in answers.items():
            if answer.status_code != 200 or b'"errors"' in answer.content[:20]:
                raise SystemExit(f"{name} on {impl}: {answer.status_code} {answer.text[:500]}")
        if answers["c"].content != answers["python"].content:
            raise SystemExit(f"{name}: the C and Python servers answer differently")
        sizes[name] = len(answers["c"].content)
    return sizes


def run_servers(dsn: str, query_texts: dict[str, str], settings: dict[str, Any]) -> dict[str, Any]:
    bodies = {name: json.dumps({"query": q}).encode() for name, q in query_texts.items()}
    with tempfile.TemporaryDirectory(prefix="fraiseql-bench-") as tmp:
        workdir = Path(tmp)
        load = LoadGenerator(workdir)
        scripts = {name: load.body_file(name, body) for name, body in bodies.items()}
        planned = (
            len(bodies)
            * len(settings["connections"])
            * (settings["rounds"] * 2 * settings["duration_s"] + 2 * settings["warmup_s"])
        )
        log(f"server: load generator {load.name}, about {planned:.0f}s of load")
        with servers(dsn, workdir) as running:
            sizes = check_responses(running, bodies)
            runs: list[dict[str, Any]] = []
            for name, script in scripts.items():
                for connections in settings["connections"]:
                    for server in running.values():  # warm caches, pools, statement caches
                        load.run(server.url, script, connections, settings["warmup_s"])
                    for round_ in range(settings["rounds"]):
                        order = IMPLEMENTATIONS if round_ % 2 == 0 else IMPLEMENTATIONS[::-1]
                        for impl in order:
                            server = running[impl]
                            cpu_before = server.cpu_seconds()
                            result = load.run(
                                server.url, script, connections, settings["duration_s"]
                            )
                            cpu = server.cpu_seconds() - cpu_before
                            if result["non_2xx"] or result["errors"]:
                                raise SystemExit(f"{name} on {impl}: failed requests {result}")
                            result.update(
                                query=name,
                                connections=connections,
                                round=round_,
                                implementation=impl,
                                rps=result["requests"] / result["duration_s"],
                                server_cpu_us_per_request=cpu / max(1, result["requests"]) * 1e6,
                            )
                            runs.append(result)
                            log(
                                f"server: {name} c={connections} round {round_} {impl}: "
                                f"{result['rps']:.0f} req/s"
                            )
    return {
        "load_generator": load.name,
        "settings": settings,
        "queries": query_texts,
        "response_bytes": sizes,
        "cases": summarize(runs),
        "runs": runs,
    }


def both(c: list[dict[str, Any]], py: list[dict[str, Any]], key: str) -> dict[str, float]:
    """The median of ``key`` over the rounds of each implementation."""
    return {
        "c": statistics.median(r[key] for r in c),
        "python": statistics.median(r[key] for r in py),
    }


def summarize(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cases = []
    keys = dict.fromkeys((r["query"], r["connections"]) for r in runs)
    for query, connections in keys:
        mine = [r for r in runs if r["query"] == query and r["connections"] == connections]
        by_impl = {
            impl: sorted((r for r in mine if r["implementation"] == impl), key=lambda r: r["round"])
            for impl in IMPLEMENTATIONS
        }
        c, py = by_impl["c"], by_impl["python"]

        cases.append(
            {
                "query": query,
                "connections": connections,
                "rps": both(c, py, "rps"),
                "rps_ratio_c_over_python": paired_ratio(
                    [r["rps"] for r in c], [r["rps"] for r in py]
                ),
                "latency_p50_ms": both(c, py, "latency_p50_ms"),
                "latency_p99_ms": both(c, py, "latency_p99_ms"),
                "server_cpu_us_per_request": both(c, py, "server_cpu_us_per_request"),
                "cpu_ratio_python_over_c": paired_ratio(
                    [r["server_cpu_us_per_request"] for r in py],
                    [r["server_cpu_us_per_request"] for r in c],
                ),
            }
        )
    return cases


def print_cases(result: dict[str, Any]) -> None:
    print(f"load generator: {result['load_generator']}")
    for case in result["cases"]:
        print(
            f"{case['query']:>20} c={case['connections']:<3} req/s C {case['rps']['c']:8.0f}"
            f"  Py {case['rps']['python']:8.0f}  ratio {case['rps_ratio_c_over_python']:.2f}x"
            f" | server CPU µs/req C {case['server_cpu_us_per_request']['c']:.0f}"
            f"  Py {case['server_cpu_us_per_request']['python']:.0f}"
            f"  ratio {case['cpu_ratio_python_over_c']:.2f}x",
            flush=True,
        )


async def run(dsn: str, *, quick: bool = False) -> dict[str, Any]:
    settings = SETTINGS["quick" if quick else "full"]
    query_texts = await queries(dsn)
    # Blocking on purpose: the loop has nothing else to do, and Ctrl-C or SIGTERM then reach
    # the `finally` that stops the servers at once (a worker thread could not be interrupted).
    result = run_servers(dsn, query_texts, settings)
    print_cases(result)
    return result


async def main_async(arguments: argparse.Namespace) -> dict[str, Any]:
    async with bench_database() as dsn:
        machine = await machine_info(dsn)
        server = await run(dsn, quick=arguments.quick)
    return {"machine": machine, "server": server}


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so that the servers and the database are cleaned up."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 s runs, one round (a smoke run)")
    parser.add_argument("--output", type=Path, help="write the results as JSON to this file")
    arguments = parser.parse_args(argv)
    exit_on_sigterm()
    result = asyncio.run(main_async(arguments))
    if arguments.output is not None:
        write_json(arguments.output, result)


if __name__ == "__main__":
    main()
