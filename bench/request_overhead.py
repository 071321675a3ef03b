"""FraiseQL's own cost per request against the floor's, both in this process: no HTTP server.

``python -m bench.request_overhead --dsn postgresql://.../db [--scenario post_by_id]``

Both ASGI applications (the example blog's ``single_tenant_app`` and ``bench.compare.floor``)
are driven directly, one request after the other or ``--concurrency`` at a time, with the same
POST body the side-by-side benchmark sends; the database is the same and so is every statement.
What differs is only the Python (and C) each runs around the statement, so the process CPU per
request of each, and their difference, say what the framework costs, free of the HTTP server's
share and of the other server's noise. Rounds are interleaved; the report is the median per
request of each and the paired ratio. ``--profile`` runs FraiseQL once more under cProfile and
prints the functions with the most own time; ``--only fraiseql --seconds 20`` just drives one
application that long (to record it with an outside profiler such as py-spy).
``--instructions`` counts instructions per request of each with callgrind instead: the same
count for the same code whatever else the machine runs (timings here move by 10 % or more).

The database must hold the example blog (``python -m examples.blog.database --dsn ...``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import itertools
import os
import pstats
import re
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.common import paired_ratio, spread
from bench.compare import scenarios

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

SCOPE_HEADERS = [
    (b"host", b"127.0.0.1"),
    (b"content-type", b"application/json"),
    (b"accept", b"*/*"),
    (b"user-agent", b"wrk"),
]


async def lifespan(app: App) -> Callable[[], Awaitable[None]]:
    """Start ``app``'s lifespan; returns the coroutine function that shuts it down."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put)
    )
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise SystemExit(f"startup failed: {started}")

    async def shutdown() -> None:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task

    return shutdown


