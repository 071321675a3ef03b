"""OpenTelemetry spans: one per request with parse, plan, build and database children;
W3C traceparent in and out; trace ids in error extensions in development."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from fraiseql.observability import Observability

from .conftest import POSTS_QUERY, graphql, observed_app, serving

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    yield memory
    memory.clear()


def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    return tracer_provider


def by_name(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


async def test_a_request_span_with_its_children(
    blog_database: str, exporter: InMemorySpanExporter
) -> None:
    observability = Observability(tracing=True, tracer_provider=provider(exporter))
    app = observed_app(blog_database, observability)
    traceparent = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
    async with serving(app) as client:
        response = await graphql(client, POSTS_QUERY, {"limit": 2}, traceparent=traceparent)
    assert response.status_code == 200
    spans = exporter.get_finished_spans()
    [root] = by_name(spans, "query RecentPosts")
    assert root.kind is SpanKind.SERVER
    assert format(root.context.trace_id, "032x") == CALLER_TRACE
    assert root.parent is not None and format(root.parent.span_id, "016x") == CALLER_SPAN
    assert root.attributes is not None
    assert root.attributes["graphql.operation.name"] == "RecentPosts"
    assert root.attributes["graphql.operation.type"] == "query"
    assert root.attributes["http.response.status_code"] == 200
    children = [
        span for span in spans if span.parent and span.parent.span_id == root.context.span_id
    ]
    names = sorted(span.name for span in children)
    assert names == ["SELECT " + blog_database.rsplit("/", 1)[1], "graphql.build",
                     "graphql.parse", "graphql.plan"]  # fmt: skip
    [database] = [span for span in children if span.kind is SpanKind.CLIENT]
    attributes = database.attributes or {}
    assert attributes["db.system"] == "postgresql" and attributes["db.operation.name"] == "SELECT"
    assert "$1" in str(attributes["db.query.text"])  # parameters, never values
    assert attributes["server.address"] == "127.0.0.1" and attributes["server.port"] == 5432
    assert root.start_time is not None and database.start_time is not None
    assert root.start_time <= database.start_time
    assert database.end_time is not None and root.end_time is not None
    assert database.end_time <= root.end_time
    # The response continues the same trace, from the request span.
    out = response.headers["traceparent"]
    assert out == f"00-{CALLER_TRACE}-{format(root.context.span_id, '016x')}-01"


async def test_a_new_trace_without_traceparent_and_errors_marked(
    blog_database: str, exporter: InMemorySpanExporter
) -> None:
    observability = Observability(tracing=True, tracer_provider=provider(exporter))
    app = observed_app(blog_database, observability)
    async with serving(app) as client:
        response = await graphql(client, "query Broken { broken }")
        invalid = await graphql(client, "{ nope }")
    body = response.json()
    assert "traceId" not in body["errors"][0]["extensions"]  # not in production-like mode
    [root] = by_name(exporter.get_finished_spans(), "query Broken")
    assert root.parent is None
    assert root.status.status_code is StatusCode.ERROR
    [event] = root.events
    assert event.attributes is not None and event.attributes["error.category"] == "system"
    [failed] = [
        s
        for s in exporter.get_finished_spans()
        if s.kind is SpanKind.CLIENT and s.status.status_code is StatusCode.ERROR
    ]
    assert "no_such" in str((failed.attributes or {})["db.query.text"])
    assert failed.attributes is not None and failed.attributes["db.response.status_code"] == "42P01"
    trace_id = format(root.context.trace_id, "032x")
    assert response.headers["traceparent"].split("-")[1] == trace_id
    assert invalid.headers["traceparent"]
    [refused] = [s for s in exporter.get_finished_spans() if s.name == "GraphQL Operation"]
    assert refused.status.status_code is StatusCode.UNSET  # a client error is not the server's


async def test_trace_ids_in_error_extensions_in_development(
    blog_database: str, exporter: InMemorySpanExporter
) -> None:
    observability = Observability(tracing=True, tracer_provider=provider(exporter))
    app = observed_app(blog_database, observability, debug=True)
    async with serving(app) as client:
        field_error = await graphql(client, "{ boom }")
        request_error = await graphql(client, "{ nope }")
    trace_id = field_error.headers["traceparent"].split("-")[1]
    assert field_error.json()["errors"][0]["extensions"]["traceId"] == trace_id
    other = request_error.headers["traceparent"].split("-")[1]
    assert request_error.json()["errors"][0]["extensions"]["traceId"] == other
    assert other != trace_id


async def test_malformed_traceparent_starts_a_new_trace(
    blog_database: str, exporter: InMemorySpanExporter
) -> None:
    observability = Observability(tracing=True, tracer_provider=provider(exporter))
    app = observed_app(blog_database, observability)
    async with serving(app) as client:
        response = await graphql(client, "{ __typename }", traceparent="00-zz-bad-01")
    assert response.status_code == 200
    [root] = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert root.parent is None
    assert response.headers["traceparent"].split("-")[1] == format(root.context.trace_id, "032x")
