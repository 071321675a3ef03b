"""Reading a request body under a size limit and a time limit, buffering no more than the limit."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import Message, Receive

from fraiseql.asgi.errors import ClientDisconnectedError, TransportError, bad_request
from fraiseql.deadline import Deadline

DEFAULT_MAX_BODY_SIZE = 1 << 20  # 1 MiB (DESIGN.md section 8)
DEFAULT_BODY_TIMEOUT = 10.0
"""Seconds a request body may take to arrive in full (a slow or stalled client gets 408)."""


def _too_large(limit: int) -> TransportError:
    return TransportError(
        413, f"The request body is larger than {limit} bytes.", code="PAYLOAD_TOO_LARGE"
    )


def check_content_length(headers: Headers, limit: int) -> None:
    """Refuse early (413) when a declared ``Content-Length`` is over ``limit``; 400 if invalid."""
    raw = headers.get("content-length")
    if raw is None:
        return
    if not (raw.isascii() and raw.isdigit()):  # "²".isdigit() is true, int("²") fails
        raise bad_request("The Content-Length header is not a non-negative integer.")
    if int(raw) > limit:
        raise _too_large(limit)


async def read_body(
    receive: Receive, limit: int, seconds: float | None = DEFAULT_BODY_TIMEOUT
) -> bytes:
    """Receive the whole body, raising 413 as soon as more than ``limit`` bytes have arrived.

    Chunks are received one at a time and the reading stops at the chunk that crosses the limit,
    so an oversized body is never held in memory. A disconnect raises ``ClientDisconnectedError``.
    A body still incomplete after ``seconds`` (``None``: no limit) is refused with 408
    and ``Connection: close``: a client that declares a length and sends less would otherwise
    hold its connection, and a slot of the server, for as long as it likes.
    """
    if seconds is None:
        return await _read(receive, limit)
    try:
        async with Deadline(seconds):
            return await _read(receive, limit)
    except TimeoutError:
        raise body_timeout_error(seconds) from None


def body_timeout_error(seconds: float) -> TransportError:
    """The 408 of a body that did not arrive within ``seconds``; the connection is closed."""
    return TransportError(
        408,
        f"The request body did not arrive within {seconds:g} seconds.",
        code="REQUEST_TIMEOUT",
        headers={"Connection": "close"},
    )


async def _read(receive: Receive, limit: int) -> bytes:
    body = bytearray()
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnectedError
        chunk: bytes = message.get("body", b"")
        if len(body) + len(chunk) > limit:
            raise _too_large(limit)
        body += chunk
        if not message.get("more_body", False):
            return bytes(body)
