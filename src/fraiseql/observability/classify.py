"""Sorting errors into user / system / unexpected, and the fingerprint that groups repeats."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import asyncpg

from fraiseql.observability.record import Category, ErrorEvent

SYSTEM_CODES = frozenset(
    {
        "SERVICE_UNAVAILABLE",
        "TRANSACTION_CONFLICT",
        "INVALID_RESPONSE_VALUE",
        "INVALID_MUTATION_RESULT",
    }
)
"""Codes that need an operator: the database, the read models or a function misbehaved."""

UNEXPECTED_CODES = frozenset({"INTERNAL_SERVER_ERROR"})
"""Masked errors: an exception nobody planned for (a bug until shown otherwise)."""


def category_of_code(code: str) -> Category:
    """The category of a client-visible error code; anything not listed is the client's."""
    if code in UNEXPECTED_CODES:
        return "unexpected"
    if code in SYSTEM_CODES:
        return "system"
    return "user"


def category_of_exception(error: BaseException) -> Category:
    """A masked exception: database and connection failures are system errors, others bugs."""
    if isinstance(error, asyncpg.PostgresError | asyncpg.InterfaceError | OSError | TimeoutError):
        return "system"
    return "unexpected"


def event_from_entry(
    entry: dict[str, Any], exceptions: dict[str, BaseException] | None = None
) -> ErrorEvent:
    """The :class:`ErrorEvent` of a formatted error entry, using the masked exception if known."""
    extensions = entry.get("extensions") or {}
    code = str(extensions.get("code") or "UNKNOWN")
    error_id = extensions.get("errorId")
    exception = (exceptions or {}).get(error_id) if error_id else None
    category = category_of_code(code)
    message = str(entry.get("message", ""))
    sqlstate = None
    if exception is not None:
        category = category_of_exception(exception)
        message = f"{type(exception).__name__}: {exception}"
        sqlstate = getattr(exception, "sqlstate", None)
    path = entry.get("path")
    return ErrorEvent(
        category=category,
        code=code,
        message=message,
        path=list(path) if isinstance(path, Sequence) and not isinstance(path, str) else None,
        sqlstate=sqlstate,
        error_id=error_id,
        exception=exception,
    )


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\b\d+(\.\d+)?\b")
_HEX = re.compile(r"\b[0-9a-f]{16,}\b")


def normalize_message(message: str) -> str:
    """The message with its variable parts (quoted text, ids, numbers) replaced by markers."""
    message = _UUID.sub("<uuid>", message)
    message = _QUOTED.sub("<str>", message)
    message = _HEX.sub("<hex>", message)
    return _NUMBER.sub("<n>", message)


def fingerprint(event: ErrorEvent, operation_name: str | None) -> str:
    """A stable id for "the same error": category, code, SQLSTATE, message shape, where.

    List indexes in the path become ``*`` so that the same failure on item 3 and item 7 is one
    entry.
    """
    path = ".".join("*" if isinstance(part, int) else str(part) for part in event.path or ())
    parts = (
        event.category,
        event.code,
        event.sqlstate or "",
        normalize_message(event.message),
        operation_name or "",
        path,
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
