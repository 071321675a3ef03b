"""Cancelling the work of a request when its client disconnects (DESIGN.md section 8)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from starlette.types import Receive

from fraiseql.asgi.errors import ClientDisconnectedError
from fraiseql.timers import delay_queue

T = TypeVar("T")


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


WATCH_DELAY = 0.05
"""Seconds a request runs before its client is watched for a disconnect.

Most requests are answered sooner, and a delayed call (in the shared queue of
:mod:`fraiseql.timers`) costs far less than the watcher task, which is created only for the
requests still running then. A disconnect that came earlier is seen at
once when the watcher starts (``receive()`` returns it), so a slow query is still cancelled,
at most this much later.
"""


async def cancel_on_disconnect(
    work: Awaitable[T], receive: Receive, *, watch_after: float = WATCH_DELAY
) -> T:
    """Await ``work``, cancelling it if the client disconnects first (``ClientDisconnectedError``).

    Call it only once the request body has been read: from then on every ``receive()`` message
    is either an empty ``http.request`` (ignored) or the ``http.disconnect`` being watched for.
    ``work`` runs in the calling task; once it has run for ``watch_after`` seconds, a watcher
    task cancels that task on disconnect, which is what cancels its database query. Plain
    asyncio rather than an anyio task group: this runs on every request, and a task group's
    cancel scopes cost more than the rest of the transport.
    """
    task = asyncio.current_task()
    assert task is not None, "cancel_on_disconnect runs inside an asyncio task"
    watch = _Watch(task, receive)
    timer = delay_queue(watch_after).call_later(watch.start)
    try:
        result = await work
    except asyncio.CancelledError:
        if not watch.disconnected:
            raise
        task.uncancel()  # our own cancellation, turned into an error the transport handles
        raise ClientDisconnectedError from None
    finally:
        watch.finished = True
        timer.cancel()
        watcher = watch.watcher
        if watcher is not None:
            watcher.remove_done_callback(watch.on_watcher_done)
            watcher.cancel()
    if watch.disconnected:  # the work swallowed our cancellation and finished anyway
        task.uncancel()
    return result


class _Watch:
    """The disconnect watch of one request: started late, it cancels the request's task."""

    __slots__ = ("disconnected", "finished", "receive", "task", "watcher")

    def __init__(self, task: asyncio.Task[object], receive: Receive) -> None:
        self.task = task
        self.receive = receive
        self.finished = False
        self.disconnected = False
        self.watcher: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the watcher task (the request has run ``watch_after`` seconds)."""
        if self.finished:
            return
        self.watcher = asyncio.get_running_loop().create_task(_wait_for_disconnect(self.receive))
        self.watcher.add_done_callback(self.on_watcher_done)

    def on_watcher_done(self, done: asyncio.Task[None]) -> None:
        """The client went away (unless the watcher was cancelled): cancel the request."""
        if self.finished or done.cancelled() or done.exception() is not None:
            return
        self.disconnected = True
        self.task.cancel()
