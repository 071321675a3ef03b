"""The PostgreSQL backend: one cache shared by every replica, in an UNLOGGED table.

The table (``fraiseql_response_cache`` by default) has a row per entry::

    key text PRIMARY KEY, value bytea, expires_at timestamptz, tags text[]

with a GIN index on ``tags`` (invalidation is ``tags && $1``) and one on ``expires_at``. It is
UNLOGGED: no WAL, so writes are cheap, it is not replicated, and a crash of the server empties
it, which a cache can afford. It is created on first use when missing, or by
:meth:`PostgresCache.install` (run it from a deployment step when the application's role may
not create tables). Expired rows are never served, and are deleted in small batches every
``purge_every`` stores, in the background, so the table stays bounded.

The backend has its own small pool (one to four connections) to the DSN it is given, or the
``Database``'s: its statements run outside any request transaction, as the connecting role.
Where that role is not the table's owner it needs ``SELECT, INSERT, UPDATE, DELETE`` on the
table (granted by the owner after :meth:`~PostgresCache.install`). Row-level security and
request settings play no part: what is stored is already the response of one key's callers.

Every call is bounded by ``op_timeout`` seconds, waiting for a connection included: a server
that refuses, drops the connection or does not answer in time raises
:class:`~fraiseql.cache.errors.CacheUnavailableError` (an ``OSError``).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg

from fraiseql.cache.errors import CacheUnavailableError
from fraiseql.cache.tally import ExpiringTally
from fraiseql.sql.identifiers import quote_identifier, quote_qualified

if TYPE_CHECKING:
    from fraiseql.db.pool import Database

logger = logging.getLogger("fraiseql.cache")

T = TypeVar("T")

DEFAULT_TABLE = "fraiseql_response_cache"
CONNECT_TIMEOUT = 5.0
"""Seconds to open the pool's first connection (in the background: calls wait ``op_timeout``)."""
_POOL_MIN, _POOL_MAX = 1, 4
_DEADLOCK_RETRIES = 2

UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # canceled, shutting down, starting up
    asyncpg.TooManyConnectionsError,
    asyncpg.ReadOnlySQLTransactionError,  # a standby after a failover
)
"""Errors meaning the server cannot serve the cache now (``TimeoutError`` is an ``OSError``)."""


Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy


