"""Profile whole requests in process: HTTP body in, response bytes out, with cProfile.

Drives the example app's ASGI callable directly (no sockets on the HTTP side; PostgreSQL over
loopback) for one query, reports requests/s with and without the profiler, and the functions
with the most own time. Run it once per implementation:

    FRAISEQL_IMPL=python python -m bench.profile_request --dsn postgresql://.../db
    FRAISEQL_IMPL=c      python -m bench.profile_request --dsn postgresql://.../db

The database must hold the example blog (``python -m examples.blog.database --dsn ...``).

``--one`` profiles ``post(identifier: ...)``, one document, instead of the list.
``--connection`` profiles ``postsConnection(first: N)`` with the same node selection instead.
``--compare-connection`` (C core only) times that connection request in one run, interleaved
rounds, with connection pages rendered the way they are now (edges written whole by the C core,
cursors included), as before that (each node by the C core inside an envelope written in
Python, cursors made in Python) and by the Python builder alone, and prints the per-request
times and their paired ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import statistics
import time
from collections.abc import Mapping
from typing import Any

import asyncpg
import orjson
from examples.blog.app import build

import fraiseql
from bench.common import interleave_async, paired_ratio, spread
from fraiseql.native.builder import PYTHON_BUILDER, Rendered
from fraiseql.sql.select import EdgeRows

NODE = "id title status author { name } comments { body author { name } }"
QUERY = f"query($n: Int) {{ posts(limit: $n) {{ {NODE} }} }}"
ONE_QUERY = f"query($id: String) {{ post(identifier: $id) {{ {NODE} }} }}"
CONNECTION_QUERY = (
    f"query($n: Int) {{ postsConnection(first: $n) {{ totalCount "
    f"edges {{ cursor node {{ {NODE} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
)


class _Wrapped:
    """The active builder, with ``render_connection`` replaced by the subclass."""

    def __init__(self, builder: Any) -> None:
        self.builder = builder
        self.name = builder.name

    def __getattr__(self, name: str) -> Any:
        return getattr(self.builder, name)


class CNodesOnly(_Wrapped):
    """Only the nodes go through the C core, each on its own, inside an envelope written in
    Python with cursors made in Python (as before the C core wrote whole edges)."""

    def render_connection(self, plan: Any, page: Mapping[str, Any]) -> Rendered:
        """Turn the edges into dicts with Python cursors, then render as usual."""
        edges = page["edges"]
        if isinstance(edges, EdgeRows):
            page = {**page, "edges": edges.as_dicts(parse=False)}
        return self.builder.render_connection(plan, page)  # type: ignore[no-any-return]


class PythonConnections(_Wrapped):
    """Connection pages take the Python builder (as before the C core rendered nodes)."""

    def render_connection(self, plan: Any, page: Mapping[str, Any]) -> Rendered:
        """Parse every node and complete the page with the projector."""
        return PYTHON_BUILDER.render_connection(plan.root, page)


async def _main(
    dsn: str, rows: int, requests: int, *, connection: bool, compare: bool, one: bool
) -> None:
    app = build(dsn, tenancy=False)  # every tenant's rows, as the profile has always measured
    schema = app.state.fraiseql_schema
    await schema.open()
    query = CONNECTION_QUERY if connection or compare else ONE_QUERY if one else QUERY
    variables: dict[str, Any] = {"n": rows}
    if one:
        db = await asyncpg.connect(dsn)
        try:
            variables = {"id": await db.fetchval("SELECT min(identifier) FROM tv_post")}
        finally:
            await db.close()
    body = orjson.dumps({"query": query, "variables": variables})
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

    sent: list[bytes] = []

    async def call() -> None:
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                sent[:] = [message.get("body", b"")]

        await app(scope, receive, send)

    if compare:
        try:
            await _compare(schema.executor, call, sent, rows, requests)
        finally:
            await schema.close()
        return
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
    root = (
        f"postsConnection(first: {rows})"
        if connection
        else "post(identifier: ...)"
        if one
        else f"posts(limit: {rows})"
    )
    print(f"query: {root} with author and comments")
    print(f"requests/s in process, without the profiler: {plain:.0f}")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(15)
    print(out.getvalue())
    print("own time per request by area (µs), under the profiler:")
    for area, seconds in by_area(stats, requests).items():
        print(f"  {area:<28} {seconds * 1e6:8.1f}")


# Where a function's own time goes, by the first pattern its file or name contains.
AREAS = (
    ("response builder", ("fraiseql/native", "fraiseql._native", "orjson", "uuid.py")),
    ("response builder", ("fraiseql/types/scalars",)),
    ("SQL statement building", ("fraiseql/sql/",)),
    ("FraiseQL, other", ("fraiseql/",)),
    ("graphql-core", ("graphql/",)),
    ("asyncpg (driver)", ("asyncpg",)),
    ("event loop and sockets", ("asyncio", "selectors", "socket", "epoll", "_contextvars")),
)


def by_area(stats: pstats.Stats, requests: int) -> dict[str, float]:
    """Own (not cumulative) seconds per request, summed by area of the code."""
    totals: dict[str, float] = {}
    for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        own = row[2]
        where = f"{filename} {name}"
        area = next(
            (label for label, patterns in AREAS if any(p in where for p in patterns)), "other"
        )
        totals[area] = totals.get(area, 0.0) + own / requests
    totals["total"] = sum(totals.values())
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


async def _compare(executor: Any, call: Any, sent: list[bytes], rows: int, requests: int) -> None:
    """Interleaved rounds of the connection request, rendered three ways: edges whole by C
    (now), nodes by C inside a Python envelope (before), every node by Python (python)."""
    if executor.builder.name != "c":
        raise SystemExit("--compare-connection needs the C core (FRAISEQL_IMPL=c)")
    builders = {
        "now": executor.builder,
        "before": CNodesOnly(executor.builder),
        "python": PythonConnections(executor.builder),
    }

    def variant(builder: Any) -> Any:
        async def run() -> None:
            executor.builder = builder
            await call()

        return run

    bodies = []
    for name in ("python", "before", "now"):  # warm up all, end on the real one
        executor.builder = builders[name]
        for _ in range(100):
            await call()
        bodies.append(sent[0])
    if len(set(bodies)) != 1 or b'"errors"' in bodies[0] or b"node" not in bodies[0]:
        raise SystemExit(f"the renderings differ or failed: {bodies[0][:300]!r}")
    number = max(1, requests // 20)
    samples = await interleave_async(
        {name: variant(builder) for name, builder in builders.items()},
        rounds=20,
        numbers=dict.fromkeys(builders, number),
    )
    executor.builder = builders["now"]
    print(f"query: postsConnection(first: {rows}) with author and comments, in process")
    for name in ("python", "before", "now"):
        median = statistics.median(samples[name])
        print(f"{name:>6}: {median * 1e6:8.1f} µs/request (±{spread(samples[name]):.0%})")
    for name in ("python", "before"):
        ratio = paired_ratio(samples[name], samples["now"])
        print(f"{name}/now: {ratio:.3f} (median of 20 paired rounds of {number} requests)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--connection", action="store_true", help="profile postsConnection")
    parser.add_argument("--one", action="store_true", help="profile post(identifier: ...)")
    parser.add_argument(
        "--compare-connection",
        action="store_true",
        help="time postsConnection with nodes by C (now) and by Python (before), interleaved",
    )
    arguments = parser.parse_args()
    asyncio.run(
        _main(
            arguments.dsn,
            arguments.rows,
            arguments.requests,
            connection=arguments.connection,
            compare=arguments.compare_connection,
            one=arguments.one,
        )
    )


if __name__ == "__main__":
    main()
