"""GraphQL over Server-Sent Events, distinct connections mode.

https://github.com/enisdenjo/graphql-sse/blob/master/PROTOCOL.md: a GET or POST request like
any GraphQL-over-HTTP one, with ``Accept: text/event-stream``, answered by a stream of ``next``
events (each a GraphQL response) ended by a ``complete`` event. Errors found before execution
(parse, validation, variables) come as a ``next`` event too, since an ``EventSource`` cannot
read the body of a 4xx. The client ends a subscription by closing the connection, which
cancels it. A comment line is sent every ``keepalive`` seconds of silence so that proxies keep
the connection open. A transport only: operations run through the executor as over HTTP.
A subscription of an authenticated caller ends at ``valid_until`` (the token's expiry) with
an ``UNAUTHENTICATED`` error.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.responses import StreamingResponse

from fraiseql.asgi.errors import masked_internal_error
from fraiseql.asgi.ws import SubscriptionExecutor
from fraiseql.execution.outcome import GraphQLRequest, RequestError, ServiceUnavailable
from fraiseql.subscriptions.hub import SlowConsumerError

KEEPALIVE_SECONDS = 12.0
COMPLETE_EVENT = b"event: complete\ndata:\n\n"
_KEEPALIVE = b":\n\n"


def _next(body: bytes) -> bytes:
    # A JSON body never holds a raw newline (orjson and the builders escape them), so it is
    # one ``data:`` line.
    return b"event: next\ndata: " + body + b"\n\n"


def _errors(errors: list[dict[str, Any]]) -> bytes:
    return _next(b'{"errors":' + orjson.dumps(errors) + b"}")


class _Expired(Exception):  # noqa: N818 - a control-flow signal
    """The caller's token expired during the subscription."""


async def _with_keepalive(
    stream: AsyncIterator[bytes], keepalive: float, valid_until: float | None = None
) -> AsyncIterator[bytes | None]:
    """The stream's items, and ``None`` after each ``keepalive`` seconds without one.

    Raises ``_Expired`` once the Unix time ``valid_until`` has passed.
    """
    pending: asyncio.Task[bytes] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(stream.__anext__())
            timeout = keepalive
            if valid_until is not None:
                left = valid_until - time.time()
                if left <= 0:
                    raise _Expired
                timeout = min(timeout, left)
            done, _ = await asyncio.wait({pending}, timeout=timeout)
            if not done:
                if valid_until is not None and time.time() >= valid_until:
                    raise _Expired
                yield None
                continue
            task, pending = pending, None
            try:
                yield task.result()
            except StopAsyncIteration:
                return
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, Exception):
                await pending


async def event_stream(
    executor: SubscriptionExecutor,
    request: GraphQLRequest,
    context: dict[str, Any],
    *,
    method: str,
    keepalive: float = KEEPALIVE_SECONDS,
    valid_until: float | None = None,
) -> AsyncIterator[bytes]:
    """The SSE body of one operation: ``next`` events then ``complete``.

    A subscription ends at the Unix time ``valid_until`` (the caller's token expiry), if any.
    """
    stream: AsyncIterator[bytes] | None = None
    try:
        prepared = executor.prepare(request)
        if prepared.operation_type == "mutation" and method == "GET":
            message = "Mutations cannot be sent with GET: use POST."
            yield _errors([{"message": message, "extensions": {"code": "METHOD_NOT_ALLOWED"}}])
        elif prepared.operation_type == "subscription":
            stream = executor.subscribe(prepared, request, context)
            async for body in _with_keepalive(stream, keepalive, valid_until):
                yield _KEEPALIVE if body is None else _next(body)
        else:
            result = await executor.execute(prepared, request, context)
            yield _next(result.body)
    except RequestError as error:
        yield _errors(error.errors)
    except ServiceUnavailable as error:
        yield _errors([{"message": error.message, "extensions": {"code": "SERVICE_UNAVAILABLE"}}])
    except _Expired:
        message = "the token has expired"
        yield _errors([{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}])
    except SlowConsumerError:
        message = "The subscriber fell too far behind; subscribe again."
        yield _errors([{"message": message, "extensions": {"code": "SLOW_CONSUMER"}}])
    except Exception as error:
        yield _errors([masked_internal_error(error, "SSE operation")])
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
    yield COMPLETE_EVENT


def event_stream_response(body: AsyncIterator[bytes]) -> StreamingResponse:
    """The streaming response of :func:`event_stream`, not cached nor buffered by proxies."""
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
