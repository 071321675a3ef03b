"""Errors as clients see them: spec-shaped dicts, internal details masked behind an error id.

What the client receives is bounded too (message lengths, error count and size): see
:mod:`fraiseql.execution.error_bounds`.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from graphql import GraphQLError

from fraiseql.observability.hooks import remember_exception

logger = logging.getLogger("fraiseql.execution")

INTERNAL_MESSAGE = "Internal server error"


class FraiseQLError(Exception):
    """An error meant for the client: its message and ``code`` are shown as they are.

    Raise it from a resolver (or let FraiseQL raise it) for expected failures such as bad input
    or a missing permission; any other exception is masked as an internal error.
    """

    def __init__(self, message: str, *, code: str = "BAD_USER_INPUT", **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extensions = extensions


def format_exception(
    error: BaseException,
    *,
    path: list[str | int] | None = None,
    locations: list[dict[str, int]] | None = None,
    debug: bool = False,
) -> dict[str, Any]:
    """The response entry for an exception raised while resolving a field."""
    entry: dict[str, Any]
    if isinstance(error, FraiseQLError):
        entry = {"message": error.message}
        extensions: dict[str, Any] = {"code": error.code, **error.extensions}
    elif isinstance(error, GraphQLError) and error.original_error is None:
        entry = {"message": error.message}
        extensions = dict(error.extensions or {})
    else:
        error_id = uuid.uuid4().hex
        remember_exception(error_id, error)
        logger.error(
            "internal error %s at %s",
            error_id,
            path,
            exc_info=(type(error), error, error.__traceback__),
        )
        entry = {"message": f"{INTERNAL_MESSAGE}: {error}" if debug else INTERNAL_MESSAGE}
        extensions = {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id}
    if locations:
        entry["locations"] = locations
    if path is not None:
        entry["path"] = path
    if extensions:
        entry["extensions"] = extensions
    return entry


def format_graphql_error(error: GraphQLError, code: str | None = None) -> dict[str, Any]:
    """The response entry of a graphql-core error (parse, validation, coercion)."""
    formatted: dict[str, Any] = dict(error.formatted)
    if code is not None:
        extensions = dict(formatted.get("extensions") or {})
        extensions.setdefault("code", code)
        formatted["extensions"] = extensions
    return formatted
