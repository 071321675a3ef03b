"""A lean HTTP/1.1 load generator for machines without ``wrk``: run in its own process.

    python -m bench.cache.load URL BODY_FILE --connections 10 --duration 3 [--header K:V]

``bench/loadgen.py`` (httpx) costs about as much CPU per request as the server it measures, and
cannot send a tenant header; a cache hit is cheap enough that such a client would measure
itself. This one writes the same pre-built request bytes on ``--connections`` keep-alive
sockets (one asyncio task each, uvloop when installed, one request in flight per socket) and
reads each response by its ``Content-Length``; it prints one JSON line: requests, non-2xx
answers, socket errors, how many answers said ``X-FraiseQL-Cache: hit``, the duration and
the latency percentiles. ``--warmup`` seconds run first on the same sockets, not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HIT = b"\r\nx-fraiseql-cache: hit"


def request_bytes(url: str, body: bytes, headers: list[tuple[str, str]]) -> tuple[str, int, bytes]:
    """The host, the port and the bytes of one POST of ``body`` to ``url``."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    lines = [
        f"POST {parts.path or '/'} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers),
    ]
    return host, port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def percentile(ordered: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of sorted ``ordered``, between the closest ranks."""
    if not ordered:
        return 0.0
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class Counts:
    """What the workers saw (only while ``measuring``)."""

    def __init__(self) -> None:
        self.measuring = False
        self.requests = 0
        self.non_2xx = 0
        self.errors = 0
        self.hits = 0
        self.latencies: list[float] = []


async def worker(host: str, port: int, payload: bytes, deadline: float, counts: Counts) -> None:
    """Send ``payload`` and read the answer, again and again, until ``deadline``."""
    perf = time.perf_counter
    writer = None
    while perf() < deadline:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            started = perf()
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            lowered = head.lower()
            start = lowered.index(b"\r\ncontent-length:") + 17
            length = int(lowered[start : lowered.index(b"\r\n", start)])
            await reader.readexactly(length)
            elapsed = perf() - started
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            if counts.measuring:
                counts.errors += 1
            if writer is not None:
                writer.close()
                writer = None
            await asyncio.sleep(0.01)
            continue
        if counts.measuring:
            counts.requests += 1
            counts.latencies.append(elapsed)
            if head[9:10] != b"2":
                counts.non_2xx += 1
            if HIT in lowered:
                counts.hits += 1
    if writer is not None:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def run(
    url: str,
    body: bytes,
    headers: list[tuple[str, str]],
    connections: int,
    duration_s: float,
    warmup_s: float = 0.0,
) -> dict[str, Any]:
    """Load ``url`` for ``warmup_s`` then ``duration_s`` seconds; what was measured."""
    host, port, payload = request_bytes(url, body, headers)
    counts = Counts()
    begin = time.perf_counter()
    end = begin + warmup_s + duration_s
    tasks = [
        asyncio.create_task(worker(host, port, payload, end, counts)) for _ in range(connections)
    ]
    await asyncio.sleep(warmup_s)
    counts.measuring = True
    started = time.perf_counter()
    await asyncio.sleep(max(0.0, end - started))
    counts.measuring = False
    duration = time.perf_counter() - started
    await asyncio.gather(*tasks)
    ordered = sorted(counts.latencies)
    return {
        "requests": counts.requests,
        "non_2xx": counts.non_2xx,
        "errors": counts.errors,
        "hits": counts.hits,
        "duration_s": round(duration, 4),
        "rps": round(counts.requests / duration, 1) if duration > 0 else 0.0,
        "latency_ms": {
            "p50": round(percentile(ordered, 50) * 1e3, 3),
            "p90": round(percentile(ordered, 90) * 1e3, 3),
            "p99": round(percentile(ordered, 99) * 1e3, 3),
            "max": round((ordered[-1] if ordered else 0.0) * 1e3, 3),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("body", type=Path)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=0.0)
    parser.add_argument("--header", action="append", default=[], help="Name: value")
    arguments = parser.parse_args()
    headers = [tuple(part.strip() for part in h.split(":", 1)) for h in arguments.header]
    runner: Any = asyncio.run
    with contextlib.suppress(ImportError, AttributeError):
        import uvloop

        runner = uvloop.run
    result = runner(
        run(
            arguments.url,
            arguments.body.read_bytes(),
            headers,  # type: ignore[arg-type]
            arguments.connections,
            arguments.duration,
            arguments.warmup,
        )
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
