"""Prometheus metrics (optional extra ``metrics``): requests, errors, phases, database, pool, cache.

Importing this module needs ``prometheus-client``; the rest of FraiseQL does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from fraiseql.observability.observer import Observer
from fraiseql.observability.record import ErrorEvent, RequestRecord

if TYPE_CHECKING:
    from fraiseql.db.pool import Database
    from fraiseql.execution.document_cache import DocumentCache

LATENCY_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
)
OTHER_OPERATIONS = "(other)"
ANONYMOUS = "(anonymous)"
NO_OPERATION = "(none)"


class MetricsObserver(Observer):
    """Counts and times requests into a Prometheus registry (a fresh one unless given).

    Operation names come from clients, so at most ``max_operations`` distinct names become
    label values; later ones are counted under ``(other)``. The process' CPU, memory and file
    descriptors (``process_*``) are exported too, as the global registry does.
    """

    def __init__(
        self, registry: CollectorRegistry | None = None, *, max_operations: int = 100
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.max_operations = max_operations
        self._operations: set[str] = set()
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        if self.registry is not REGISTRY:
            ProcessCollector(registry=self.registry)
        labels = ("operation", "operation_type")
        self.requests = Counter(
            "fraiseql_requests",
            "GraphQL HTTP requests by operation and HTTP status.",
            (*labels, "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "fraiseql_request_duration_seconds",
            "Time from request start to response ready.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.db_time = Histogram(
            "fraiseql_request_db_seconds",
            "Database time of one request (sum of its statements).",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "fraiseql_errors",
            "Errors in responses, by category (user, system, unexpected) and code.",
            ("category", "code"),
            registry=self.registry,
        )
        self.phases = Histogram(
            "fraiseql_phase_duration_seconds",
            "Time spent per request phase: parse (cache lookup), plan, build.",
            ("phase",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.statements = Histogram(
            "fraiseql_db_statement_duration_seconds",
            "Time of each SQL statement run by a pooled connection.",
            ("outcome",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def _operation(self, record: RequestRecord) -> str:
        if record.operation_type is None:
            return NO_OPERATION
        name = record.operation_name or ANONYMOUS
        if name in self._operations:
            return name
        if len(self._operations) >= self.max_operations:
            return OTHER_OPERATIONS
        self._operations.add(name)
        return name

    def _child(self, metric: Any, *labels: str) -> Any:
        # labels() takes a lock and builds a key each time; the children are few: keep them.
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def phase_finished(self, record: RequestRecord, phase: str, seconds: float) -> None:
        """Time the phase."""
        self._child(self.phases, phase).observe(seconds)

    def statement(
        self,
        record: RequestRecord | None,
        query: str,
        seconds: float,
        error: BaseException | None,
        address: Any,
        database: str | None,
    ) -> None:
        """Time the statement."""
        self._child(self.statements, "error" if error is not None else "ok").observe(seconds)

    def error(self, record: RequestRecord, event: ErrorEvent) -> None:
        """Count the error."""
        self._child(self.errors, event.category, event.code).inc()

    def request_finished(self, record: RequestRecord) -> None:
        """Count and time the request."""
        operation = self._operation(record)
        operation_type = record.operation_type or NO_OPERATION
        self._child(self.requests, operation, operation_type, str(record.status)).inc()
        self._child(self.latency, operation, operation_type).observe(record.duration)
        if record.operation_type is not None:
            self._child(self.db_time, operation, operation_type).observe(record.db_seconds)

    def watch(self, collector: Collector) -> None:
        """Add a collector (pool, document cache, error recorder) to this registry."""
        self.registry.register(collector)


class RuntimeCollector(Collector):
    """Read at scrape time: the pool's size and use, the document cache's hits and misses.

    Nothing is counted on the request path for these; the numbers come from the objects.
    """

    def __init__(self, database: Database | None, documents: DocumentCache) -> None:
        self.database = database
        self.documents = documents

    def collect(self) -> Iterator[Metric]:
        """The current values."""
        documents = self.documents
        yield CounterMetricFamily(
            "fraiseql_document_cache_hits", "Document cache hits.", value=documents.hits
        )
        yield CounterMetricFamily(
            "fraiseql_document_cache_misses",
            "Document cache misses (documents parsed and validated).",
            value=documents.misses,
        )
        yield GaugeMetricFamily(
            "fraiseql_document_cache_entries", "Documents in the cache.", value=len(documents)
        )
        pool = getattr(self.database, "_pool", None)
        size = idle = waiting = 0
        maximum = self.database.settings.max_size if self.database is not None else 0
        if pool is not None and self.database is not None:
            size, idle = pool.get_size(), self.database.idle_connections
            # Request sessions wait in Database.acquire (first come, first served), in front of
            # asyncpg's own queue.
            waiting = self.database.waiting
        yield GaugeMetricFamily("fraiseql_pool_size", "Open connections.", value=size)
        yield GaugeMetricFamily("fraiseql_pool_idle", "Idle connections.", value=idle)
        yield GaugeMetricFamily(
            "fraiseql_pool_in_use", "Connections held by requests.", value=size - idle
        )
        yield GaugeMetricFamily("fraiseql_pool_max", "Maximum pool size.", value=maximum)
        yield GaugeMetricFamily(
            "fraiseql_pool_waiting", "Requests waiting for a connection.", value=waiting
        )
        yield CounterMetricFamily(
            "fraiseql_pool_refused",
            "Requests answered 503 at once because too many were waiting for a connection.",
            value=self.database.refused if self.database is not None else 0,
        )
        admission = getattr(self.database, "admission", None)
        yield CounterMetricFamily(
            "fraiseql_admission_refused",
            "Requests answered 503 before being read: the wait for a connection stayed too long.",
            value=admission.refused if admission is not None else 0,
        )
        yield CounterMetricFamily(
            "fraiseql_admission_overloaded_intervals",
            "Intervals in which every wait for a connection was above the queue target.",
            value=admission.overloaded_intervals if admission is not None else 0,
        )
        yield GaugeMetricFamily(
            "fraiseql_admission_overloaded",
            "1 while new requests that would wait too long for a connection are refused.",
            value=int(admission.overloaded) if admission is not None else 0,
        )
        yield GaugeMetricFamily(
            "fraiseql_pool_queue_delay_seconds",
            "The mean wait for a connection over the last interval in which requests got one.",
            value=admission.queue_delay if admission is not None else 0,
        )


class CountersCollector(Collector):
    """Exports counters an object keeps itself (the error recorder's written/dropped/failed)."""

    def __init__(self, prefix: str, read: Callable[[], dict[str, tuple[str, str, float]]]) -> None:
        self.prefix = prefix
        self.read = read

    def collect(self) -> Iterator[Metric]:
        """One metric per entry: name → (kind, help, value)."""
        for name, (kind, help_text, value) in self.read().items():
            family = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            yield family(f"{self.prefix}_{name}", help_text, value=value)


def metrics_endpoint(registry: CollectorRegistry) -> Callable[[Request], Any]:
    """A Starlette endpoint serving ``registry`` in Prometheus' text format."""

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
