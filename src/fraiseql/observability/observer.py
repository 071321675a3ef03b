"""The one hook surface: an :class:`Observer` is called at well-defined points of a request."""

from __future__ import annotations

from typing import Any

from fraiseql.observability.record import ErrorEvent, RequestRecord


class Observer:
    """Base class of logs, metrics, tracing and error tracking; every hook does nothing.

    The transport and the executor call, in this order: :meth:`request_started`; for each
    phase (``parse`` = document cache lookup with parse and validation on a miss, ``plan``,
    ``build`` once per root field) :meth:`phase_started` then :meth:`phase_finished`;
    :meth:`statement` for each SQL statement the request ran (asyncpg reports it on the next
    event-loop turn, so it may come after a later phase started, but always before the end);
    :meth:`error` for each error of the response; :meth:`request_finished` last, when
    ``status`` and ``duration`` are set.
    Hooks must not raise: the instrumentation logs and swallows what they raise.
    """

    def request_started(self, record: RequestRecord) -> None:
        """A request arrived; ``request_id``, ``method``, ``path`` and ``headers`` are set."""

    def phase_started(self, record: RequestRecord, phase: str) -> None:
        """A phase of the request begins."""

    def phase_finished(self, record: RequestRecord, phase: str, seconds: float) -> None:
        """A phase of the request ended after ``seconds``."""

    def statement(
        self,
        record: RequestRecord | None,
        query: str,
        seconds: float,
        error: BaseException | None,
        address: Any,
        database: str | None,
    ) -> None:
        """A pooled connection ran ``query`` (bind parameters only, never values).

        ``record`` is ``None`` for statements outside an instrumented request (health checks).
        """

    def error(self, record: RequestRecord, event: ErrorEvent) -> None:
        """The response carries this error (or the request failed with it)."""

    def request_finished(self, record: RequestRecord) -> None:
        """The response is ready; ``status``, ``duration`` and the database time are final."""
