"""The fan-out: database events to live subscriptions, one read per group of subscribers.

Subscriptions with the same :attr:`~fraiseql.execution.subscribe.SubscriptionOperation.key`
(document, variables, settings, refused fields) form a group. A group has one worker task: it
collects the ids of the events that concern it, reads them with one statement, and hands the
response bodies to each member's :class:`EventStream`. Ids that arrive while a read runs are
merged into the next one; a read returns the rows as they are now, so merging loses nothing.

Slow consumers: each stream holds at most ``max_queued`` undelivered batches (the rows of
one read each). One that would hold more is closed (:class:`SlowConsumerError` from its
iterator) instead of growing without bound or silently skipping events; the transports
close its connection (WebSocket code 1013, "try again later") and
:attr:`EventHub.overflows` counts it.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fraiseql.execution.subscribe import SubscriptionOperation
from fraiseql.subscriptions.events import MISSED_EVENTS_BODY, Event

logger = logging.getLogger("fraiseql.subscriptions")

EventReader = Callable[[SubscriptionOperation, list[str]], Awaitable[list[bytes]]]
"""Reads an event's rows for a subscription: the response bodies, one per row."""

DEFAULT_MAX_QUEUED = 256
MAX_PENDING_IDS = 10_000
"""Ids a group may have waiting for its next read; past that it gives up on them and tells its
members they missed events (the database cannot keep up with the writes)."""


class SlowConsumerError(Exception):
    """The subscriber did not read its responses fast enough; the stream was closed."""


class EventStream:
    """The responses of one subscription, as an async iterator of JSON bodies.

    Responses arrive in batches, the rows of one read; at most ``max_queued`` batches wait
    undelivered (one read of many rows is one batch, so a burst does not count as falling
    behind). ``aclose()`` ends the subscription (idempotent); the hub stops delivering to it
    at once.
    """

    __slots__ = (
        "_closed",
        "_on_close",
        "_overflowed",
        "_position",
        "_queue",
        "_waiter",
        "max_queued",
    )

    def __init__(self, max_queued: int, on_close: Callable[[EventStream], None]) -> None:
        self.max_queued = max_queued
        self._queue: collections.deque[Sequence[bytes]] = collections.deque()
        self._position = 0  # the next body of the first batch
        self._waiter: asyncio.Future[None] | None = None
        self._on_close = on_close
        self._closed = False
        self._overflowed = False

    def push(self, bodies: Sequence[bytes]) -> bool:
        """Queue a batch of responses; ``False`` (and the stream closed) when too many wait."""
        if self._closed or not bodies:
            return True
        if len(self._queue) >= self.max_queued:
            self._overflowed = True
            self._queue.clear()
            self._close()
            return False
        self._queue.append(bodies)
        self._wake()
        return True

    @property
    def overflowed(self) -> bool:
        """Whether the stream was closed because its subscriber fell behind."""
        return self._overflowed

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> bytes:
        while not self._queue:
            if self._overflowed:
                raise SlowConsumerError("the subscriber fell too far behind")
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        batch = self._queue[0]
        body = batch[self._position]
        self._position += 1
        if self._position == len(batch):
            self._queue.popleft()
            self._position = 0
        return body

    async def aclose(self) -> None:
        """End the subscription."""
        self._close()

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self._on_close(self)
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


@dataclass(eq=False)
class _Group:
    operation: SubscriptionOperation
    streams: set[EventStream] = field(default_factory=set)
    pending: dict[str, None] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class EventHub:
    """Hands database events to the subscriptions that follow their entity.

    ``reader`` runs a subscription's statement for some ids; ``max_concurrent_reads`` bounds
    the reads running at once across all groups (each holds a pooled connection).
    """

    def __init__(
        self,
        reader: EventReader,
        *,
        max_queued: int = DEFAULT_MAX_QUEUED,
        max_concurrent_reads: int = 4,
    ) -> None:
        if max_queued < 1 or max_concurrent_reads < 1:
            raise ValueError("max_queued and max_concurrent_reads must be at least 1")
        self.reader = reader
        self.max_queued = max_queued
        self._slots = asyncio.Semaphore(max_concurrent_reads)
        self._groups: dict[str, dict[tuple[Any, ...], _Group]] = {}
        self._group_of: dict[EventStream, _Group] = {}
        self.events = 0
        """Events received."""
        self.reads = 0
        """Statements run for events (one per group per read)."""
        self.failed_reads = 0
        self.overflows = 0
        """Streams closed because their subscriber fell behind."""

    @property
    def subscriptions(self) -> int:
        """Live subscriptions."""
        return len(self._group_of)

    @property
    def groups(self) -> int:
        """Groups of subscriptions sharing their reads."""
        return sum(len(groups) for groups in self._groups.values())

    def subscribe(self, operation: SubscriptionOperation) -> EventStream:
        """A new live subscription to the events of ``operation.entity``."""
        assert operation.entity is not None
        stream = EventStream(self.max_queued, self._closed)
        groups = self._groups.setdefault(operation.entity, {})
        group = groups.get(operation.key)
        if group is None:
            group = groups[operation.key] = _Group(operation)
            group.task = asyncio.create_task(self._work(group), name="fraiseql-subscription")
        group.streams.add(stream)
        self._group_of[stream] = group
        return stream

    def publish(self, event: Event) -> None:
        """Queue an event's ids for every group that follows its entity and operation."""
        self.events += 1
        for group in self._groups.get(event.entity, {}).values():
            if event.op not in group.operation.events:
                continue
            pending = group.pending
            for entity_id in event.ids:
                pending[entity_id] = None
            if len(pending) > MAX_PENDING_IDS:
                pending.clear()
                self._deliver(group, [MISSED_EVENTS_BODY])
            group.wake.set()

    def missed(self) -> None:
        """Tell every live subscription it may have missed events (the listener reconnected)."""
        for groups in self._groups.values():
            for group in groups.values():
                self._deliver(group, [MISSED_EVENTS_BODY])

    async def close(self) -> None:
        """End every subscription and stop the workers."""
        streams = list(self._group_of)
        for stream in streams:
            await stream.aclose()

    def _closed(self, stream: EventStream) -> None:
        group = self._group_of.pop(stream, None)
        if group is None:
            return
        if stream.overflowed:
            self.overflows += 1
        group.streams.discard(stream)
        if not group.streams:
            groups = self._groups.get(group.operation.entity or "", {})
            groups.pop(group.operation.key, None)
            if not groups:
                self._groups.pop(group.operation.entity or "", None)
            if group.task is not None:
                group.task.cancel()

    def _deliver(self, group: _Group, bodies: list[bytes]) -> None:
        for stream in list(group.streams):
            stream.push(bodies)

    async def _work(self, group: _Group) -> None:
        while True:
            await group.wake.wait()
            group.wake.clear()
            while group.pending:
                ids = list(group.pending)
                group.pending.clear()
                async with self._slots:
                    try:
                        bodies = await self.reader(group.operation, ids)
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        self.failed_reads += 1
                        logger.exception("reading an event for a subscription failed")
                        bodies = [MISSED_EVENTS_BODY]
                    self.reads += 1
                if bodies:
                    self._deliver(group, bodies)