async def _reset_connection(connection: asyncpg.Connection) -> None:
    """No reset round trip on release: every statement here is a transaction of its own."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


class PostgresCache:
    """Entries in an UNLOGGED table, shared by every replica (see :mod:`fraiseql.cache.postgres`).

    ``database`` (the application's) or ``dsn`` says where; ``table`` may be schema-qualified.
    ``purge_every`` stores start a background deletion of at most ``purge_batch`` expired rows.
    """

    def __init__(
        self,
        database: Database | None = None,
        *,
        dsn: str | None = None,
        table: str = DEFAULT_TABLE,
        op_timeout: float = 0.5,
        purge_every: int = 100,
        purge_batch: int = 1000,
    ) -> None:
        if dsn is None:
            if database is None:
                raise ValueError("PostgresCache needs a database or a dsn")
            dsn = database.settings.dsn
        if op_timeout <= 0:
            raise ValueError("op_timeout must be positive")
        if purge_every < 1 or purge_batch < 1:
            raise ValueError("purge_every and purge_batch must be positive")
        self.dsn = dsn
        self.table = table
        self.op_timeout = op_timeout
        self.purge_every = purge_every
        self.purge_batch = purge_batch
        name = quote_qualified(table)
        base = table.rsplit(".", 1)[-1]
        self._ddl = (
            f"CREATE UNLOGGED TABLE IF NOT EXISTS {name} ("
            " key text PRIMARY KEY, value bytea NOT NULL,"
            " expires_at timestamptz NOT NULL, tags text[] NOT NULL DEFAULT '{}')",
            f"CREATE INDEX IF NOT EXISTS {quote_identifier(base + '_tags')}"
            f" ON {name} USING gin (tags)",
            f"CREATE INDEX IF NOT EXISTS {quote_identifier(base + '_expires_at')}"
            f" ON {name} (expires_at)",
        )
        self._exists = "SELECT to_regclass($1) IS NOT NULL"
        self._get = f"SELECT value FROM {name} WHERE key = $1 AND expires_at > now()"
        # The old row is read in the statement's snapshot, so the local tally can subtract
        # the entry replaced; a concurrent first insert of the same key is not seen (approximate).
        self._set = (
            f"WITH old AS (SELECT octet_length(value) AS size,"
            f" extract(epoch FROM expires_at)::float8 AS expires"
            f" FROM {name} WHERE key = $1 AND expires_at > now()),"
            f" stored AS (INSERT INTO {name} AS entry (key, value, expires_at, tags)"
            f" VALUES ($1, $2, now() + make_interval(secs => $3), $4::text[])"
            f" ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
            f" expires_at = excluded.expires_at, tags = excluded.tags"
            f" RETURNING extract(epoch FROM entry.expires_at)::float8 AS expires)"
            f" SELECT stored.expires, old.size, old.expires AS old_expires"
            f" FROM stored LEFT JOIN old ON true"
        )
        self._invalidate = (
            f"DELETE FROM {name} WHERE tags && $1::text[]"
            f" RETURNING octet_length(value) AS size,"
            f" extract(epoch FROM expires_at)::float8 AS expires, expires_at > now() AS live"
        )
        self._purge = (
            f"DELETE FROM {name} WHERE ctid = ANY(ARRAY("
            f"SELECT ctid FROM {name} WHERE expires_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED))"
        )
        self._clear = (
            f"DELETE FROM {name} WHERE ctid = ANY(ARRAY("
            f"SELECT ctid FROM {name} LIMIT $1 FOR UPDATE SKIP LOCKED))"
        )
        self._pool: asyncpg.Pool | None = None
        self._opening: asyncio.Task[asyncpg.Pool] | None = None
        self._stores = 0
        self._purging: asyncio.Task[None] | None = None
        self._tally = ExpiringTally()
        self._closed = False

    # -- the pool and the table ------------------------------------------------------------

    async def install(self) -> None:
        """Create the table and its indexes if missing (idempotent), and open the pool."""
        pool = await self._ready()
        async with pool.acquire() as connection:
            await self._create(connection)

    async def _create(self, connection: Connection) -> None:
        # Two replicas creating the table at once would collide in pg_type: one at a time.
        async with connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", self.table)
            for statement in self._ddl:
                await connection.execute(statement)

    async def _open(self) -> asyncpg.Pool:
        statement_timeout = max(1000, math.ceil(self.op_timeout * 4000))
        pool = await asyncpg.create_pool(
            self.dsn,
            min_size=_POOL_MIN,
            max_size=_POOL_MAX,
            timeout=CONNECT_TIMEOUT,
            reset=_reset_connection,
            server_settings={
                "application_name": "fraiseql-cache",
                "statement_timeout": str(statement_timeout),
            },
        )
        try:
            async with pool.acquire() as connection:
                # Checked first: CREATE ... IF NOT EXISTS needs CREATE on the schema even when
                # the table exists, which the application's role may lack.
                if not await connection.fetchval(self._exists, quote_qualified(self.table)):
                    await self._create(connection)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool
        return pool

    async def _ready(self) -> asyncpg.Pool:
        """The pool, opened (and the table created) once; a failed attempt is retried."""
        if self._pool is not None:
            return self._pool
        if self._closed:
            raise CacheUnavailableError("the cache is closed")
        if self._opening is None or self._opening.done():
            self._opening = asyncio.create_task(self._open())
            # A caller's timeout leaves the attempt running; its failure is seen by the next.
            self._opening.add_done_callback(
                lambda task: None if task.cancelled() else task.exception()
            )
        return await asyncio.shield(self._opening)

    async def _run(self, what: str, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run ``work`` on a pooled connection within ``op_timeout`` (connecting included)."""
        try:
            async with asyncio.timeout(self.op_timeout):
                pool = await self._ready()
                async with pool.acquire() as connection:
                    return await work(connection)
        except UNAVAILABLE as error:
            detail = str(error) or f"no answer within {self.op_timeout} s"
            raise CacheUnavailableError(f"postgres cache {what} failed: {detail}") from error

    # -- the backend -----------------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        """The value under ``key``, or ``None`` when absent or expired."""
        value: bytes | None = await self._run(
            "get", lambda connection: connection.fetchval(self._get, key)
        )
        return value

    async def set(self, key: str, value: bytes, ttl: float, tags: Sequence[str]) -> None:
        """Store (or replace) ``value`` for ``ttl`` seconds with ``tags``."""
        if ttl <= 0:
            return
        unique = list(dict.fromkeys(tags))
        row: Any = await self._run(
            "set", lambda connection: connection.fetchrow(self._set, key, value, ttl, unique)
        )
        if row["size"] is not None:
            self._tally.remove(row["size"], row["old_expires"])
        self._tally.add(len(value), row["expires"])
        self._stores += 1
        if self._stores % self.purge_every == 0:
            self._purge_soon()

    async def invalidate(self, tags: Sequence[str]) -> int:
        """Delete the rows tagged with any of ``tags``; how many were not yet expired."""
        if not tags:
            return 0
        unique = list(dict.fromkeys(tags))
        rows: list[Any] = await self._run(
            "invalidate", lambda connection: self._delete_tagged(connection, unique)
        )
        live = 0
        for row in rows:
            if row["live"]:
                live += 1
                self._tally.remove(row["size"], row["expires"])
        return live

    async def _delete_tagged(self, connection: Connection, tags: list[str]) -> list[Any]:
        # Two invalidations of overlapping tags may lock the same rows in different orders;
        # the server aborts one of them, which is run again (an eviction must not be lost).
        for _attempt in range(_DEADLOCK_RETRIES):
            try:
                return await connection.fetch(self._invalidate, tags)
            except asyncpg.DeadlockDetectedError:
                continue
        return await connection.fetch(self._invalidate, tags)

    async def clear(self) -> None:
        """Delete every row, in batches (each bounded by ``op_timeout``)."""
        batch = max(self.purge_batch, 1000)
        while True:
            status: str = await self._run(
                "clear", lambda connection: connection.execute(self._clear, batch)
            )
            if int(status.rsplit(" ", 1)[-1]) < batch:
                break
        self._tally.reset()

    async def purge_expired(self) -> int:
        """Delete up to ``purge_batch`` expired rows now; how many."""
        status: str = await self._run(
            "purge", lambda connection: connection.execute(self._purge, self.purge_batch)
        )
        return int(status.rsplit(" ", 1)[-1])

    def _purge_soon(self) -> None:
        if self._purging is not None and not self._purging.done():
            return

        async def purge() -> None:
            try:
                await self.purge_expired()
            except Exception as error:  # the next purge tries again
                logger.debug("purging expired cache rows failed: %s", error)

        self._purging = asyncio.create_task(purge())

    async def close(self) -> None:
        """Wait for a running purge, then close the pool."""
        self._closed = True
        if self._purging is not None:
            await asyncio.gather(self._purging, return_exceptions=True)
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
            await asyncio.gather(self._opening, return_exceptions=True)
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), CONNECT_TIMEOUT)
            except TimeoutError:
                pool.terminate()

    def stats(self) -> dict[str, float]:
        """``entries`` and ``bytes`` as this process counted them (approximate, no I/O).

        What this process stored, minus what it replaced or invalidated, minus what expired;
        see :mod:`fraiseql.cache.tally`.
        """
        return self._tally.snapshot()
