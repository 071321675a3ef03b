"""A time limit on a block of the current task, cheaper than ``asyncio.timeout``.

Every request reads its body and takes a pooled connection under a time limit. Python 3.11's
``asyncio.timeout`` keeps a small state machine in Python (several method calls on entry and
exit) and a loop timer of its own; :class:`Deadline` does the same job with a call in the shared
queue of its length (:mod:`fraiseql.timers`): on expiry it cancels the task, and on exit it
turns that cancellation, and only that one, into ``TimeoutError``. A cancellation from
elsewhere (the client went away, the server stops) passes through unchanged, as it does with
``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from fraiseql.timers import Delayed, delay_queue


class Deadline:
    """``async with Deadline(seconds):`` raises ``TimeoutError`` if the block takes longer."""

    __slots__ = ("_call", "_cancelling", "_expired", "_seconds", "_task")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._expired = False

    async def __aenter__(self) -> Deadline:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("Deadline must be used inside a task")
        self._task = task
        self._cancelling = task.cancelling()
        self._call: Delayed = delay_queue(self._seconds).call_later(self._expire)
        return self

    def _expire(self) -> None:
        self._expired = True
        self._task.cancel()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._call.cancel()
        if (
            self._expired
            and self._task.uncancel() <= self._cancelling
            and exc_type is asyncio.CancelledError
        ):
            raise TimeoutError from exc
