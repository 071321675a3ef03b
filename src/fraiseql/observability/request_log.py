"""Structured request logs: one record per request, as JSON lines or as a readable line."""

from __future__ import annotations

import datetime
import logging
from typing import Any, TextIO

import orjson

from fraiseql.observability.observer import Observer
from fraiseql.observability.record import RequestRecord

REQUEST_LOGGER = "fraiseql.request"
FIELDS_ATTRIBUTE = "fraiseql"
"""The ``LogRecord`` attribute that holds a request's fields (``extra={"fraiseql": ...}``)."""


class RequestLogObserver(Observer):
    """Logs one INFO record per request (WARNING when it has errors) to ``fraiseql.request``.

    The fields travel as ``record.fraiseql`` so that any formatter can render them; use
    :class:`JsonLinesFormatter` in production and :class:`ReadableFormatter` in development.
    Variables are redacted by the instrumentation's :class:`Redaction` (by default all values).
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger(REQUEST_LOGGER)

    def request_finished(self, record: RequestRecord) -> None:
        """Write the request's line."""
        level = logging.WARNING if record.errors else logging.INFO
        if not self.logger.isEnabledFor(level):
            return
        fields: dict[str, Any] = {
            "request_id": record.request_id,
            "method": record.method,
            "path": record.path,
            "status": record.status,
            "operation": record.operation_name,
            "operation_type": record.operation_type,
            "document_hash": record.document_hash,
            "cache_hit": record.cache_hit,
            "duration_ms": round(record.duration * 1000, 3),
            "db_ms": round(record.db_seconds * 1000, 3),
            "db_statements": record.db_statements,
        }
        if record.tenant is not None:
            fields["tenant"] = record.tenant
        if record.trace_id is not None:
            fields["trace_id"] = record.trace_id
        if record.variables:
            fields["variables"] = record.instrumentation.redacted_variables(record)
        if record.errors:
            fields["errors"] = [
                {"category": e.category, "code": e.code, "error_id": e.error_id}
                for e in record.errors
            ]
        self.logger.log(level, "graphql request", extra={FIELDS_ATTRIBUTE: fields})


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request's fields.

    The exception text is added when there is one. Works for every logger, not only requests.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        line: dict[str, Any] = {
            "ts": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, FIELDS_ATTRIBUTE, None) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class ReadableFormatter(logging.Formatter):
    """A line a developer reads in a terminal: ``12:00:01 INFO  200 query posts 3.2ms ...``."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as text; request fields are laid out as ``key=value`` after a summary."""
        when = datetime.datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        fields = dict(getattr(record, FIELDS_ATTRIBUTE, None) or {})
        if not fields:
            text = f"{when} {record.levelname:<7} {record.name}: {record.getMessage()}"
        else:
            summary = " ".join(
                str(part)
                for part in (
                    fields.pop("status", ""),
                    fields.pop("operation_type", None) or fields.get("method", ""),
                    fields.pop("operation", None) or "(anonymous)",
                    f"{fields.pop('duration_ms', 0)}ms",
                )
            )
            rest = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
            text = f"{when} {record.levelname:<7} {summary} {rest}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def configure_logging(
    format: str = "json", *, level: int = logging.INFO, stream: TextIO | None = None
) -> logging.Handler:
    """Send FraiseQL's logs (``fraiseql.*``) to ``stream`` (stderr) as JSON lines or text.

    Returns the handler it installed on the ``fraiseql`` logger, replacing one it installed
    before; applications with their own logging setup can use the formatters instead.
    """
    if format not in ("json", "text"):
        raise ValueError(f"log format must be 'json' or 'text', not {format!r}")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLinesFormatter() if format == "json" else ReadableFormatter())
    handler.set_name("fraiseql-observability")
    package_logger = logging.getLogger("fraiseql")
    for old in [h for h in package_logger.handlers if h.get_name() == handler.get_name()]:
        package_logger.removeHandler(old)
    package_logger.addHandler(handler)
    package_logger.setLevel(level)
    return handler
