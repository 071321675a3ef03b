"""The process's one LISTEN connection, kept open for as long as the application runs.

It is a connection of its own, outside the pool: a pooled connection is reset between uses,
which would drop the LISTEN, and holding one forever would shrink the pool. When the connection
is lost (PostgreSQL restarted, a network cut, an administrator's ``pg_terminate_backend``), it
is opened again with a doubling delay; events sent meanwhile are lost, so once it listens again
``on_reconnect`` tells every subscription that it may have missed changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from fraiseql.subscriptions.events import EVENTS_CHANNEL, Event, parse_event

logger = logging.getLogger("fraiseql.subscriptions")

KEEPALIVE_INTERVAL = 15.0
"""Seconds between two checks that the connection still answers (a silent network cut does
not close a socket by itself)."""


class EventListener:
    """LISTENs on ``channel`` through ``dsn`` and hands each well-formed event to ``on_event``.

    ``on_event`` and ``on_reconnect`` are plain callables run in the event loop; they must not
    block. ``min_delay`` and ``max_delay`` bound the wait between reconnection attempts.
    """

    def __init__(
        self,
        dsn: str,
        on_event: Callable[[Event], None],
        on_reconnect: Callable[[], None],
        *,
        channel: str = EVENTS_CHANNEL,
        min_delay: float = 0.1,
        max_delay: float = 5.0,
        connect_timeout: float = 5.0,
        keepalive_interval: float = KEEPALIVE_INTERVAL,
    ) -> None:
        self.dsn = dsn
        self.channel = channel
        self.on_event = on_event
        self.on_reconnect = on_reconnect
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.connect_timeout = connect_timeout
        self.keepalive_interval = keepalive_interval
        self.connection: asyncpg.Connection | None = None
        self.connected = asyncio.Event()
        self.reconnections = 0
        """How many times the connection was lost and opened again (for metrics and tests)."""
        self.malformed = 0
        """How many notifications were dropped because they were not events."""
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def backend_pid(self) -> int | None:
        """The server process of the LISTEN connection, while connected."""
        connection = self.connection
        return None if connection is None or connection.is_closed() else connection.get_server_pid()

    def start(self) -> None:
        """Start listening in the background (idempotent); returns at once."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="fraiseql-event-listener")

    async def stop(self) -> None:
        """Stop listening and close the connection."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close()

    async def _run(self) -> None:
        delay = self.min_delay
        first = True
        while True:
            try:
                await self._connect()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
                logger.warning("event listener cannot connect (%s); retry in %.1fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_delay)
                continue
            delay = self.min_delay
            if not first:
                self.reconnections += 1
                logger.warning("event listener reconnected: subscriptions may have missed events")
                self.on_reconnect()
            first = False
            await self._watch()
            await self._close()

    async def _connect(self) -> None:
        self._lost.clear()
        connection = await asyncpg.connect(
            self.dsn,
            timeout=self.connect_timeout,
            server_settings={"application_name": "fraiseql-listener"},
        )
        try:
            connection.add_termination_listener(self._terminated)
            await connection.add_listener(self.channel, self._notified)
        except BaseException:
            await connection.close()
            raise
        self.connection = connection
        self.connected.set()

    async def _watch(self) -> None:
        """Return once the connection is lost: closed by the server or no longer answering."""
        connection = self.connection
        assert connection is not None
        while not self._lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), self.keepalive_interval)
                break
            try:
                await asyncio.wait_for(connection.fetchval("SELECT 1"), self.connect_timeout)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
                logger.warning("event listener connection stopped answering: %s", error)
                break
        logger.warning("event listener lost its connection; reconnecting")

    async def _close(self) -> None:
        self.connected.clear()
        connection, self.connection = self.connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()  # no goodbye round trip to a server that may be gone

    def _terminated(self, connection: Any) -> None:
        self._lost.set()

    def _notified(self, connection: Any, pid: int, channel: str, payload: object) -> None:
        event = parse_event(payload) if isinstance(payload, str) else None
        if event is None:
            self.malformed += 1
            logger.warning("dropped a notification on %s that is not an event", channel)
            return
        try:
            self.on_event(event)
        except Exception:
            logger.exception("handing an event to the subscriptions failed")
