"""The calls the request path makes where it cannot hold the record: each is a no-op without one.

They read :data:`~fraiseql.observability.record.CURRENT`; without instrumentation that is a
context-variable read and a ``None`` test.
"""

from __future__ import annotations

from typing import Any

from fraiseql.observability.classify import category_of_code, category_of_exception
from fraiseql.observability.record import CURRENT, ErrorEvent


def remember_exception(error_id: str, error: BaseException) -> None:
    """A masked exception got ``error_id``: keep it so its category and SQLSTATE can be told."""
    record = CURRENT.get()
    if record is not None:
        record.exceptions[error_id] = error


def request_errors(errors: list[dict[str, Any]]) -> None:
    """The request failed with these GraphQL request errors (parse, validation, variables)."""
    record = CURRENT.get()
    if record is not None:
        record.instrumentation.response_errors(record, errors)


def request_refused(code: str, message: str) -> None:
    """The transport refused the request (4xx) or the database could not serve it (503)."""
    record = CURRENT.get()
    if record is not None:
        event = ErrorEvent(category_of_code(code), code, message)
        record.instrumentation.report(record, event)


def internal_error(error_id: str, error: BaseException) -> None:
    """An unexpected exception escaped to the transport and was masked as a 500."""
    record = CURRENT.get()
    if record is not None:
        event = ErrorEvent(
            category_of_exception(error),
            "INTERNAL_SERVER_ERROR",
            f"{type(error).__name__}: {error}",
            sqlstate=getattr(error, "sqlstate", None),
            error_id=error_id,
            exception=error,
        )
        record.instrumentation.report(record, event)
