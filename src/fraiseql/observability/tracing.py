"""OpenTelemetry tracing (optional extra ``otel``): a span per request, children per phase.

Importing this module needs ``opentelemetry-api``; the rest of FraiseQL does not. Spans follow
the semantic conventions: ``graphql.operation.*`` on the request span, ``db.*`` and
``server.*`` on statement spans, whose ``db.query.text`` is the SQL with its ``$n`` parameter
markers (values are never in the statement text). The W3C ``traceparent`` header is read from
the request and written to the response.
"""

from __future__ import annotations

import time
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from fraiseql.observability.observer import Observer
from fraiseql.observability.record import ErrorEvent, RequestRecord

INSTRUMENTATION_NAME = "fraiseql"


class _RequestSpans:
    __slots__ = ("context", "phases", "root")

    def __init__(self, root: Span, context: Context) -> None:
        self.root = root
        self.context = context
        self.phases: list[tuple[str, Span]] = []


class TracingObserver(Observer):
    """Creates spans with a tracer from ``tracer_provider`` (default: the global provider)."""

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        self.tracer = trace.get_tracer(INSTRUMENTATION_NAME, tracer_provider=tracer_provider)
        self.propagator = TraceContextTextMapPropagator()
        self._key = id(self)

    def request_started(self, record: RequestRecord) -> None:
        """Open the request span, as a child of the caller's ``traceparent`` if it sent one."""
        parent = self.propagator.extract(record.headers)
        root = self.tracer.start_span(
            "GraphQL Operation",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": record.method, "url.path": record.path},
        )
        span_context = root.get_span_context()
        if span_context.is_valid:
            record.trace_id = format(span_context.trace_id, "032x")
            record.span_id = format(span_context.span_id, "016x")
        record.state[self._key] = _RequestSpans(root, trace.set_span_in_context(root, parent))

    def phase_started(self, record: RequestRecord, phase: str) -> None:
        """Open the phase's child span."""
        spans: _RequestSpans | None = record.state.get(self._key)
        if spans is not None:
            span = self.tracer.start_span(f"graphql.{phase}", context=spans.context)
            spans.phases.append((phase, span))

    def phase_finished(self, record: RequestRecord, phase: str, seconds: float) -> None:
        """Close the phase's span."""
        spans: _RequestSpans | None = record.state.get(self._key)
        if spans is None:
            return
        for index in range(len(spans.phases) - 1, -1, -1):
            name, span = spans.phases[index]
            if name == phase:
                del spans.phases[index]
                if phase == "parse" and record.cache_hit is not None:
                    span.set_attribute("fraiseql.document_cache.hit", record.cache_hit)
                span.end()
                return

    def statement(
        self,
        record: RequestRecord | None,
        query: str,
        seconds: float,
        error: BaseException | None,
        address: Any,
        database: str | None,
    ) -> None:
        """A client span for the statement, dated from asyncpg's own timing."""
        spans: _RequestSpans | None = record.state.get(self._key) if record else None
        if spans is None:
            return
        end = time.time_ns()
        operation = query.lstrip().split(None, 1)[0].upper() if query.strip() else ""
        attributes: dict[str, Any] = {
            "db.system": "postgresql",
            "db.system.name": "postgresql",
            "db.query.text": query,
            "db.operation.name": operation,
        }
        if database:
            attributes["db.namespace"] = database
        if isinstance(address, tuple) and len(address) >= 2:
            attributes["server.address"] = str(address[0])
            attributes["server.port"] = int(address[1])
        span = self.tracer.start_span(
            f"{operation} {database}".strip() if database else operation or "postgresql",
            context=spans.context,
            kind=SpanKind.CLIENT,
            start_time=end - int(seconds * 1e9),
            attributes=attributes,
        )
        if error is not None:
            sqlstate = getattr(error, "sqlstate", None)
            if sqlstate:
                span.set_attribute("db.response.status_code", sqlstate)
            span.set_attribute("error.type", type(error).__name__)
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=end)

    def error(self, record: RequestRecord, event: ErrorEvent) -> None:
        """An event on the request span; server-side errors also mark it as failed."""
        spans: _RequestSpans | None = record.state.get(self._key)
        if spans is None:
            return
        attributes = {"error.category": event.category, "error.code": event.code}
        if event.error_id:
            attributes["error.id"] = event.error_id
        spans.root.add_event("graphql.error", attributes)
        if event.category != "user":
            spans.root.set_status(Status(StatusCode.ERROR, event.code))

    def request_finished(self, record: RequestRecord) -> None:
        """Name, annotate and end the request span; put ``traceparent`` in the response."""
        spans: _RequestSpans | None = record.state.pop(self._key, None)
        if spans is None:
            return
        root = spans.root
        for _name, span in spans.phases:  # a phase cut short by an exception
            span.end()
        if record.operation_type is not None:
            root.update_name(f"{record.operation_type} {record.operation_name or ''}".strip())
            root.set_attribute("graphql.operation.type", record.operation_type)
            if record.operation_name:
                root.set_attribute("graphql.operation.name", record.operation_name)
        if record.document_hash:
            root.set_attribute("graphql.document.hash", record.document_hash)
        root.set_attribute("http.response.status_code", record.status)
        if record.status >= 500:
            root.set_status(Status(StatusCode.ERROR))
        root.end()
        self.propagator.inject(record.response_headers, context=spans.context)