def requester(app: App, make_body: Callable[[], bytes]) -> Callable[[], Awaitable[bytes]]:
    """A coroutine function sending one POST /graphql with a body of ``make_body`` to ``app``."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def one() -> bytes:
        body = make_body()
        message = {"type": "http.request", "body": body, "more_body": False}
        request_scope = {
            **scope,
            "headers": [*SCOPE_HEADERS, (b"content-length", b"%d" % len(body))],
        }
        sent = False
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return message
            await asyncio.sleep(3600)  # a client that stays connected
            return {"type": "http.disconnect"}

        async def send(event: dict[str, Any]) -> None:
            if event["type"] == "http.response.start" and event["status"] != 200:
                raise SystemExit(f"status {event['status']}")
            if event["type"] == "http.response.body":
                chunks.append(event.get("body", b""))

        await app(request_scope, receive, send)
        return b"".join(chunks)

    return one


async def batch(one: Callable[[], Awaitable[bytes]], number: int, concurrency: int) -> None:
    """``number`` requests, ``concurrency`` in flight at a time."""
    if concurrency == 1:
        for _ in range(number):
            await one()
        return

    async def worker(count: int) -> None:
        for _ in range(count):
            await one()

    share, rest = divmod(number, concurrency)
    await asyncio.gather(*(worker(share + (i < rest)) for i in range(concurrency)))


async def main(args: argparse.Namespace) -> None:
    from examples.blog.app import build

    from bench.compare.floor import Floor

    parameters = await scenarios.parameters(args.dsn)
    document = scenarios.documents("fraiseql", parameters)[args.scenario]
    template = scenarios.body("fraiseql", parameters, args.scenario)
    created = itertools.count()
    run = f"{os.getpid()}-{time.time_ns()}"  # another run may write to the same database

    def make_body() -> bytes:  # a create needs a new identifier each time
        if args.scenario != "create_post":
            return template.encode()
        identifier = f"{scenarios.CREATED_PREFIX}overhead-{run}-{next(created)}"
        return template.replace(scenarios.IDENT, identifier).encode()

    apps: dict[str, App] = {"fraiseql": build(args.dsn, tenancy=False), "floor": Floor(args.dsn)}
    shutdowns = [await lifespan(app) for app in apps.values()]
    try:
        ones = {name: requester(app, make_body) for name, app in apps.items()}
        answers = {name: await one() for name, one in ones.items()}
        if args.scenario == "create_post":  # equal but for the identifier and the new id
            answers = {n: re.sub(rb'"(id|identifier)":"[^"]*"', b"", a) for n, a in answers.items()}
        if answers["fraiseql"] != answers["floor"]:
            raise SystemExit(f"the answers differ for {document!r}:\n{answers}")
        cpu: dict[str, list[float]] = {name: [] for name in apps}
        wall: dict[str, list[float]] = {name: [] for name in apps}
        for name in apps:  # warm-up
            await batch(ones[name], args.number, args.concurrency)
        if args.only:  # under an outside profiler: one app, no measurement
            if args.batches:
                for _ in range(args.batches):
                    await batch(ones[args.only], args.number, args.concurrency)
                return
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline:
                await batch(ones[args.only], args.number, args.concurrency)
            return
        for round_ in range(args.rounds):
            order = list(apps) if round_ % 2 == 0 else list(reversed(apps))
            for name in order:
                cpu_before, wall_before = time.process_time(), time.perf_counter()
                await batch(ones[name], args.number, args.concurrency)
                cpu[name].append((time.process_time() - cpu_before) / args.number * 1e6)
                wall[name].append((time.perf_counter() - wall_before) / args.number * 1e6)
        print(
            f"{args.scenario}, concurrency {args.concurrency}, {args.rounds} rounds of "
            f"{args.number} requests, per request (median, ±spread):"
        )
        for name in apps:
            print(
                f"  {name:>8}: CPU {statistics.median(cpu[name]):7.1f} us "
                f"(±{spread(cpu[name]):.0%})   wall {statistics.median(wall[name]):7.1f} us"
            )
        extra = [f - b for f, b in zip(cpu["fraiseql"], cpu["floor"], strict=True)]
        print(
            f"  FraiseQL / floor CPU: {paired_ratio(cpu['fraiseql'], cpu['floor']):.2f}x, "
            f"framework CPU {statistics.median(extra):.1f} us per request; "
            f"wall {paired_ratio(wall['fraiseql'], wall['floor']):.2f}x"
        )
        if args.profile:
            # CPU time: the waits for the database are not counted.
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            await batch(ones["fraiseql"], args.number, args.concurrency)
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())
    finally:
        for shutdown in shutdowns:
            await shutdown()
        if args.scenario == "create_post":
            from bench.compare.run import cleanup

            await cleanup(args.dsn)


def count_instructions(args: argparse.Namespace) -> None:
    """Instructions per request of each app: two callgrind runs each, their difference divided.

    Each run starts the process, warms both apps up and sends ``--number`` requests per batch;
    the runs differ only in the number of batches, so startup and warm-up cancel out.
    """
    import shutil
    import subprocess
    import sys
    import tempfile

    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    counts: dict[str, float] = {}
    few, many = 1, 4
    for name in ("fraiseql", "floor"):
        totals = []
        for batches in (few, many):
            with tempfile.TemporaryDirectory() as tmp:
                command = [
                    "valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
                    sys.executable, "-m", "bench.request_overhead", "--dsn", args.dsn,
                    "--scenario", args.scenario, "--concurrency", str(args.concurrency),
                    "--number", str(args.number), "--only", name, "--batches", str(batches),
                ]  # fmt: skip
                done = subprocess.run(command, capture_output=True, text=True, check=True)
                found = re.search(r"Collected : (\d+)", done.stderr)
                if found is None:
                    raise SystemExit(f"no callgrind total in:\n{done.stderr[-2000:]}")
                totals.append(int(found.group(1)))
        counts[name] = (totals[1] - totals[0]) / ((many - few) * args.number)
        print(f"  {name:>8}: {counts[name]:10.0f} instructions per request")
    print(
        f"  FraiseQL / floor: {counts['fraiseql'] / counts['floor']:.2f}x, "
        f"framework {counts['fraiseql'] - counts['floor']:.0f} instructions per request"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True, help="a database holding the example blog")
    parser.add_argument("--scenario", default="post_by_id", choices=scenarios.SCENARIOS[:-1])
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--number", type=int, default=2000, help="requests per round and app")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--only", choices=("fraiseql", "floor"), help="only drive this app (for py-spy)"
    )
    parser.add_argument("--seconds", type=float, default=10, help="how long --only drives it")
    parser.add_argument("--batches", type=int, default=0, help="--only: this many rounds instead")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions per request of each app with callgrind instead of timing",
    )
    parser.add_argument("--sort", default="tottime", help="cProfile sort key")
    parser.add_argument("--top", type=int, default=40)
    return parser.parse_args()


if __name__ == "__main__":
    import uvloop

    arguments = parse_args()
    if arguments.instructions:
        count_instructions(arguments)
    else:
        uvloop.install()
        asyncio.run(main(arguments))
