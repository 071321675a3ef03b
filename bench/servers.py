"""Uvicorn against granian, one worker each, on the post-by-id request (tenancy on).

    python -m bench.servers [--rounds 2] [--duration 8]

For ``fraiseql serve``'s choice of server. Seeds a fresh blog database, then per round starts
each server in turn (order alternating) on the example app and drives it with ``wrk`` at 10
and 50 connections: requests per second and P99. Granian must be installed (``pip install
granian``; it is not a dependency). Writes ``bench/results/servers.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import (
    PROJECT_ROOT,
    RESULTS_DIR,
    bench_database,
    free_port,
    machine_info,
    write_json,
)

QUERY = "query($id: UUID) { post(id: $id) { id title author { name } } }"
CONNECTIONS = (10, 50)


def _command(name: str, port: int) -> list[str]:
    if name == "uvicorn":
        return [
            *(sys.executable, "-m", "uvicorn", "examples.blog.app:app", "--port", str(port)),
            *("--no-access-log", "--log-level", "warning"),
        ]
    return [
        *(sys.executable, "-m", "granian", "--interface", "asgi", "--port", str(port)),
        *("--workers", "1", "--log-level", "warning", "examples.blog.app:app"),
    ]


def _wait(url: str, body: str, tenant: str) -> None:
    headers = {"content-type": "application/json", "x-tenant-id": tenant}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if b"title" in httpx.post(url, content=body, headers=headers, timeout=1).content:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def _wrk(wrk: str, url: str, script: Path, connections: int, seconds: int) -> dict[str, Any]:
    args = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60).stdout
    lines = out.splitlines()
    rps = float(next(x for x in lines if x.startswith("Requests/sec")).split()[1])
    p99 = next(x for x in lines if x.strip().startswith("99%")).split()[1]
    return {"rps": rps, "p99": p99, "non_2xx": any("Non-2xx" in x for x in lines)}


def _measure(
    wrk: str, dsn: str, tenant: str, post: str, rounds: int, duration: int
) -> dict[str, list[dict[str, Any]]]:
    """Every round: each server started in turn and loaded at each concurrency."""
    body = json.dumps({"query": QUERY, "variables": {"id": post}})
    points: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as directory:
        script = Path(directory) / "post.lua"
        script.write_text(
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["X-Tenant-Id"] = "{tenant}"\nwrk.body = {json.dumps(body)}\n'
        )
        for round_ in range(rounds):
            names = ("uvicorn", "granian") if round_ % 2 == 0 else ("granian", "uvicorn")
            for name in names:
                port = free_port()
                process = subprocess.Popen(
                    _command(name, port),
                    cwd=PROJECT_ROOT,
                    env={**os.environ, "FRAISEQL_DATABASE_URL": dsn},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
                url = f"http://127.0.0.1:{port}/graphql"
                try:
                    _wait(url, body, tenant)
                    for connections in CONNECTIONS:
                        _wrk(wrk, url, script, connections, 2)  # warm-up
                        point = _wrk(wrk, url, script, connections, duration)
                        points.setdefault(f"{name} c={connections}", []).append(point)
                        print(round_, name, connections, point, flush=True)
                finally:
                    os.killpg(process.pid, signal.SIGKILL)  # granian ignores a lone TERM
                    process.wait(10)
    return points


async def main_async(arguments: argparse.Namespace) -> int:
    """Seed, then measure both servers round by round."""
    wrk = shutil.which("wrk")
    if wrk is None or (shutil.which("granian") is None and not _has_granian()):
        print("bench.servers needs wrk and granian (pip install granian)", file=sys.stderr)
        return 2
    async with bench_database() as dsn:
        connection = await asyncpg.connect(dsn)
        try:
            tenant = await connection.fetchval("SELECT tenant_id::text FROM tv_post LIMIT 1")
            post = await connection.fetchval(
                "SELECT id::text FROM tv_post WHERE tenant_id = $1::uuid LIMIT 1", tenant
            )
        finally:
            await connection.close()
        info = await machine_info(dsn)
        points = await asyncio.to_thread(
            _measure, wrk, dsn, tenant, post, arguments.rounds, arguments.duration
        )
    summary = {
        key: {
            "median_rps": statistics.median(p["rps"] for p in values),
            "p99": [p["p99"] for p in values],
        }
        for key, values in points.items()
    }
    write_json(
        RESULTS_DIR / "servers.json", {"machine": info, "points": points, "summary": summary}
    )
    for key, value in summary.items():
        print(f"{key:16} {value['median_rps']:8.0f} req/s   P99 {', '.join(value['p99'])}")
    return 0


def _has_granian() -> bool:
    try:
        import granian  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.servers", description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=8)
    raise SystemExit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
