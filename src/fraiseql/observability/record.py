"""What one request looks like to observers: a mutable record, reachable from anywhere in it.

The transport opens a :class:`RequestRecord` when an instrumented request starts and puts it in
the :data:`CURRENT` context variable; the executor, the error formatter and the pool's statement
logger find it there. Without instrumentation the variable stays ``None`` and every hook is a
context-variable read and a ``None`` test.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from fraiseql.observability.instrumentation import Instrumentation

Category = Literal["user", "system", "unexpected"]
"""Who has to act: the client (user), the operators (system), or the developers (unexpected)."""

CURRENT: ContextVar[RequestRecord | None] = ContextVar("fraiseql_request", default=None)
"""The record of the request being served in this context, when it is instrumented."""


@dataclass(slots=True)
class ErrorEvent:
    """One error of a request, categorized; ``exception`` is kept for the server side only."""

    category: Category
    code: str
    message: str
    path: list[str | int] | None = None
    sqlstate: str | None = None
    error_id: str | None = None
    exception: BaseException | None = None


@dataclass(slots=True)
class RequestRecord:
    """The facts of one request, filled in as it goes through the transport and the executor."""

    instrumentation: Instrumentation
    request_id: str
    method: str
    path: str
    headers: dict[str, str]
    started: float = field(default_factory=time.perf_counter)
    started_ns: int = field(default_factory=time.time_ns)
    operation_name: str | None = None
    operation_type: str | None = None
    document_hash: str | None = None
    cache_hit: bool | None = None
    variables: dict[str, Any] | None = None
    tenant: str | None = None
    status: int = 200
    duration: float = 0.0
    db_seconds: float = 0.0
    db_statements: int = 0
    errors: list[ErrorEvent] = field(default_factory=list)
    trace_id: str | None = None
    span_id: str | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    exceptions: dict[str, BaseException] = field(default_factory=dict)
    """Masked exceptions by error id, so their category and SQLSTATE can be told later."""
    state: dict[int, Any] = field(default_factory=dict)
    """Per-observer state (spans, timers), keyed by ``id(observer)``."""
    phase_started: dict[str, float] = field(default_factory=dict)

    def phase_start(self, phase: str) -> None:
        """A phase (``parse``, ``plan``, ``build``) begins."""
        self.phase_started[phase] = time.perf_counter()
        self.instrumentation.notify("phase_started", self, phase)

    def phase_end(self, phase: str) -> None:
        """The phase begun last under this name ends."""
        seconds = time.perf_counter() - self.phase_started.pop(phase, time.perf_counter())
        self.instrumentation.notify("phase_finished", self, phase, seconds)
