"""Profile whole requests in process: HTTP body in, response bytes out, with cProfile.

Drives the example app's ASGI callable directly (no sockets on the HTTP side; PostgreSQL over
loopback) for one query, reports requests/s with and without the profiler, and the functions
with the most own time. Run it once per implementation:

    FRAISEQL_IMPL=python python -m bench.profile_request --dsn postgresql://.../db
    FRAISEQL_IMPL=c      python -m bench.profile_request --dsn postgresql://.../db

The database must hold the example blog (``python -m examples.blog.database --dsn ...``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import time
from typing import Any

import orjson
from examples.blog.app import build

import fraiseql

QUERY = (
    "query($n: Int) { posts(limit: $n) { id title status author { name } "
    "comments { body author { name } } } }"
)


async def _main(dsn: str, rows: int, requests: int) -> None:
    app = build(dsn, tenancy=False)  # every tenant's rows, as the profile has always measured
    schema = app.state.fraiseql_schema
    await schema.open()
    body = orjson.dumps({"query": QUERY, "variables": {"n": rows}})
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"accept", b"application/json")],
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 1),
        "root_path": "",
    }

    async def call() -> None:
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            return None

        await app(scope, receive, send)

    try:
        for _ in range(100):
            await call()
        started = time.perf_counter()
        for _ in range(requests):
            await call()
        plain = requests / (time.perf_counter() - started)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            await call()
        profiler.disable()
    finally:
        await schema.close()
    print(f"implementation: {fraiseql.native_info()['implementation']}")
    print(f"query: posts(limit: {rows}) with author and comments")
    print(f"requests/s in process, without the profiler: {plain:.0f}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--requests", type=int, default=1000)
    arguments = parser.parse_args()
    asyncio.run(_main(arguments.dsn, arguments.rows, arguments.requests))


if __name__ == "__main__":
    main()
