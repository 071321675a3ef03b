"""What observability costs per request: off, logs + metrics, OpenTelemetry, everything.

Each variant is the example app built by ``create_app`` with its own pool on one throw-away
database, driven in-process through its ASGI interface (no HTTP client, no sockets, so the
framework's own work is not diluted by the client's). Variants are interleaved round by round
(see bench/common.py); ratios are medians of per-round ratios against "off".

The cost of the hooks when observability is off (no instrumentation) is measured directly:
one context-variable read and a ``None`` test per hook site a request passes.

    python -m bench.observability [--rounds 15] [--output bench/results/observability.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import statistics
import timeit
from collections.abc import Sequence
from typing import Any

import orjson
from examples.blog.schema import MUTATIONS, QUERIES, TYPES
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

import fraiseql
from bench.common import (
    RESULTS_DIR,
    bench_database,
    calibrate_async,
    interleave_async,
    log,
    machine_info,
    paired_ratio,
    spread,
    write_json,
)
from fraiseql.observability import Observability, configure_logging
from fraiseql.observability.record import CURRENT

QUERY = "query Recent { posts(limit: 20) { id title author { name } } }"
HOOK_SITES = 4
"""Hook sites a successful one-root-field request passes with observability off: prepare,
execute, the root field's build, and the transport's ``instrumentation is None`` test."""


class DiscardingExporter(SpanExporter):
    """Accepts spans and drops them: the SDK does all its work, nothing leaves the process."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def variants(dsn: str) -> dict[str, Any]:
    """The apps compared, by name."""
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(DiscardingExporter()))

    def app(observability: Observability | None) -> Any:
        return fraiseql.create_app(
            types=TYPES, queries=QUERIES, mutations=MUTATIONS, database_url=dsn,
            observability=observability,
        )  # fmt: skip

    return {
        "off": app(None),
        "logs+metrics": app(Observability(metrics=True)),
        "otel": app(Observability(log_requests=False, tracing=True,
                                  tracer_provider=tracer_provider)),
        "logs+metrics+otel": app(Observability(metrics=True, tracing=True,
                                               tracer_provider=tracer_provider)),
    }  # fmt: skip


def asgi_request(app: Any) -> Any:
    """A coroutine function sending one POST of QUERY to ``app`` and checking the answer."""
    body = orjson.dumps({"query": QUERY})
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
        "root_path": "", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000),
        "headers": [(b"content-type", b"application/json"), (b"accept", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }  # fmt: skip
    never = asyncio.Event()

    async def call() -> None:
        sent = False
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await never.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(dict(scope), receive, send)
        if status != 200:
            raise RuntimeError(f"status {status}")

    return call


def disabled_hook_cost_ns() -> float:
    """Nanoseconds of the hooks a request passes with observability off."""

    def hooks() -> None:
        for _ in range(HOOK_SITES):
            if CURRENT.get() is not None:
                raise AssertionError

    number = 200_000
    best = min(timeit.repeat(hooks, number=number, repeat=7))
    return best / number * 1e9


async def run(rounds: int) -> dict[str, Any]:
    """Measure every variant; the result as a JSON-able dict."""
    async with bench_database(organisations=5, users=200, posts=2000) as dsn:
        apps = variants(dsn)
        null = io.StringIO()
        handler = configure_logging("json", stream=null)
        async with contextlib.AsyncExitStack() as stack:
            for app in apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            calls = {name: asgi_request(app) for name, app in apps.items()}
            numbers = {name: await calibrate_async(call, 0.25) for name, call in calls.items()}
            samples = await interleave_async(calls, rounds=rounds, numbers=numbers)
            info = await machine_info(dsn)
        logging.getLogger("fraiseql").removeHandler(handler)
        lines = null.getvalue().count("\n")
    baseline = samples["off"]
    per_request = {name: statistics.median(values) for name, values in samples.items()}
    hook_ns = disabled_hook_cost_ns()
    return {
        "machine": info,
        "query": QUERY,
        "rounds": rounds,
        "log_lines_written": lines,
        "per_request_us": {name: round(value * 1e6, 1) for name, value in per_request.items()},
        "requests_per_second": {name: round(1 / value) for name, value in per_request.items()},
        "spread": {name: round(spread(values), 3) for name, values in samples.items()},
        "time_ratio_vs_off": {
            name: round(paired_ratio(values, baseline), 3) for name, values in samples.items()
        },
        "disabled_hooks_ns_per_request": round(hook_ns, 1),
        "disabled_hooks_share_of_request": round(hook_ns / (per_request["off"] * 1e9), 6),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--output", default=str(RESULTS_DIR / "observability.json"))
    arguments = parser.parse_args()
    result = asyncio.run(run(arguments.rounds))
    for name, micros in result["per_request_us"].items():
        rate, ratio = result["requests_per_second"][name], result["time_ratio_vs_off"][name]
        log(
            f"{name:<18} {micros:>8.1f} µs/request  {rate:>6} req/s  x{ratio:.3f} vs off"
            f"  (spread ±{result['spread'][name]:.1%})"
        )
    log(
        f"hooks with observability off: {result['disabled_hooks_ns_per_request']} ns/request "
        f"({result['disabled_hooks_share_of_request']:.4%} of a request)"
    )
    if arguments.output:
        from pathlib import Path

        write_json(Path(arguments.output), result)


if __name__ == "__main__":
    main()
