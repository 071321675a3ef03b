"""What the executor hands back to a transport: the prepared operation and the response bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from fraiseql.execution.error_bounds import bound_errors

OperationType = Literal["query", "mutation", "subscription"]


@dataclass(slots=True)
class GraphQLRequest:
    """One GraphQL request as a transport decoded it (GET parameters or a POST body).

    Read-only by convention: not ``frozen``, because a frozen dataclass sets each field through
    ``object.__setattr__``, a cost every request paid (about a microsecond) for a guarantee
    nothing relies on.
    """

    query: str | None
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None
    document_id: str | None = None
    """A persisted document's id sent instead of ``query`` (``documentId``: trusted documents)."""


class RequestError(Exception):
    """The request cannot be executed: no ``data`` entry will be in the response.

    Raised for documents that do not parse or validate, unknown operation names and variable
    values that do not coerce. ``errors`` are GraphQL-formatted error dicts, ready to serialize;
    they are bounded here (messages, count and size: see :func:`bound_errors`), so every transport
    and every observer sees what the client is sent.
    """

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        errors = bound_errors(errors)
        super().__init__(errors[0]["message"] if errors else "request error")
        self.errors = errors


class ServiceUnavailable(Exception):  # noqa: N818 - named after the HTTP status it becomes
    """The database cannot serve the request now (pool exhausted, server down).

    Transports answer 503 with ``Retry-After: retry_after`` seconds; nothing was executed.
    ``unreachable`` tells a server that cannot be reached (refused or lost connection) from one
    that is only busy: a read replica that cannot be reached is left out for a while.
    """

    def __init__(self, message: str, *, retry_after: int = 1, unreachable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.unreachable = unreachable


@dataclass(frozen=True, slots=True)
class ExecutionResponse:
    """The serialized response of an executed operation.

    ``body`` is the complete JSON response (``{"errors": [...], "data": ...}``). ``data_is_null``
    tells that a non-null root field made ``data`` null; the response is still a 200 under both
    media types (GraphQL-over-HTTP, "Status Codes"), but logs and metrics may want to know.
    """

    body: bytes
    has_errors: bool = False
    data_is_null: bool = False
    headers: dict[str, str] = field(default_factory=dict)


class PreparedOperation:
    """A parsed, validated operation, selected by name, ready to execute many times.

    The executor builds it (from its document cache); a transport only reads
    ``operation_type`` to refuse mutations on GET before anything runs.
    """

    __slots__ = ("operation_type",)

    def __init__(self, operation_type: OperationType) -> None:
        self.operation_type: OperationType = operation_type
