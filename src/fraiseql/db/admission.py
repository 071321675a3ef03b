"""Admission by time in queue: refuse new requests that would wait too long for a connection.

The signal is how long requests wait for a pooled connection, measured where the session
acquires one (:meth:`AdmissionController.enter` and :meth:`~AdmissionController.leave`). As in
CoDel, a burst that drains within an ``interval`` is fine and a standing queue is not: the pool
is *overloaded* after an interval in which its queue never drained (at every acquisition, other
requests were still waiting) and the requests waited, on average, longer than ``target``. It
stays so until ``hold`` seconds passed without such an interval: once refused, clients that
honour ``Retry-After`` come back together a second later, and the queue they would form must
still be bounded.

While overloaded, a new request is refused when it would wait longer than the target: when
the requests waiting now, divided by the rate at which the last interval handed connections
out, come to more than ``target`` seconds. At most ``max_refusal`` of the requests of an
interval are refused, the others queue: against clients that send a new request as soon as
they get an answer, each refusal is replaced at once by another request, and refusing nearly
everything (as a bound on the waiting count does) spends the server on refusals
(``bench/overload.py``). Clients that honour ``Retry-After`` go away instead, and the bound on
the share is rarely reached.

CoDel itself takes the minimum wait over the interval. That assumes a first-come first-served
queue, and asyncpg's pool is not one: a released connection goes to whoever asks first, so
under overload some requests get one at once while others wait up to the acquire timeout
(an instrumented run of the blog server under wrk at 200 connections: every 100 ms window
had waits under 1 ms while their median was about 130 ms). The minimum then says nothing;
whether the queue drained is the same question asked of the queue itself.

The HTTP transport asks :meth:`~AdmissionController.admit` before it reads the body, so a
refused request costs almost nothing; it is answered 503 with ``Retry-After``. At normal load
the check is one attribute test.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

DEFAULT_TARGET = 0.02
"""Seconds of waiting for a connection accepted."""
DEFAULT_INTERVAL = 0.1
"""Seconds for which the queue must stand to count as overload; the state is decided anew
after each."""
DEFAULT_HOLD = 1.0
"""Seconds the overloaded state outlasts the last overloaded interval (``Retry-After``)."""
DEFAULT_MAX_REFUSAL = 0.5
"""The largest share of an interval's requests refused: at most one refused per admitted."""


class AdmissionController:
    """Decides, before a request is read, whether it may queue for a database connection.

    ``clock`` (seconds, monotonic) is injectable for tests. ``waiting`` is how many requests
    wait for a connection now; ``overloaded`` whether new ones may be refused; ``queue_delay``
    the mean wait of the last interval in which requests got a connection, ``rate`` how many
    got one per second in the last interval; ``refused`` and ``overloaded_intervals`` count.
    """

    __slots__ = (
        "_drained",
        "_overloaded_until",
        "_window_admitted",
        "_window_count",
        "_window_end",
        "_window_refused",
        "_window_start",
        "_window_sum",
        "clock",
        "hold",
        "interval",
        "max_refusal",
        "overloaded",
        "overloaded_intervals",
        "queue_delay",
        "rate",
        "refused",
        "target",
        "waiting",
    )

    def __init__(
        self,
        target: float = DEFAULT_TARGET,
        interval: float = DEFAULT_INTERVAL,
        *,
        max_refusal: float = DEFAULT_MAX_REFUSAL,
        hold: float = DEFAULT_HOLD,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        for name, value in (("target", target), ("interval", interval), ("hold", hold)):
            if not (isinstance(value, int | float) and 0 <= value < math.inf) or (
                value == 0 and name != "hold"
            ):
                raise ValueError(f"the admission {name} must be a positive number, not {value!r}")
        if not 0 < max_refusal < 1:
            raise ValueError(f"max_refusal must be between 0 and 1 (excluded), not {max_refusal!r}")
        self.target = float(target)
        self.interval = float(interval)
        self.max_refusal = float(max_refusal)
        self.hold = float(hold)
        self._overloaded_until = -math.inf
        self.clock = clock
        self.waiting = 0
        self.overloaded = False
        self.queue_delay = 0.0
        self.rate = 0.0
        self.refused = 0
        self.overloaded_intervals = 0
        self._start_window(clock())

    def admit(self) -> bool:
        """Whether a new request may go on; a refusal is counted in ``refused``."""
        if not self.overloaded:
            return True
        now = self.clock()
        if now >= self._window_end:
            self._close(now)
            if not self.overloaded:
                return True
        # Would it wait longer than the target, and is a refusal still within the share?
        rate = self.rate
        if (self.waiting > self.target * rate if rate > 0 else self.waiting > 0) and (
            self._window_refused + 1
            <= self.max_refusal * (self._window_refused + self._window_admitted + 1)
        ):
            self._window_refused += 1
            self.refused += 1
            return False
        self._window_admitted += 1
        return True

    def enter(self) -> float:
        """A request starts waiting for a connection: the reading of :attr:`clock` to pass on."""
        self.waiting += 1
        return self.clock()

    def leave(self, started: float) -> None:
        """The request that entered at ``started`` got its connection, or gave up."""
        self.waiting -= 1
        now = self.clock()
        if now >= self._window_end:
            self._close(now)
        self._window_sum += now - started
        self._window_count += 1
        if self.waiting <= 0:
            self._drained = True

    def _close(self, now: float) -> None:
        """End the current interval: decide whether the pool is overloaded."""
        count = self._window_count
        self.rate = count / max(now - self._window_start, self.interval)
        if count:
            self.queue_delay = self._window_sum / count
            standing = not self._drained and self.queue_delay > self.target
        else:  # nobody got a connection for a whole interval: overloaded if some are waiting
            standing = self.waiting > 0 and not self._drained
        if standing:
            self.overloaded_intervals += 1
            self._overloaded_until = self._window_end + self.hold
        if now - self._window_end >= self.interval:  # then a whole interval with no event
            standing = self.waiting > 0  # requests waited, and none got a connection
            if standing:
                self.overloaded_intervals += 1
                self._overloaded_until = now + self.hold
        self.overloaded = now < self._overloaded_until or standing
        self._start_window(now)

    def _start_window(self, now: float) -> None:
        self._window_start = now
        self._window_end = now + self.interval
        self._window_sum = 0.0
        self._window_count = 0
        self._window_admitted = 0
        self._window_refused = 0
        self._drained = False
