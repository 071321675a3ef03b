"""Delayed calls that share one event-loop timer per delay: ``loop.call_later`` for the hot path.

Every request arms up to three timers (its body's time limit, the wait for a pooled connection,
the start of the disconnect watch) and nearly always cancels them a fraction of a millisecond
later. An event-loop timer per arm costs a timer handle, its entry in the loop's schedule and
its cancellation: about a tenth of what the framework adds to a lookup by id (callgrind,
``bench/request_overhead.py --instructions``). Calls of one *same* delay come due in the order
they were made, so :class:`DelayQueue` keeps them in a FIFO and only its head has a loop timer:
a call costs an append, its cancellation a flag, and the timer is re-armed only when it fires.
The calls run at the same moments ``call_later`` would run them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

_RESOLUTION = 0.001


class Delayed:
    """A call made by :meth:`DelayQueue.call_later`; :meth:`cancel` drops it."""

    __slots__ = ("callback", "when")

    def __init__(self, callback: Callable[[], object], when: float) -> None:
        self.callback: Callable[[], object] | None = callback
        self.when = when

    def cancel(self) -> None:
        """Do not make the call (a call already made is not undone)."""
        self.callback = None


class DelayQueue:
    """Calls after one fixed delay, on the running loop, sharing one timer at a time.

    Usable from any loop: a queue first used on another loop (tests run one per test) forgets
    the calls pending on the old one.
    """

    __slots__ = ("_calls", "_handle", "_loop", "delay")

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._calls: deque[Delayed] = deque()
        self._handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def call_later(self, callback: Callable[[], object]) -> Delayed:
        """Call ``callback`` once the delay has passed, unless the returned call is cancelled."""
        loop = asyncio.get_running_loop()
        calls = self._calls
        if loop is not self._loop:
            if self._handle is not None:
                self._handle.cancel()
            self._loop, self._handle = loop, None
            for stale in calls:  # never made: their owners see them cancelled
                stale.callback = None
            calls.clear()
        while calls and calls[0].callback is None:  # finished calls, dropped as they pass
            calls.popleft()
        call = Delayed(callback, loop.time() + self.delay)
        calls.append(call)
        if self._handle is None:
            self._handle = loop.call_at(call.when, self._fire)
        return call

    def _fire(self) -> None:
        loop = self._loop
        assert loop is not None
        self._handle = None
        calls = self._calls
        # A loop timer may fire a little before its time (uvloop counts in milliseconds): what is
        # due within the millisecond is due now, else the timer would be re-armed in a spin.
        now = loop.time() + _RESOLUTION
        while calls:
            call = calls[0]
            if call.callback is not None and call.when > now:
                self._handle = loop.call_at(call.when, self._fire)
                return
            calls.popleft()
            callback, call.callback = call.callback, None
            if callback is not None:
                callback()

    def __len__(self) -> int:
        return len(self._calls)


_QUEUES: dict[float, DelayQueue] = {}
_MAX_QUEUES = 64


def delay_queue(delay: float) -> DelayQueue:
    """The shared queue of ``delay`` (one per distinct delay; past a few dozen, a new one)."""
    queue = _QUEUES.get(delay)
    if queue is None:
        queue = DelayQueue(delay)
        if len(_QUEUES) < _MAX_QUEUES:
            _QUEUES[delay] = queue
    return queue
