"""Tail latency under a write-heavy load, and what admission control does past the peak.

    python -m bench.overload [--duration 6] [--concurrency 10 25 50 100 200]

Serves the example blog (tenancy on: the app role, RLS, the tenant claim) with uvicorn, one
worker, on a fresh database of the size ``make demo`` loads, and drives it with ``wrk`` (one
thread per connection, so that each Lua state follows exactly one client) at each concurrency:
90 % ``post(id:)`` queries and 10 % ``updatePost`` mutations over 200 posts of one tenant.

Four servers run side by side and are measured in turn at each point (their order rotating
from point to point): the default (no admission control), a bound on the requests waiting for
a connection (``FRAISEQL_POOL_MAX_WAITING=10``), and admission by time in queue
(``FRAISEQL_POOL_ADMISSION=1``, see ``fraiseql.db.admission``) with its default target of
20 ms and with 10 ms. Each is driven by two kinds of
clients: ones that send their next request as soon as an answer arrives, a 503 included, and
ones that honour ``Retry-After`` (a client refused waits that long before its next request).

For each point: requests per second answered 200 (goodput), P50/P99/max latency of those
admitted requests (timed in wrk's Lua per request, 2 % buckets), the share of answers that were
503 and the P50 of those. Writes ``bench/results/overload.json`` and ``overload.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
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
    "no admission (default)": {},
    "max_waiting=10": {"FRAISEQL_POOL_MAX_WAITING": "10"},
    "admission by queue time": {"FRAISEQL_POOL_ADMISSION": "1"},
    "admission, target 10 ms": {
        "FRAISEQL_POOL_ADMISSION": "1",
        "FRAISEQL_POOL_QUEUE_TARGET": "0.01",
    },
}
CLIENTS = ("retry at once", "honour Retry-After")

BUCKET = 1.02
"""Latency histogram buckets: bucket ``b`` holds latencies in [BUCKET**b, BUCKET**(b+1)) us."""

# One wrk thread per connection: its Lua state sees that client's requests and answers in
# order, so it can time each one (LuaJIT's ffi reads the monotonic clock) and, for the
# clients that honour Retry-After, pause that client (wrk calls delay() before each request).
WRK_SCRIPT = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct {{ long tv_sec; long tv_nsec; }} fraiseql_timespec;
int clock_gettime(int clock, fraiseql_timespec *now);
]]
local clock = ffi.new("fraiseql_timespec")
local function now_us()
  ffi.C.clock_gettime(1, clock)
  return tonumber(clock.tv_sec) * 1000000 + tonumber(clock.tv_nsec) / 1000
end
local log_bucket = math.log({bucket})
local ids = {{{ids}}}
local tenant = "{tenant}"
n = 0
local sent = 0
pause = 0
ok, busy, other = 0, 0, 0
ok_hist, busy_hist = {{}}, {{}}
threads = {{}}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Tenant-Id"] = tenant
setup = function(thread)
  thread:set("n", #threads * 7919)  -- each client starts elsewhere in the mix
  threads[#threads + 1] = thread
end
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
  sent = now_us()
  return wrk.format(nil, nil, nil, body)
end
response = function(status, headers, body)
  local elapsed = now_us() - sent
  local b = math.floor(math.log(math.max(elapsed, 1)) / log_bucket)
  if status == 200 then
    ok = ok + 1
    ok_hist[b] = (ok_hist[b] or 0) + 1
  elseif status == 503 then
    busy = busy + 1
    busy_hist[b] = (busy_hist[b] or 0) + 1
    {on_busy}
  else
    other = other + 1
  end
end
{delay}
done = function(summary, latency, requests)
  local totals = {{0, 0, 0}}
  local merged = {{ok = {{}}, busy = {{}}}}
  for _, thread in ipairs(threads) do
    totals[1] = totals[1] + thread:get("ok")
    totals[2] = totals[2] + thread:get("busy")
    totals[3] = totals[3] + thread:get("other")
    for kind, name in pairs({{ok = "ok_hist", busy = "busy_hist"}}) do
      for b, count in pairs(thread:get(name)) do
        merged[kind][b] = (merged[kind][b] or 0) + count
      end
    end
  end
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, totals[1], totals[2], totals[3]))
  for kind, hist in pairs(merged) do
    local parts = {{}}
    for b, count in pairs(hist) do parts[#parts + 1] = b .. ":" .. count end
    io.write("HIST " .. kind .. " " .. table.concat(parts, ",") .. "\\n")
  end
end
"""

HONOUR_RETRY_AFTER = {
    "on_busy": (
        'pause = 1000 * (tonumber(headers["retry-after"] or headers["Retry-After"] or "1") or 1)'
    ),
    "delay": "delay = function() local ms = pause; pause = 0; return ms end",
}
RETRY_AT_ONCE = {"on_busy": "", "delay": ""}


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


def percentile(histogram: dict[int, int], q: float) -> float:
    """The ``q`` quantile (0-1) of a latency histogram, in ms (the bucket's geometric middle)."""
    total = sum(histogram.values())
    if total == 0:
        return math.nan
    rank = q * total
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return float(BUCKET ** (bucket + 0.5) / 1e3)
    return float(BUCKET ** (max(histogram) + 0.5) / 1e3)


