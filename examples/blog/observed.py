"""The example blog with every observability feature on: what ``deploy/`` runs.

- JSON request logs on stderr; Prometheus metrics at ``/metrics`` (with one custom, business
  metric of the app's own: requests by kind of client); errors recorded in ``fraiseql_errors``;
- traces exported over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (Jaeger, Tempo...).

Run it: ``python -m examples.blog.observed --host 0.0.0.0 --port 8000`` (database from
``FRAISEQL_DATABASE_URL``, loaded with the example data when it has none).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry, Counter
from starlette.applications import Starlette
from starlette.requests import Request

import fraiseql
from examples.blog.app import context as blog_context
from examples.blog.schema import MUTATIONS, QUERIES, TYPES
from fraiseql.cache import MemoryCache
from fraiseql.observability import Observability, configure_logging


def client_kind(user_agent: str | None) -> str:
    """A small, closed set of label values: never a raw header as a label."""
    agent = (user_agent or "").lower()
    for kind in ("curl", "python", "mozilla", "grafana"):
        if kind in agent:
            return "browser" if kind == "mozilla" else kind
    return "other"


def tracer_provider() -> Any:
    """An OTLP-exporting tracer provider when an endpoint is configured, else ``None``."""
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    service = os.environ.get("OTEL_SERVICE_NAME", "fraiseql-blog")
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def build(database_url: str | None = None) -> Starlette:
    """The observed blog app on ``database_url`` (default: ``FRAISEQL_DATABASE_URL``)."""
    registry = CollectorRegistry()
    clients = Counter(
        "blog_requests_by_client",
        "GraphQL requests of the blog by kind of client (a business metric of the app).",
        ("client",),
        registry=registry,
    )

    async def context(request: Request) -> dict[str, Any]:
        clients.labels(client_kind(request.headers.get("user-agent"))).inc()
        return await blog_context(request)

    provider = tracer_provider()
    observability = Observability(
        metrics=True,
        registry=registry,
        tracing=provider is not None,
        tracer_provider=provider,
        record_errors=True,
        install_errors_table=True,
    )
    return fraiseql.create_app(
        types=TYPES,
        queries=QUERIES,
        mutations=MUTATIONS,
        database_url=database_url,
        context_getter=context,
        observability=observability,
        cache=MemoryCache(),  # the response cache's metrics feed the cache dashboard
    )


def main(argv: list[str] | None = None) -> None:
    """Load the example data if needed, then serve until stopped."""
    from examples.blog.serve import prepare_database

    parser = argparse.ArgumentParser(prog="python -m examples.blog.observed", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--log-format", choices=("json", "text"), default="json")
    arguments = parser.parse_args(argv)
    configure_logging(arguments.log_format)
    dsn = asyncio.run(prepare_database(False, arguments.posts))
    config = uvicorn.Config(
        build(dsn), host=arguments.host, port=arguments.port, log_level="warning", lifespan="on"
    )
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run()
    logging.shutdown()


if __name__ == "__main__":
    main()
