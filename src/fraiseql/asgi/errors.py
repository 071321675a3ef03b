"""Transport-level rejections and the GraphQL-shaped bodies that carry them."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from fraiseql.execution.error_bounds import shorten_message

logger = logging.getLogger("fraiseql.asgi")

BAD_REQUEST = "BAD_REQUEST"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class TransportError(Exception):
    """An HTTP request that is refused before any GraphQL execution starts.

    It is not a GraphQL request error: it is raised for requests that are not well-formed
    GraphQL-over-HTTP requests (bad JSON, wrong parameter types), for unsupported methods or
    media types, and for oversized bodies. ``status`` is the HTTP status to answer with, ``code``
    goes into the error's ``extensions.code`` and ``headers`` are added to the response.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str = BAD_REQUEST,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers: dict[str, str] = dict(headers or {})

    def body(self) -> bytes:
        """The GraphQL-shaped JSON body describing this error."""
        return error_body(self.message, self.code)


class ClientDisconnectedError(Exception):
    """The client went away before the response was sent; nothing more should be sent."""


def bad_request(message: str) -> TransportError:
    """A 400 error for a request that is not a well-formed GraphQL-over-HTTP request."""
    return TransportError(400, message)


def error_body(message: str, code: str, **extensions: Any) -> bytes:
    """Serialize ``{"errors": [{"message": ..., "extensions": {"code": ..., ...}}]}``.

    The message may echo the request (a parameter name): it is shortened like every error message
    (:func:`~fraiseql.execution.error_bounds.shorten_message`).
    """
    error = {"message": shorten_message(message), "extensions": {"code": code, **extensions}}
    return orjson.dumps({"errors": [error]})


def request_errors_body(errors: list[dict[str, Any]]) -> bytes:
    """Serialize the body of a GraphQL request error: ``errors`` only, no ``data`` entry.

    ``errors`` come from a :class:`~fraiseql.execution.outcome.RequestError`, already bounded.
    """
    return orjson.dumps({"errors": errors})


def masked_internal_error(error: BaseException, what: str) -> dict[str, Any]:
    """The GraphQL error entry of an unexpected exception, masked behind a new error id.

    The exception goes to the log (and to the error observers) under that id; the client
    gets the id only. ``what`` says in the log what failed.
    """
    from fraiseql.observability import hooks

    error_id = uuid.uuid4().hex
    hooks.internal_error(error_id, error)
    logger.error("%s failed (errorId=%s)", what, error_id, exc_info=error)
    return {
        "message": "Internal server error",
        "extensions": {"code": INTERNAL_SERVER_ERROR, "errorId": error_id},
    }
