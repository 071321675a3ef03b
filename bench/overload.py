"""Tail latency under a write-heavy load, and what admission control does past the peak.

    python -m bench.overload [--duration 6] [--concurrency 10 25 50 100 200]

Serves the example blog (tenancy on: the app role, RLS, the tenant claim) with uvicorn, one
worker, on a fresh database of the size ``make demo`` loads, and drives it with ``wrk`` (one
thread) at each concurrency: 90 % ``post(id:)`` queries and 10 % ``updatePost`` mutations over
200 posts of one tenant. Two servers are measured in turn at each point: the default (no bound
on the requests waiting for a connection) and an admission limit
(``FRAISEQL_POOL_MAX_WAITING=10``). For each: requests per second that got a 200, P50/P99
latency of every answer, and the share answered 503 (``Retry-After``). Writes
``bench/results/overload.json`` and ``overload.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import (
    DATA,
    PROJECT_ROOT,
    RESULTS_DIR,
    bench_database,
    free_port,
    log,
    machine_info,
    write_json,
)

POSTS = 200
VARIANTS = {
    "no waiting bound (default)": {},
    "max_waiting=10": {"FRAISEQL_POOL_MAX_WAITING": "10"},
}

# One wrk thread: a Lua state of its own counts the statuses and prints one line at the end.
WRK_SCRIPT = """
local ids = {{{ids}}}
local tenant = "{tenant}"
local n = 0
ok, busy, other = 0, 0, 0
threads = {{}}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Tenant-Id"] = tenant
request = function()
  n = n + 1
  local id = ids[(n % #ids) + 1]
  local body
  if n % 10 == 0 then
    body = '{{"query":"mutation($i: UpdatePostInput!) {{ updatePost(input: $i) {{ status }} }}",' ..
      '"variables":{{"i":{{"post":"' .. id .. '","title":"T' .. n .. '"}}}}}}'
  else
    body = '{{"query":"query($id: UUID) {{ post(id: $id) {{ id title author {{ name }} }} }}",' ..
      '"variables":{{"id":"' .. id .. '"}}}}'
  end
  return wrk.format(nil, nil, nil, body)
end
response = function(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 503 then busy = busy + 1
  else other = other + 1 end
end
setup = function(thread) threads[#threads + 1] = thread end
done = function(summary, latency, requests)
  local counts = {{0, 0, 0}}
  for _, thread in ipairs(threads) do
    counts[1] = counts[1] + thread:get("ok")
    counts[2] = counts[2] + thread:get("busy")
    counts[3] = counts[3] + thread:get("other")
  end
  io.write(string.format("RESULT %d %d %d %d %d %d 200=%d,503=%d,0=%d\\n", summary.requests,
    summary.duration, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, latency:percentile(50), latency:percentile(99), latency.max,
    counts[1], counts[2], counts[3]))
end
"""


class Server:
    """The blog app under uvicorn in a process of its own."""

    def __init__(self, dsn: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        command = [
            *(sys.executable, "-m", "uvicorn", "examples.blog.app:app"),
            *("--host", "127.0.0.1", "--port", str(self.port), "--backlog", "4096"),
            *("--no-access-log", "--log-level", "warning"),
        ]
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env={**os.environ, "FRAISEQL_DATABASE_URL": dsn, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, tenant: str) -> None:
        """Until a query is answered (20 s at most)."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                answer = httpx.post(
                    self.url,
                    json={"query": "{ __typename }"},
                    headers={"X-Tenant-Id": tenant},
                    timeout=1,
                )
                if answer.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the blog server did not start")

    def stop(self) -> None:
        """Stop the process group."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def run_wrk(wrk: str, url: str, script: Path, connections: int, duration: float) -> dict[str, Any]:
    """One load: 200s per second, latency percentiles (ms), the share of 503s."""
    done = subprocess.run(
        [
            *(wrk, "-t1", f"-c{connections}", f"-d{round(duration)}s", "--timeout", "10s"),
            *("-s", str(script), url),
        ],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    _, requests, micros, errors, p50, p99, worst, statuses = [*line.split(), ""][:8]
    counts = {int(k): int(v) for k, v in (part.split("=") for part in statuses.split(",") if part)}
    seconds = int(micros) / 1e6
    ok = counts.get(200, 0)
    return {
        "connections": connections,
        "requests": int(requests),
        "ok_per_s": round(ok / seconds, 1),
        "p50_ms": int(p50) / 1e3,
        "p99_ms": int(p99) / 1e3,
        "max_ms": int(worst) / 1e3,
        "share_503": round(counts.get(503, 0) / max(1, int(requests)), 4),
        "other_non_200": sum(v for k, v in counts.items() if k not in (200, 503)),
        "socket_errors": int(errors),
    }


async def posts_of_one_tenant(dsn: str) -> tuple[str, list[str]]:
    """A tenant and ``POSTS`` of its post ids."""
    connection = await asyncpg.connect(dsn)
    try:
        tenant = await connection.fetchval(
            "SELECT tenant_id::text FROM tv_post GROUP BY tenant_id ORDER BY count(*) DESC LIMIT 1"
        )
        ids = await connection.fetch(
            "SELECT id::text FROM tv_post WHERE tenant_id = $1::uuid ORDER BY id LIMIT $2",
            tenant,
            POSTS,
        )
    finally:
        await connection.close()
    return tenant, [row[0] for row in ids]


def table(points: dict[str, list[dict[str, Any]]]) -> str:
    """The markdown table of the results."""
    lines = [
        "| server | connections | 200s/s | P50 ms | P99 ms | max ms | 503 share |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, results in points.items():
        for point in results:
            lines.append(
                f"| {name} | {point['connections']} | {point['ok_per_s']:.0f} | "
                f"{point['p50_ms']:.1f} | {point['p99_ms']:.1f} | {point['max_ms']:.0f} | "
                f"{point['share_503'] * 100:.1f} % |"
            )
    return "\n".join(lines)


async def main_async(arguments: argparse.Namespace) -> int:
    """Seed, serve, load, report."""
    wrk = shutil.which("wrk")
    if wrk is None:
        print("bench.overload needs wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    started = time.time()
    async with bench_database(**DATA) as dsn:
        tenant, ids = await posts_of_one_tenant(dsn)
        info = await machine_info(dsn)
        with tempfile.TemporaryDirectory() as directory:
            script = Path(directory) / "mix.lua"
            quoted = ",".join(json.dumps(i) for i in ids)
            script.write_text(WRK_SCRIPT.format(ids=quoted, tenant=tenant))
            points: dict[str, list[dict[str, Any]]] = {name: [] for name in VARIANTS}
            servers = {name: Server(dsn, env) for name, env in VARIANTS.items()}
            try:
                for server in servers.values():
                    server.wait_ready(tenant)
                for connections in arguments.concurrency:
                    for name, server in servers.items():
                        run_wrk(wrk, server.url, script, connections, 1)  # warm-up
                        point = run_wrk(wrk, server.url, script, connections, arguments.duration)
                        log(f"{name} c={connections}: {point}")
                        points[name].append(point)
            finally:
                for server in servers.values():
                    server.stop()
    payload = {"machine": info, "seconds": round(time.time() - started), "points": points}
    write_json(RESULTS_DIR / "overload.json", payload)
    text = (
        "# Tail latency under a write-heavy load\n\n"
        f"Measured by `python -m bench.overload` ({info.get('date', '')}, commit "
        f"{info.get('git_commit', '?')}, {info.get('nproc', '?')} CPUs, load average at "
        f"start {info.get('load_average_at_start', '?')}). The example blog with tenancy (RLS, "
        f"the app role, the tenant claim), one uvicorn worker, a pool of 10; wrk with one thread, "
        f"{arguments.duration:.0f} s per point after 1 s of warm-up; 90 % `post(id:)`, 10 % "
        f"`updatePost` over {POSTS} posts of one tenant.\n\n" + table(points) + "\n"
    )
    (RESULTS_DIR / "overload.md").write_text(text, encoding="utf-8")
    print(table(points))
    return 0


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.overload", description=__doc__)
    parser.add_argument("--duration", type=float, default=6.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 25, 50, 100, 200])
    raise SystemExit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
