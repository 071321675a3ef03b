"""``Observability``: what to turn on, and how it is wired into an application."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute, Route

from fraiseql.observability.error_recorder import DEFAULT_CATEGORIES, ErrorRecorder
from fraiseql.observability.instrumentation import Instrumentation
from fraiseql.observability.observer import Observer
from fraiseql.observability.record import Category
from fraiseql.observability.redaction import Redaction
from fraiseql.observability.request_log import RequestLogObserver

if TYPE_CHECKING:
    from fraiseql.schema.schema import Schema

MISSING_EXTRA = "{feature} needs the '{extra}' extra: pip install 'fraiseql[{extra}]' ({error})"


@dataclass
class Observability:
    """The observability of one app; hand it to :func:`fraiseql.create_app`.

    - ``log_requests``: one structured log record per request (``fraiseql.request``);
    - ``metrics``: Prometheus metrics at ``metrics_path`` (extra ``metrics``), in ``registry``
      when given, else in a registry of the app's own;
    - ``tracing``: OpenTelemetry spans with ``tracer_provider`` (else the global one), extra
      ``otel``; ``expose_trace_ids`` puts ``traceId`` in error entries (default: in ``debug``);
    - ``record_errors``: errors of ``error_categories`` written to ``fraiseql_errors`` in
      ``errors_dsn`` (default: the schema's database), the table created at startup when
      ``install_errors_table``;
    - ``redaction`` of variables in logs and the error table; ``tenant_key`` names the
      context entry that holds the tenant; ``observers`` adds observers of your own.
    """

    log_requests: bool = True
    metrics: bool = False
    metrics_path: str = "/metrics"
    registry: Any = None
    tracing: bool = False
    tracer_provider: Any = None
    expose_trace_ids: bool | None = None
    record_errors: bool = False
    errors_dsn: str | None = None
    install_errors_table: bool = False
    error_queue_size: int = 1000
    error_categories: Sequence[Category] = DEFAULT_CATEGORIES
    redaction: Redaction = field(default_factory=Redaction)
    tenant_key: str | None = "tenant_id"
    observers: Sequence[Observer] = ()

    def install(self, schema: Schema) -> InstalledObservability:
        """Build the observers for ``schema``: instrumentation, routes, startup/shutdown hooks."""
        installed = InstalledObservability()
        observers: list[Observer] = []
        if self.log_requests:
            observers.append(RequestLogObserver())
        if self.tracing:
            try:
                from fraiseql.observability.tracing import TracingObserver
            except ImportError as error:
                raise RuntimeError(
                    MISSING_EXTRA.format(feature="tracing", extra="otel", error=error)
                ) from error
            observers.append(TracingObserver(self.tracer_provider))
        if self.record_errors:
            dsn = self.errors_dsn or (schema.database.settings.dsn if schema.database else None)
            if dsn is None:
                raise ValueError("record_errors needs errors_dsn= or a schema with a database")
            recorder = ErrorRecorder(
                dsn,
                max_queue=self.error_queue_size,
                categories=self.error_categories,
                install=self.install_errors_table,
            )
            observers.append(recorder)
            installed.recorder = recorder
            installed.on_startup.append(recorder.start)
            installed.on_shutdown.append(recorder.stop)
        if self.metrics:
            self._install_metrics(schema, installed, observers)
        observers.extend(self.observers)
        debug = bool(getattr(schema.executor, "debug", False))
        installed.instrumentation = Instrumentation(
            observers,
            redaction=self.redaction,
            tenant_key=self.tenant_key,
            expose_trace_ids=debug if self.expose_trace_ids is None else self.expose_trace_ids,
        )
        if schema.database is not None and observers:
            # Every observer reads the database time; asyncpg times each statement for it.
            schema.database.observe_statements = True
            schema.database.query_observers.append(installed.instrumentation.statement)
        return installed

    def _install_metrics(
        self, schema: Schema, installed: InstalledObservability, observers: list[Observer]
    ) -> None:
        try:
            from fraiseql.observability.metrics import (
                CountersCollector,
                MetricsObserver,
                RuntimeCollector,
                metrics_endpoint,
            )
        except ImportError as error:
            raise RuntimeError(
                MISSING_EXTRA.format(feature="metrics", extra="metrics", error=error)
            ) from error
        metrics = MetricsObserver(self.registry)
        metrics.watch(RuntimeCollector(schema.database, schema.executor.documents))
        if installed.recorder is not None:
            metrics.watch(CountersCollector("fraiseql_error_records", installed.recorder.counters))
        if schema.cache is not None:
            metrics.watch(CountersCollector("fraiseql_response_cache", schema.cache.counters))
        if schema.events is not None:
            metrics.watch(CountersCollector("fraiseql_subscription", schema.subscription_counters))
        if schema.replicas is not None:
            metrics.watch(CountersCollector("fraiseql_read_replicas", schema.replicas.counters))
        observers.append(metrics)
        installed.metrics = metrics
        installed.routes.append(
            Route(
                self.metrics_path,
                metrics_endpoint(metrics.registry),
                methods=["GET"],
                name="metrics",
                include_in_schema=False,
            )
        )


@dataclass
class InstalledObservability:
    """What :meth:`Observability.install` built for one app."""

    instrumentation: Instrumentation | None = None
    routes: list[BaseRoute] = field(default_factory=list)
    on_startup: list[Callable[[], Any]] = field(default_factory=list)
    on_shutdown: list[Callable[[], Any]] = field(default_factory=list)
    recorder: ErrorRecorder | None = None
    metrics: Any = None
