"""Cancelling the work of a request when its client disconnects (DESIGN.md section 8)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

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
    ``work`` runs in the calling task; a watcher task cancels that task on disconnect, which is
    what cancels its database query. Plain asyncio rather than an anyio task group: this runs
    on every request, and a task group's cancel scopes cost more than the rest of the transport.
    """
    task = asyncio.current_task()
    assert task is not None, "cancel_on_disconnect runs inside an asyncio task"
    finished = False
    disconnected = False

    def on_watcher_done(watcher: asyncio.Task[None]) -> None:
        nonlocal disconnected
        if finished or watcher.cancelled() or watcher.exception() is not None:
            return
        disconnected = True
        task.cancel()

    watcher = asyncio.get_running_loop().create_task(_wait_for_disconnect(receive))
    watcher.add_done_callback(on_watcher_done)
    try:
        result = await work
    except asyncio.CancelledError:
        if not disconnected:
            raise
        task.uncancel()  # our own cancellation, turned into an error the transport handles
        raise ClientDisconnectedError from None
    finally:
        finished = True
        watcher.remove_done_callback(on_watcher_done)
        watcher.cancel()
    if disconnected:  # the work swallowed our cancellation and finished anyway
        task.uncancel()
    return result
