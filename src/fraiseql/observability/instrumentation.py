"""Fan-out from the request path to the observers, and the calls the transport makes."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fraiseql.observability.classify import event_from_entry
from fraiseql.observability.observer import Observer
from fraiseql.observability.record import CURRENT, ErrorEvent, RequestRecord
from fraiseql.observability.redaction import Redaction

logger = logging.getLogger("fraiseql.observability")

REQUEST_ID_HEADER = "x-request-id"
HOOKS = (
    "request_started", "phase_started", "phase_finished", "statement", "error",
    "request_finished",
)  # fmt: skip
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class Instrumentation:
    """The observers of one application and the settings they share.

    ``tenant_key`` names the context entry that holds the tenant (logged when present);
    ``expose_trace_ids`` adds ``extensions.traceId`` to error entries (for development).
    """

    def __init__(
        self,
        observers: Sequence[Observer],
        *,
        redaction: Redaction | None = None,
        tenant_key: str | None = "tenant_id",
        expose_trace_ids: bool = False,
    ) -> None:
        self.observers: tuple[Observer, ...] = tuple(observers)
        # Per hook, the bound methods of the observers that override it: a hook nobody
        # implements costs nothing per request.
        self._hooks: dict[str, tuple[Callable[..., None], ...]] = {
            hook: tuple(
                getattr(observer, hook)
                for observer in self.observers
                if getattr(type(observer), hook) is not getattr(Observer, hook)
            )
            for hook in HOOKS
        }
        self.redaction = redaction or Redaction()
        self.tenant_key = tenant_key
        self.expose_trace_ids = expose_trace_ids

    # -- the transport's calls --------------------------------------------------------------

    def begin(self, method: str, path: str, headers: Mapping[str, str]) -> RequestRecord:
        """Open the record of a request and make it current."""
        request_id = headers.get(REQUEST_ID_HEADER, "")
        if not _REQUEST_ID.fullmatch(request_id):  # echoed back and logged: plain tokens only
            request_id = uuid.uuid4().hex
        record = RequestRecord(self, request_id, method, path, dict(headers))
        CURRENT.set(record)
        self.notify("request_started", record)
        return record

    async def end(self, record: RequestRecord, status: int) -> dict[str, str]:
        """Close the record; returns the headers to add to the response."""
        # asyncpg reports statements with call_soon: one loop turn lets the last ones arrive.
        await asyncio.sleep(0)
        record.status = status
        record.duration = time.perf_counter() - record.started
        self.notify("request_finished", record)
        CURRENT.set(None)
        record.response_headers.setdefault(REQUEST_ID_HEADER, record.request_id)
        return record.response_headers

    # -- what the executor and the error paths report ------------------------------------------

    def describe(self, record: RequestRecord, document: str, cache_hit: bool) -> None:
        """The document the request runs, and whether the document cache knew it."""
        record.document_hash = hashlib.sha256(document.encode()).hexdigest()[:16]
        record.cache_hit = cache_hit

    def executing(
        self,
        record: RequestRecord,
        operation_name: str | None,
        operation_type: str,
        variables: dict[str, Any] | None,
        context: Mapping[str, Any],
    ) -> None:
        """Execution of the selected operation starts with these raw variables and context."""
        record.operation_name = operation_name
        record.operation_type = operation_type
        record.variables = variables
        if self.tenant_key is not None:
            tenant = context.get(self.tenant_key)
            record.tenant = None if tenant is None else str(tenant)

    def response_errors(self, record: RequestRecord, entries: list[dict[str, Any]]) -> None:
        """The error entries of a response, before it is serialized."""
        for entry in entries:
            self.report(record, event_from_entry(entry, record.exceptions))
            if self.expose_trace_ids and record.trace_id:
                extensions = entry.setdefault("extensions", {})
                extensions["traceId"] = record.trace_id

    def report(self, record: RequestRecord, event: ErrorEvent) -> None:
        """One error of the request, to every observer."""
        record.errors.append(event)
        self.notify("error", record, event)

    def statement(self, logged: Any) -> None:
        """One statement a pooled connection ran (the pool's query observer)."""
        record = CURRENT.get()
        if record is not None:
            record.db_seconds += logged.elapsed
            record.db_statements += 1
        database = getattr(logged.conn_params, "database", None)
        self.notify(
            "statement", record, logged.query, logged.elapsed, logged.exception,
            logged.conn_addr, database,
        )  # fmt: skip

    def redacted_variables(self, record: RequestRecord) -> dict[str, Any] | None:
        """The request's variables as they may be written down."""
        return self.redaction.apply(record.variables)

    def notify(self, hook: str, *arguments: Any) -> None:
        """Call ``hook`` on every observer; what an observer raises is logged, not raised."""
        for method in self._hooks[hook]:
            try:
                method(*arguments)
            except Exception:
                logger.exception(
                    "observer %r failed in %s", getattr(method, "__self__", method), hook
                )
