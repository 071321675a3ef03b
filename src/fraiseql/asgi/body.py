"""Reading a request body under a size limit and a time limit, buffering no more than the limit."""

from __future__ import annotations

from collections.abc import Awaitable, Generator
from types import CoroutineType
from typing import Any

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
    # A server has usually received a small body whole before the application runs, and then
    # receive() answers without waiting: nothing to time. Only once it waits is it timed.
    message, waiting = _receive_at_once(receive)
    if (
        message is not None
        and message["type"] == "http.request"
        and not message.get("more_body", False)
    ):
        chunk: bytes = message.get("body", b"")
        if len(chunk) > limit:
            raise _too_large(limit)
        return bytes(chunk)
    try:
        async with Deadline(seconds):
            return await _read(receive, limit, message, waiting)
    except TimeoutError:
        raise body_timeout_error(seconds) from None


def _receive_at_once(receive: Receive) -> tuple[Message | None, Awaitable[Message] | None]:
    """The next message if ``receive()`` gives it without waiting, else what to await for it.

    A coroutine is run up to its first wait; the rest of it is awaited later, where it is timed.
    """
    awaitable = receive()
    if not isinstance(awaitable, CoroutineType):
        return None, awaitable
    try:
        yielded = awaitable.send(None)
    except StopIteration as done:
        return done.value, None
    return None, _Rest(awaitable, yielded)


class _Rest:
    """The rest of a coroutine run up to its first wait (on ``yielded``), to await."""

    __slots__ = ("_coroutine", "_yielded")

    def __init__(self, coroutine: CoroutineType[Any, Any, Message], yielded: Any) -> None:
        self._coroutine = coroutine
        self._yielded = yielded

    def __await__(self) -> Generator[Any, Any, Message]:
        # What ``yield from`` does for a fresh coroutine, from where this one stopped: each
        # value it yields goes to the task, and what the task sends or throws (a cancellation)
        # goes back into it.
        coroutine, value = self._coroutine, self._yielded
        while True:
            try:
                sent = yield value
            except BaseException as error:
                try:
                    value = coroutine.throw(error)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
            else:
                try:
                    value = coroutine.send(sent)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]


def body_timeout_error(seconds: float) -> TransportError:
    """The 408 of a body that did not arrive within ``seconds``; the connection is closed."""
    return TransportError(
        408,
        f"The request body did not arrive within {seconds:g} seconds.",
        code="REQUEST_TIMEOUT",
        headers={"Connection": "close"},
    )


async def _read(
    receive: Receive,
    limit: int,
    first: Message | None = None,
    waiting: Awaitable[Message] | None = None,
) -> bytes:
    """The whole body, its first message already received (``first``) or being awaited.

    ``waiting`` is the awaitable that gives the first message (see :func:`_receive_at_once`).
    """
    body = bytearray()
    while True:
        message: Message
        if first is not None:
            message, first = first, None
        elif waiting is not None:
            message, waiting = await waiting, None
        else:
            message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnectedError
        chunk: bytes = message.get("body", b"")
        if len(body) + len(chunk) > limit:
            raise _too_large(limit)
        body += chunk
        if not message.get("more_body", False):
            return bytes(body)
