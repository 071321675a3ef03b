"""The response-cache benchmark: ``python -m bench.cache``.

Creates a throw-away database (``--database``, default ``fraiseql_bench_cache``, dropped and
created again, dropped at the end) on the server of ``FRAISEQL_BENCH_DATABASE_URL`` (else
``postgresql://postgres@127.0.0.1:5432/postgres``) holding the read model of
:mod:`bench.cache.model` (4 tenants of ``--rows`` items each behind RLS, an app role), then
starts four servers on 127.0.0.1, each one uvicorn process with one worker (uvloop, httptools,
no access log) and a pool of ``POOL_SIZE`` connections, all kept running for the whole run:

- ``memory``: FraiseQL with the response cache in process (``MemoryCache``);
- ``redis``: the same with ``RedisCache`` (every hit read from Redis), skipped with its reason
  when ``fraiseql.cache.redis`` is missing or no Redis answers at ``--redis-url``;
- ``uncached``: the same root field without a ``CachePolicy``, read from PostgreSQL each time;
- ``kept``: ``uncached`` with the settings kept on the pooled sessions (``keep_settings``: one
  round trip for a tenant's repeated reads instead of four);
- ``floor``: :mod:`bench.cache.floor`, a raw ASGI endpoint doing the uncached read by hand
  (BEGIN, ``set_config``, FraiseQL's own SELECT, COMMIT, projected bytes).

Every request is the same: one query (20 items), the same variables and the same
``X-Tenant-Id``, so that every request to a cached server is a hit. Before anything is timed,
every server must answer with the same bytes, and the cached ones must say
``X-FraiseQL-Cache: hit`` on the second request; during the load every answer of a cached
server is counted as a hit or not, and a point where one was not (or any answer failed) is
kept with its reason and left out of the summary.

The load: :mod:`bench.cache.load` (a lean asyncio client; ``wrk`` is used instead when it is
installed) in its own process, at each of ``--concurrency`` (default 10 and 50 connections) for
``--duration`` seconds, after one warm-up per server. ``--rounds`` rounds (default 3); in each
round, at each concurrency, the systems take turns, who goes first rotating from one point to
the next, and after each load the harness waits until the server stops using CPU. Per point:
req/s, P50/P99 latency and the server process's CPU time per request (``/proc``). A value is a
system's median over rounds; a ratio (hit/floor, hit/uncached, redis-hit/memory-hit) is the
median of the per-round ratios of req/s. Compare within one run only: the machine is shared,
and the load generator, PostgreSQL, Redis and the server share its CPUs.

Output: tables on stdout, ``bench/results/cache.json`` and ``bench/results/cache.md``
(``--output``, ``--markdown``). Every server is stopped at the end whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import ctypes.util
import datetime
import os
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import orjson

from bench.cache import model
from bench.common import (
    PROJECT_ROOT,
    RESULTS_DIR,
    free_port,
    log,
    machine_info,
    server_url,
    with_database,
    write_json,
)

SYSTEMS = ("memory", "redis", "uncached", "kept", "floor")
LABELS = {
    "memory": "FraiseQL, cache hit (MemoryCache)",
    "redis": "FraiseQL, cache hit (RedisCache)",
    "uncached": "FraiseQL, uncached",
    "kept": "FraiseQL, uncached, settings kept on the session",
    "floor": "floor (raw ASGI + asyncpg)",
}
CACHED = ("memory", "redis")
POOL_SIZE = 10
RATIOS = (
    ("hit_over_floor", "memory", "floor", "memory hit / floor"),
    ("hit_over_uncached", "memory", "uncached", "memory hit / uncached"),
    ("redis_over_memory", "redis", "memory", "redis hit / memory hit"),
    ("redis_over_floor", "redis", "floor", "redis hit / floor"),
    ("uncached_over_floor", "uncached", "floor", "uncached / floor"),
    ("kept_over_uncached", "kept", "uncached", "kept settings / uncached"),
    ("kept_over_floor", "kept", "floor", "kept settings / floor"),
)
"""The reported ratios of req/s: key, numerator, denominator, label."""
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True, slots=True)
class Settings:
    """What one run measures."""

    rounds: int = 3
    duration_s: float = 3.0
    warmup_s: float = 1.0
    concurrency: tuple[int, ...] = (10, 50)
    rows_per_tenant: int = model.ROWS_PER_TENANT
    redis_url: str = DEFAULT_REDIS_URL


class MeasurementError(Exception):
    """A system could not be started or did not answer as it must."""


# --- processes ------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In a child before exec: get SIGTERM when the driver dies, whatever kills it."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Server:
    """One system's uvicorn process, stopped whatever happens."""

    def __init__(self, system: str, dsn: str, workdir: Path, redis_prefix: str, redis_url: str):
        self.system = system
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.log_path = workdir / f"server-{system}.log"
        target = "bench.cache.floor:create" if system == "floor" else "bench.cache.app:create"
        env = {
            **os.environ,
            "BENCH_CACHE_DSN": dsn,
            "BENCH_CACHE_MODE": system,
            "BENCH_CACHE_REDIS_URL": redis_url,
            "BENCH_CACHE_REDIS_PREFIX": redis_prefix,
            "FRAISEQL_POOL_MAX_SIZE": str(POOL_SIZE),
            # queue for a connection as the floor does, instead of a 503 after 1 s at c=50
            "FRAISEQL_POOL_ACQUIRE_TIMEOUT": "30",
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        command = [
            *(sys.executable, "-m", "uvicorn", "--factory", target),
            *("--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"),
            *("--loop", "uvloop", "--http", "httptools", "--backlog", "2048"),
            *("--no-access-log", "--log-level", "warning"),
        ]
        with self.log_path.open("wb") as output:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    def output(self) -> str:
        """The end of what the server wrote."""
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Until the server answers HTTP."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise MeasurementError(f"the {self.system} server exited:\n{self.output()}")
            with contextlib.suppress(httpx.HTTPError):
                # any answer will do; not the benchmark's body, whose first answer is a miss
                httpx.post(self.url, json={"query": "{ __typename }"}, timeout=2)
                return
            time.sleep(0.2)
        raise MeasurementError(f"the {self.system} server did not start in {timeout_s:.0f}s")

    def wait_idle(self, timeout_s: float = 30.0) -> float:
        """Until the server stops using CPU (answers still in flight); the seconds waited."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            before = self.cpu_seconds()
            time.sleep(0.1)
            if self.cpu_seconds() - before < 0.005:
                break
        return time.monotonic() - started

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@contextlib.contextmanager
def servers(
    systems: Sequence[str], dsn: str, workdir: Path, redis_prefix: str, redis_url: str
) -> Iterator[dict[str, Server]]:
    """The systems' servers, started together and stopped at the end of the block."""
    started: dict[str, Server] = {}
    try:
        for system in systems:
            started[system] = Server(system, dsn, workdir, redis_prefix, redis_url)
        for server in started.values():
            server.wait_ready()
        yield started
    finally:
        for server in started.values():
            server.stop()


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so that the servers are stopped and the database dropped."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


# --- what is sent and checked ---------------------------------------------------------------------


def headers() -> dict[str, str]:
    """The headers of every benchmark request."""
    return {"Content-Type": "application/json", "X-Tenant-Id": model.TENANT}


def check_answers(running: dict[str, Server]) -> dict[str, Any]:
    """Every server answers the same bytes; the cached ones from the cache the second time."""
    answers: dict[str, bytes] = {}
    found: dict[str, Any] = {}
    for system, server in running.items():
        how = []
        for _ in range(2):
            response = httpx.post(server.url, content=model.BODY, headers=headers(), timeout=10)
            if response.status_code != 200:
                raise MeasurementError(f"{system}: HTTP {response.status_code}: {response.text}")
            how.append(response.headers.get("x-fraiseql-cache"))
        answers[system] = response.content
        expected = [None, None] if system not in CACHED else ["miss", "hit"]
        if how != expected:
            raise MeasurementError(f"{system}: X-FraiseQL-Cache said {how}, expected {expected}")
        found[system] = how
    reference = next(iter(answers.values()))
    items = orjson.loads(reference).get("data", {}).get("items")
    if not isinstance(items, list) or len(items) != model.LIMIT:
        raise MeasurementError(f"unexpected answer: {reference[:300]!r}")
    for system, body in answers.items():
        if body != reference:
            raise MeasurementError(f"{system} answers other bytes:\n{body[:300]!r}")
    return {"bytes": len(reference), "cache_headers": found}


# --- the load -------------------------------------------------------------------------------------


def load(url: str, body_file: Path, connections: int, duration_s: float) -> dict[str, Any]:
    """One run of the load generator in its own process: counts, req/s, latencies, and the
    generator's CPU time (``client_cpu_s``: near the duration, the client bounded the rate)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = _generate(url, body_file, connections, duration_s)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["client_cpu_s"] = round(
        after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 3
    )
    return result


def _generate(url: str, body_file: Path, connections: int, duration_s: float) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is not None:
        return _wrk(wrk, url, body_file, connections, duration_s)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "bench.cache.load", url, str(body_file)),
            *("--connections", str(connections), "--duration", str(duration_s)),
            *("--header", f"X-Tenant-Id: {model.TENANT}"),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=duration_s + 60,
        check=False,
        preexec_fn=_die_with_parent,
    )
    if done.returncode != 0:
        raise MeasurementError(f"the load generator failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = orjson.loads(done.stdout.strip().splitlines()[-1])
    result["generator"] = "bench.cache.load"
    return result


WRK_SCRIPT = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Tenant-Id"] = "{tenant}"
wrk.body = [==[{body}]==]
local threads = {{}}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  hits = 0
end
function response(status, headers, body)
  if headers["x-fraiseql-cache"] == "hit" or headers["X-FraiseQL-Cache"] == "hit" then
    hits = hits + 1
  end
end
function done(summary, latency, requests)
  local e = summary.errors
  local h = 0
  for _, thread in ipairs(threads) do
    h = h + thread:get("hits")
  end
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d %d\\n", summary.requests,
    summary.duration, e.status, e.connect + e.read + e.write + e.timeout, h,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""
"""wrk's script: the benchmark's request, and the answers that said ``X-FraiseQL-Cache: hit``
counted in the thread's Lua state and collected by ``done`` (``thread:get``)."""


def _wrk(wrk: str, url: str, body_file: Path, connections: int, duration_s: float) -> Any:
    """One wrk run (``-t1``, whole seconds): counts, hits, req/s, latencies (ms)."""
    script = body_file.with_suffix(".lua")
    script.write_text(WRK_SCRIPT.format(tenant=model.TENANT, body=body_file.read_text()))
    done = subprocess.run(
        [
            *(wrk, "-t1", f"-c{connections}", f"-d{max(1, round(duration_s))}s"),
            *("--timeout", "10s", "-s", str(script), url),
        ],
        capture_output=True,
        text=True,
        timeout=duration_s + 60,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    fields = (int(x) for x in line.split()[1:])
    requests, micros, non_2xx, errors, hits, p50, p90, p99, worst = fields
    return {
        "requests": requests,
        "non_2xx": non_2xx,
        "errors": errors,
        "hits": hits,
        "duration_s": micros / 1e6,
        "rps": round(requests / (micros / 1e6), 1) if micros else 0.0,
        "latency_ms": {"p50": p50 / 1e3, "p90": p90 / 1e3, "p99": p99 / 1e3, "max": worst / 1e3},
        "generator": "wrk",
    }


def measure_point(
    server: Server, body_file: Path, connections: int, duration_s: float
) -> dict[str, Any]:
    """One load of one server: what the load generator saw and the server's CPU per request."""
    cpu = server.cpu_seconds()
    result = load(server.url, body_file, connections, duration_s)
    result["server_cpu_s"] = round(server.cpu_seconds() - cpu, 3)
    result["server_cpu_us_per_request"] = (
        round(result["server_cpu_s"] / result["requests"] * 1e6, 1) if result["requests"] else None
    )
    result["idle_wait_s"] = round(server.wait_idle(), 2)
    failures = []
    if result["requests"] == 0:
        failures.append("no answer")
    if result["non_2xx"] or result["errors"]:
        failures.append(f"{result['non_2xx']} non-2xx answers, {result['errors']} socket errors")
    if (
        server.system in CACHED
        and result["hits"] is not None
        and result["hits"] != result["requests"]
    ):
        failures.append(f"only {result['hits']} of {result['requests']} answers were cache hits")
    if failures:
        result["failed"] = "; ".join(failures)
    return result


# --- the database ---------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _admin() -> Any:
    url = server_url()
    try:
        connection = await asyncpg.connect(url, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise SystemExit(f"bench: cannot connect to {url} ({exc})") from exc
    try:
        yield connection
    finally:
        await connection.close()


async def create_database(name: str, rows_per_tenant: int) -> tuple[str, int]:
    """Drop and create ``name``, load the read model; its DSN and how many rows."""
    async with _admin() as admin:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = with_database(server_url(), name)
    return dsn, await model.load(dsn, rows_per_tenant)


async def drop_database(name: str) -> None:
    """Drop ``name`` (even with connections left)."""
    async with _admin() as admin:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Redis ----------------------------------------------------------------------------------------


def redis_unavailable(url: str) -> str | None:
    """Why the Redis system cannot run (``None`` when it can)."""
    try:
        from fraiseql.cache.redis import RedisCache  # noqa: F401
    except ImportError as error:
        return f"fraiseql.cache.redis.RedisCache cannot be imported ({error})"
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 2) as s:
            s.sendall(b"PING\r\n")
            if not s.recv(64).startswith((b"+PONG", b"-NOAUTH")):
                return f"no Redis PONG at {url}"
    except OSError as error:
        return f"no Redis answers at {url} ({error})"
    return None


async def clear_redis(url: str, prefix: str) -> None:
    """Remove what the Redis server stored under ``prefix``."""
    from fraiseql.cache.redis import RedisCache

    backend = RedisCache(url=url, prefix=prefix)
    try:
        await backend.clear()
    finally:
        await backend.close()


# --- the run --------------------------------------------------------------------------------------


def summarise(points: Sequence[dict[str, Any]], concurrency: Sequence[int]) -> dict[str, Any]:
    """Per concurrency: each system's medians over its good points, and the ratios of req/s
    (median of the per-round ratios, rounds where both sides were measured)."""
    summary: dict[str, Any] = {}
    for c in concurrency:
        here = [p for p in points if p["connections"] == c and "failed" not in p["result"]]
        systems: dict[str, Any] = {}
        for name in SYSTEMS:
            mine = [p["result"] for p in here if p["system"] == name]
            if not mine:
                continue
            cpu = [r["server_cpu_us_per_request"] for r in mine if r["server_cpu_us_per_request"]]
            client = [r["client_cpu_s"] / r["duration_s"] for r in mine if r.get("client_cpu_s")]
            systems[name] = {
                "rps": round(statistics.median(r["rps"] for r in mine), 1),
                "p50_ms": round(statistics.median(r["latency_ms"]["p50"] for r in mine), 3),
                "p99_ms": round(statistics.median(r["latency_ms"]["p99"] for r in mine), 3),
                "server_cpu_us_per_request": round(statistics.median(cpu), 1) if cpu else None,
                "client_cpu_share": round(statistics.median(client), 2) if client else None,
                "rounds": len(mine),
            }
        ratios: dict[str, float | None] = {}
        for key, top, bottom, _ in RATIOS:
            by_round: dict[int, dict[str, float]] = {}
            for p in here:
                by_round.setdefault(p["round"], {})[p["system"]] = p["result"]["rps"]
            values = [r[top] / r[bottom] for r in by_round.values() if r.get(top) and r.get(bottom)]
            ratios[key] = round(statistics.median(values), 3) if values else None
        summary[str(c)] = {"systems": systems, "ratios": ratios}
    return summary


def run(settings: Settings, systems: Sequence[str], database: str) -> dict[str, Any]:
    """Measure ``systems`` on a fresh database; the results."""
    started = time.monotonic()
    skipped: dict[str, str] = {}
    if "redis" in systems and (reason := redis_unavailable(settings.redis_url)) is not None:
        log(f"redis: skipped, {reason}")
        skipped["redis"] = reason
    measured = [name for name in SYSTEMS if name in systems and name not in skipped]
    redis_prefix = f"fraiseql:bench-cache:{secrets.token_hex(4)}:"
    log(f"database {database}: loading {settings.rows_per_tenant} items per tenant")
    dsn, rows = asyncio.run(create_database(database, settings.rows_per_tenant))
    results: dict[str, Any] = {
        "machine": asyncio.run(machine_info(dsn)),
        "settings": {
            "rounds": settings.rounds,
            "duration_s": settings.duration_s,
            "warmup_s": settings.warmup_s,
            "concurrency": list(settings.concurrency),
            "rows": rows,
            "tenants": len(model.TENANTS),
            "pool_size": POOL_SIZE,
            "query": model.QUERY,
            "variables": model.VARIABLES,
            "load_generator": "wrk -t1" if shutil.which("wrk") else "bench.cache.load",
        },
        "systems": {name: LABELS[name] for name in measured},
        "skipped": skipped,
        "points": [],
    }
    try:
        with (
            tempfile.TemporaryDirectory(prefix="fraiseql-bench-cache-") as workdir,
            servers(measured, dsn, Path(workdir), redis_prefix, settings.redis_url) as running,
        ):
            body_file = Path(workdir) / "body.json"
            body_file.write_bytes(model.BODY)
            log(f"servers up: {', '.join(measured)}; checking their answers")
            results["check"] = check_answers(running)
            for name, server in running.items():
                load(server.url, body_file, max(settings.concurrency), settings.warmup_s)
                server.wait_idle()
                log(f"{name}: warmed up")
            turn = 0
            for number in range(settings.rounds):
                for c in settings.concurrency:
                    order = measured[turn % len(measured) :] + measured[: turn % len(measured)]
                    turn += 1
                    for name in order:
                        result = measure_point(running[name], body_file, c, settings.duration_s)
                        results["points"].append(
                            {
                                "round": number + 1,
                                "connections": c,
                                "system": name,
                                "result": result,
                            }
                        )
                        log(
                            f"round {number + 1}/{settings.rounds} c={c} {name}: "
                            f"{result['rps']:.0f} req/s, p50 {result['latency_ms']['p50']:.2f} ms, "
                            f"p99 {result['latency_ms']['p99']:.2f} ms"
                            + (f" FAILED: {result['failed']}" if "failed" in result else "")
                        )
            for name, server in running.items():
                if server.process.poll() is not None:
                    raise MeasurementError(f"{name} exited during the run:\n{server.output()}")
    finally:
        asyncio.run(drop_database(database))
        if "redis" in measured:
            with contextlib.suppress(Exception):
                asyncio.run(clear_redis(settings.redis_url, redis_prefix))
    results["summary"] = summarise(results["points"], settings.concurrency)
    results["machine"]["duration_s"] = round(time.monotonic() - started, 1)
    results["machine"]["date_end"] = datetime.datetime.now(datetime.UTC).isoformat(
        timespec="seconds"
    )
    return results


# --- the report -----------------------------------------------------------------------------------


def tables(results: dict[str, Any]) -> list[tuple[str, list[list[str]]]]:
    """Per concurrency, a title and the rows of its table (systems, then ratios)."""
    found = []
    for c, entry in results["summary"].items():
        rows = [["system", "req/s", "P50 ms", "P99 ms", "server CPU µs/req", "client CPU"]]
        for name in SYSTEMS:
            if name in results["skipped"]:
                rows.append([LABELS[name], "skipped", "", "", "", ""])
                continue
            s = entry["systems"].get(name)
            if s is None:
                if name in results["systems"]:
                    rows.append([LABELS[name], "failed", "", "", "", ""])
                continue
            cpu = s["server_cpu_us_per_request"]
            rows.append(
                [
                    LABELS[name],
                    f"{s['rps']:.0f}",
                    f"{s['p50_ms']:.2f}",
                    f"{s['p99_ms']:.2f}",
                    "n/a" if cpu is None else f"{cpu:.0f}",
                    "n/a" if s["client_cpu_share"] is None else f"{s['client_cpu_share']:.2f}",
                ]
            )
        found.append((f"{c} connections", rows))
        ratio_rows = [["ratio of req/s", "median of rounds"]]
        for key, _, _, label in RATIOS:
            value = entry["ratios"].get(key)
            ratio_rows.append([label, "—" if value is None else f"{value:.2f}"])
        found.append((f"{c} connections, ratios", ratio_rows))
    return found


def text_table(rows: list[list[str]]) -> str:
    """``rows`` aligned in columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        )
        for row in rows
    )


def notes(results: dict[str, Any]) -> list[str]:
    """Skipped systems and failed points, one line each."""
    found = [f"{name} skipped: {reason}" for name, reason in results["skipped"].items()]
    for p in results["points"]:
        if "failed" in p["result"]:
            found.append(
                f"{p['system']} failed in round {p['round']} at c={p['connections']}: "
                f"{p['result']['failed']}"
            )
    return found


def _load_average(values: Sequence[float] | None) -> str:
    return "unknown" if values is None else " / ".join(f"{value:.2f}" for value in values)


def markdown(results: dict[str, Any]) -> str:
    """The report as Markdown (``bench/results/cache.md``)."""
    s, m = results["settings"], results["machine"]
    lines = [
        "# The response cache: hits against an uncached read and a floor",
        "",
        f"Measured by `python -m bench.cache` on {m['date']} (commit {m.get('git_commit')}, "
        f"{m['duration_s']:.0f} s), {m['nproc']} CPUs ({m['cpu_model']}), Python "
        f"{m['python']}, PostgreSQL {m['postgresql']}, load average at start "
        f"{_load_average(m['load_average_at_start'])}.",
        "",
        f"One query, `{s['query']}` with `{orjson.dumps(s['variables']).decode()}` and the same "
        f"`X-Tenant-Id` on every request, over {s['rows']} rows of {s['tenants']} tenants behind "
        "row-level security (a tenant claim set with `set_config(..., true)`, an app role "
        "without BYPASSRLS): every request to a cached server is a hit, and every answer "
        "was the same bytes, checked before the load. Each system is one uvicorn process "
        f"with one worker and a pool of {s['pool_size']} connections on 127.0.0.1; the load "
        f"generator (`{s['load_generator']}`) runs in its own process, {s['duration_s']:g} s "
        f"per point after a {s['warmup_s']:g} s warm-up per server. {s['rounds']} rounds; in "
        "each, at each concurrency, the systems take turns, who goes first rotating. A value "
        "is the median over rounds, a ratio the median of the per-round ratios of req/s.",
        "",
    ]
    for title, rows in tables(results):
        lines += [
            f"**{title}**",
            "",
            "| " + " | ".join(rows[0]) + " |",
            "|" + "|".join(["---"] + ["---:"] * (len(rows[0]) - 1)) + "|",
            *("| " + " | ".join(row) + " |" for row in rows[1:]),
            "",
        ]
    lines += [
        "The floor (`bench/cache/floor.py`) is the uncached read with nothing around it: a raw "
        "ASGI callable that runs BEGIN, one `set_config` of the role and the tenant, the SELECT "
        "FraiseQL's planner writes, COMMIT, and projects the rows by hand with orjson. A hit "
        "skips the database and the response builder; what it still pays is HTTP, parsing the "
        "request (the document cache), the key (a SHA-256 of the normalized document, the "
        "variables and the settings) and the backend's get: for RedisCache, one round trip to "
        "Redis. The load generator, PostgreSQL, Redis and the server share the machine's CPUs; "
        "*client CPU* is the load generator's CPU time per second of load (near 1, the client "
        "bounded the rate): compare within one run only.",
    ]
    found = notes(results)
    if found:
        lines += ["", *(f"- {note}" for note in found)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Command line; exits 1 when a point failed."""
    defaults = Settings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=defaults.rounds)
    parser.add_argument("--duration", type=float, default=defaults.duration_s, help="seconds")
    parser.add_argument("--warmup", type=float, default=defaults.warmup_s, help="seconds")
    parser.add_argument("--concurrency", type=int, nargs="+", default=list(defaults.concurrency))
    parser.add_argument("--rows", type=int, default=defaults.rows_per_tenant, help="per tenant")
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--redis-url", default=defaults.redis_url)
    parser.add_argument("--database", default="fraiseql_bench_cache")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "cache.json")
    parser.add_argument("--markdown", type=Path, default=RESULTS_DIR / "cache.md")
    arguments = parser.parse_args(argv)
    if arguments.rounds < 1 or arguments.rows < model.LIMIT or min(arguments.concurrency) < 1:
        parser.error(f"--rounds and --concurrency must be at least 1, --rows {model.LIMIT}")
    if arguments.duration <= 0 or arguments.warmup < 0:
        parser.error("--duration must be positive, --warmup not negative")
    settings = Settings(
        rounds=arguments.rounds,
        duration_s=arguments.duration,
        warmup_s=arguments.warmup,
        concurrency=tuple(arguments.concurrency),
        rows_per_tenant=arguments.rows,
        redis_url=arguments.redis_url,
    )
    exit_on_sigterm()
    try:
        results = run(settings, arguments.systems, arguments.database)
    except MeasurementError as failure:
        raise SystemExit(f"bench.cache: {failure}") from None
    print(
        f"response cache: {results['settings']['rows']} rows, {settings.duration_s:g} s per "
        f"point, median of {settings.rounds} rounds ({results['settings']['load_generator']})"
    )
    for title, rows in tables(results):
        print(f"\n{title}\n{text_table(rows)}")
    found = notes(results)
    for note in found:
        print(note)
    write_json(arguments.output, results)
    arguments.markdown.parent.mkdir(parents=True, exist_ok=True)
    arguments.markdown.write_text(markdown(results))
    shown = arguments.markdown.resolve()
    log(f"wrote {shown.relative_to(PROJECT_ROOT) if shown.is_relative_to(PROJECT_ROOT) else shown}")
    if any("failed" in p["result"] for p in results["points"]):
        raise SystemExit(1)
