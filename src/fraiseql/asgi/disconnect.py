"""Cancelling the work of a request when its client disconnects (DESIGN.md section 8)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import anyio
from starlette.types import Receive

from fraiseql.asgi.errors import ClientDisconnectedError

T = TypeVar("T")


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def cancel_on_disconnect(work: Awaitable[T], receive: Receive) -> T:
    """Await ``work``, cancelling it if the client disconnects first (``ClientDisconnectedError``).

    Call it only once the request body has been read: from then on every ``receive()`` message
    is either an empty ``http.request`` (ignored) or the ``http.disconnect`` being watched for.
    Cancelling the executor's task is what cancels its database query.
    """
    done = False
    disconnected = False
    result: list[T] = []
    error: Exception | None = None
    async with anyio.create_task_group() as group:

        async def watch() -> None:
            nonlocal disconnected
            await _wait_for_disconnect(receive)
            if not done:
                disconnected = True
                group.cancel_scope.cancel()

        group.start_soon(watch)
        try:
            result.append(await work)
        except Exception as exc:
            error = exc
        done = True
        group.cancel_scope.cancel()
    if disconnected:
        raise ClientDisconnectedError
    if error is not None:
        raise error
    return result[0]
