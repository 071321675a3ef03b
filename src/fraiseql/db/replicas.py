"""Read replicas: where a query runs, and read-your-writes by log position.

Queries may run on streaming replicas; mutations always run on the primary. A replica replays
the primary's write-ahead log with some delay, so a client that just wrote could read the state
from before its write. FraiseQL closes that gap with the write's log position: a mutation's
response carries the primary's WAL insert position read after its commit (the
``X-FraiseQL-LSN`` header, and a cookie when asked), the client sends it back with later reads,
and such a read goes to a replica only once the replica's ``pg_last_wal_replay_lsn()`` has
reached it. A read waits for that at most ``wait`` seconds, else it runs on the primary.

A replica that cannot be reached (refused connection, lost connection) is left out for
``down_for`` seconds, and the read that met the failure runs on the primary; a background task
asks every replica for its replayed position each ``poll_interval`` seconds, which both keeps
the known positions fresh (most reads then need no check of their own) and brings a replica
back once it answers. Every choice is counted (:meth:`ReadReplicas.counters`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from fraiseql.db.lsn import LsnError, parse_lsn
from fraiseql.db.pool import UNREACHABLE, Database
from fraiseql.execution.outcome import ServiceUnavailable

logger = logging.getLogger("fraiseql.db.replicas")

REPLAYED_SQL = "SELECT pg_last_wal_replay_lsn()::text"
"""The position a standby has replayed up to (NULL on a server that is not a standby)."""

LOST = (*UNREACHABLE, asyncpg.InterfaceError)
"""Errors that mean a replica cannot be used now."""


def describe_dsn(dsn: str) -> str:
    """``host:port/database`` of a DSN, for logs: never its user or password."""
    parts = urllib.parse.urlsplit(dsn)
    host = parts.hostname or "local socket"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path or ''}"


@dataclass(slots=True, eq=False)
class Replica:
    """One read replica: its pool, the log position it is known to have replayed, its state."""

    database: Database
    name: str
    replayed: int = -1
    """The highest position this replica was seen to have replayed (-1: not known yet)."""
    down_until: float = 0.0
    """``time.monotonic()`` before which the replica is left out (it failed)."""
    not_standby_warned: bool = False

    def usable(self, now: float) -> bool:
        """Whether reads may go to this replica now."""
        return self.down_until <= now and self.database.is_open


class ReadReplicas:
    """The read replicas of a schema, and the choice of one for each query.

    ``wait`` bounds how long a read carrying a log position waits for a replica to replay it;
    ``down_for`` is how long a failed replica is left out; ``poll_interval`` how often the
    background task reads every replica's replayed position.
    """

    def __init__(
        self,
        databases: Sequence[Database],
        *,
        wait: float = 0.5,
        down_for: float = 5.0,
        poll_interval: float = 1.0,
    ) -> None:
        if not databases:
            raise ValueError("ReadReplicas needs at least one database")
        if wait < 0 or down_for <= 0 or poll_interval <= 0:
            raise ValueError("wait must be >= 0, down_for and poll_interval > 0")
        self.replicas = [Replica(db, describe_dsn(db.settings.dsn)) for db in databases]
        self.wait = wait
        self.down_for = down_for
        self.poll_interval = poll_interval
        self._next = 0
        self._poller: asyncio.Task[None] | None = None
        self.replica_reads = 0
        self.primary_reads_lag = 0
        self.primary_reads_unavailable = 0
        self.fallbacks = 0
        self.waits = 0

    async def open(self) -> None:
        """Open every replica's pool (in the background when it does not answer), start polling."""
        for replica in self.replicas:
            await replica.database.open_in_background()
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll(), name="fraiseql-replica-poller")

    async def close(self) -> None:
        """Stop polling and close every replica's pool."""
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        for replica in self.replicas:
            await replica.database.close()

    def _usable(self) -> list[Replica]:
        """The usable replicas, starting with the next one in turn (round robin)."""
        now = time.monotonic()
        count = len(self.replicas)
        start = self._next
        self._next = (start + 1) % count
        ordered = self.replicas[start:] + self.replicas[:start]
        return [replica for replica in ordered if replica.usable(now)]

    async def choose(self, min_position: int | None) -> Replica | None:
        """The replica a read goes to, or ``None`` for the primary.

        Without ``min_position`` the next usable replica. With one, the first usable replica
        known to have replayed it; else every usable replica is asked, again with a growing
        pause, until one has or ``wait`` seconds passed.
        """
        candidates = self._usable()
        if not candidates:
            self.primary_reads_unavailable += 1
            return None
        if min_position is None:
            self.replica_reads += 1
            return candidates[0]
        for replica in candidates:
            if replica.replayed >= min_position:
                self.replica_reads += 1
                return replica
        self.waits += 1
        deadline = time.monotonic() + self.wait
        pause = 0.002
        while True:
            for replica in candidates:
                if not replica.usable(time.monotonic()):
                    continue
                replayed = await self._replayed(replica)
                if replayed is not None and replayed >= min_position:
                    self.replica_reads += 1
                    return replica
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await asyncio.sleep(min(pause, remaining))
            pause = min(pause * 2, 0.05)
        self.primary_reads_lag += 1
        return None

    def failed(self, replica: Replica, error: ServiceUnavailable) -> None:
        """A read on ``replica`` could not run; it runs on the primary instead (counted).

        A replica that cannot be reached is left out for ``down_for`` seconds; one that was only
        busy (no free connection in time) is not.
        """
        self.fallbacks += 1
        if error.unreachable:
            self._mark_down(replica, error.message)

    def _mark_down(self, replica: Replica, reason: object) -> None:
        if replica.down_until <= time.monotonic():
            logger.warning(
                "read replica %s unavailable (%s); reads go elsewhere for %.1f s",
                replica.name,
                reason,
                self.down_for,
            )
        replica.down_until = time.monotonic() + self.down_for

    async def _replayed(self, replica: Replica) -> int | None:
        """Ask ``replica`` how far it has replayed; ``None`` when it cannot tell now."""
        database = replica.database
        try:
            pool = database.pool
            async with asyncio.timeout(database.settings.acquire_timeout):
                text = await pool.fetchval(REPLAYED_SQL)
        except ServiceUnavailable:
            return None  # its pool is still being opened in the background
        except TimeoutError:
            return None  # busy, not gone
        except LOST as error:
            self._mark_down(replica, error)
            return None
        if text is None:
            if not replica.not_standby_warned:
                replica.not_standby_warned = True
                logger.warning(
                    "read database %s is not a standby (pg_last_wal_replay_lsn() is NULL): "
                    "reads that carry a log position go to the primary",
                    replica.name,
                )
            return None
        try:
            position = parse_lsn(text)
        except LsnError:  # pragma: no cover - PostgreSQL always writes a valid pg_lsn
            return None
        replica.replayed = max(replica.replayed, position)
        return replica.replayed

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            for replica in self.replicas:
                if replica.database.is_open and await self._replayed(replica) is not None:
                    replica.down_until = 0.0

    def counters(self) -> dict[str, tuple[str, str, float]]:
        """What the routing counted, for the metrics endpoint."""
        now = time.monotonic()
        return {
            "replica_reads": ("counter", "Queries sent to a read replica.", self.replica_reads),
            "primary_reads_lag": (
                "counter",
                "Queries run on the primary because no replica had replayed the client's "
                "write in time.",
                self.primary_reads_lag,
            ),
            "primary_reads_unavailable": (
                "counter",
                "Queries run on the primary because no replica was usable.",
                self.primary_reads_unavailable,
            ),
            "fallbacks": (
                "counter",
                "Queries that failed on a replica and ran again on the primary.",
                self.fallbacks,
            ),
            "waits": (
                "counter",
                "Queries that waited for a replica to replay the client's write.",
                self.waits,
            ),
            "up": (
                "gauge",
                "Read replicas usable now.",
                sum(1 for replica in self.replicas if replica.usable(now)),
            ),
        }