def run_wrk(wrk: str, url: str, script: Path, connections: int, duration: float) -> dict[str, Any]:
    """One load: 200s per second, latency percentiles (ms) of the 200s, the share of 503s."""
    done = subprocess.run(
        [
            *(wrk, f"-t{connections}", f"-c{connections}", f"-d{round(duration)}s"),
            *("--timeout", "10s", "-s", str(script), url),
        ],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    )
    lines = done.stdout.splitlines()
    result = next(x for x in lines if x.startswith("RESULT "))
    requests, micros, errors, ok, busy, other = (int(x) for x in result.split()[1:])
    histograms: dict[str, dict[int, int]] = {"ok": {}, "busy": {}}
    for line in lines:
        if line.startswith("HIST "):
            _, kind, *rest = line.split(" ")
            for part in filter(None, (rest or [""])[0].split(",")):
                bucket, count = part.split(":")
                histograms[kind][int(bucket)] = int(count)
    seconds = micros / 1e6
    admitted = histograms["ok"]
    return {
        "connections": connections,
        "requests": requests,
        "ok_per_s": round(ok / seconds, 1),
        "answers_per_s": round(requests / seconds, 1),
        "p50_ms": round(percentile(admitted, 0.50), 2),
        "p99_ms": round(percentile(admitted, 0.99), 2),
        "max_ms": round(BUCKET ** (max(admitted) + 1) / 1e3, 1) if admitted else math.nan,
        "share_503": round(busy / max(1, requests), 4),
        "p50_503_ms": round(percentile(histograms["busy"], 0.50), 2) if busy else None,
        "other_non_200": other,
        "socket_errors": errors,
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


def table(points: dict[str, dict[str, list[dict[str, Any]]]]) -> str:
    """The markdown table of the results."""
    lines = [
        "| clients | server | connections | 200s/s | P50 ms | P99 ms | max ms | 503 share "
        "| 503 P50 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for client, servers in points.items():
        for name, results in servers.items():
            for point in results:
                busy = point["p50_503_ms"]
                lines.append(
                    f"| {client} | {name} | {point['connections']} | {point['ok_per_s']:.0f} | "
                    f"{point['p50_ms']:.1f} | {point['p99_ms']:.1f} | {point['max_ms']:.0f} | "
                    f"{point['share_503'] * 100:.1f} % | "
                    f"{'-' if busy is None else f'{busy:.1f}'} |"
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
            quoted = ",".join(json.dumps(i) for i in ids)
            scripts: dict[str, Path] = {}
            for client, parts in zip(CLIENTS, (RETRY_AT_ONCE, HONOUR_RETRY_AFTER), strict=True):
                scripts[client] = Path(directory) / f"{len(scripts)}.lua"
                scripts[client].write_text(
                    WRK_SCRIPT.format(ids=quoted, tenant=tenant, bucket=BUCKET, **parts)
                )
            points: dict[str, dict[str, list[dict[str, Any]]]] = {
                client: {name: [] for name in VARIANTS} for client in CLIENTS
            }
            servers = {name: Server(dsn, env) for name, env in VARIANTS.items()}
            try:
                for server in servers.values():
                    server.wait_ready(tenant)
                order = list(servers)
                for connections in arguments.concurrency:
                    for client in CLIENTS:
                        for name in order:
                            url = servers[name].url
                            run_wrk(wrk, url, scripts[client], connections, 1)  # warm-up
                            point = run_wrk(
                                wrk, url, scripts[client], connections, arguments.duration
                            )
                            log(f"{client} / {name} c={connections}: {point}")
                            points[client][name].append(point)
                    order = order[1:] + order[:1]
            finally:
                for server in servers.values():
                    server.stop()
    payload = {"machine": info, "seconds": round(time.time() - started), "points": points}
    write_json(RESULTS_DIR / f"{arguments.name}.json", payload)
    text = (
        "# Tail latency under a write-heavy load\n\n"
        f"Measured by `python -m bench.overload` ({info.get('date', '')}, commit "
        f"{info.get('git_commit', '?')}, {info.get('nproc', '?')} CPUs, load average at "
        f"start {info.get('load_average_at_start', '?')}, {payload['seconds']} s). The example "
        "blog with tenancy (RLS, the app role, the tenant claim), one uvicorn worker, a pool of "
        "10; wrk with one thread per connection, "
        f"{arguments.duration:.0f} s per point after 1 s of warm-up; 90 % `post(id:)`, 10 % "
        f"`updatePost` over {POSTS} posts of one tenant. Latencies are those of the requests "
        "answered 200; the 503 column is the share of all answers.\n\n" + table(points) + "\n"
    )
    (RESULTS_DIR / f"{arguments.name}.md").write_text(text, encoding="utf-8")
    print(table(points))
    return 0


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.overload", description=__doc__)
    parser.add_argument("--duration", type=float, default=6.0)
    parser.add_argument(
        "--name", default="overload", help="the results' file names under bench/results/"
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 25, 50, 100, 200])
    raise SystemExit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
