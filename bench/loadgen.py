"""A small HTTP load generator, for machines without ``wrk``: run in its own process.

    python -m bench.loadgen URL BODY_FILE --connections 16 --duration 4

Keeps ``--connections`` requests in flight (one asyncio task per connection, keep-alive) for
``--duration`` seconds and prints one JSON line: requests, duration_s, non-2xx responses,
socket errors and latency percentiles. It is far slower than wrk (a Python client costs about
as much CPU per request as the server), so its numbers are only comparable with each other.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

import httpx


async def worker(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    deadline: float,
    latencies: list[float],
    counts: dict[str, int],
) -> None:
    headers = {"Content-Type": "application/json"}
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError:
            counts["errors"] += 1
            continue
        latencies.append(time.perf_counter() - started)
        counts["requests"] += 1
        if not 200 <= response.status_code < 300:
            counts["non_2xx"] += 1


async def main_async(arguments: argparse.Namespace, body: bytes) -> dict[str, float]:
    limits = httpx.Limits(max_connections=arguments.connections)
    latencies: list[float] = []
    counts = {"requests": 0, "errors": 0, "non_2xx": 0}
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        started = time.perf_counter()
        deadline = started + arguments.duration
        await asyncio.gather(
            *(
                worker(client, arguments.url, body, deadline, latencies, counts)
                for _ in range(arguments.connections)
            )
        )
        duration = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        **counts,
        "duration_s": duration,
        "latency_p50_ms": quantiles[49] * 1e3,
        "latency_p99_ms": quantiles[98] * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("body")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=4.0)
    arguments = parser.parse_args()
    body = Path(arguments.body).read_bytes()
    print(json.dumps(asyncio.run(main_async(arguments, body))), flush=True)


if __name__ == "__main__":
    main()
