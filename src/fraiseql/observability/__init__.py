"""Observability: request logs, error tracking in PostgreSQL, tracing, metrics and health.

The core (logs, error table, health) needs nothing beyond FraiseQL's own dependencies;
metrics need the ``metrics`` extra (prometheus-client) and tracing the ``otel`` extra
(opentelemetry-api and -sdk). See ``docs/guides/observability.md``.
"""

from fraiseql.observability.config import InstalledObservability, Observability
from fraiseql.observability.error_store import (
    ERRORS_SQL,
    install_errors_table,
    list_errors,
    resolve_error,
    set_error_status,
)
from fraiseql.observability.health import health_routes, readiness
from fraiseql.observability.instrumentation import Instrumentation
from fraiseql.observability.observer import Observer
from fraiseql.observability.record import ErrorEvent, RequestRecord
from fraiseql.observability.redaction import Redaction
from fraiseql.observability.request_log import (
    JsonLinesFormatter,
    ReadableFormatter,
    RequestLogObserver,
    configure_logging,
)

__all__ = [
    "ERRORS_SQL",
    "ErrorEvent",
    "InstalledObservability",
    "Instrumentation",
    "JsonLinesFormatter",
    "Observability",
    "Observer",
    "ReadableFormatter",
    "Redaction",
    "RequestLogObserver",
    "RequestRecord",
    "configure_logging",
    "health_routes",
    "install_errors_table",
    "list_errors",
    "readiness",
    "resolve_error",
    "set_error_status",
]
