"""The connection pool, configured from ``FRAISEQL_DATABASE_URL`` or explicit settings."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

DATABASE_URL_ENV = "FRAISEQL_DATABASE_URL"


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """How the pool connects: DSN, size, timeouts (seconds)."""

    dsn: str
    min_size: int = 1
    max_size: int = 10
    acquire_timeout: float = 1.0
    statement_timeout_ms: int = 30_000
    statement_cache_size: int = 256

    @classmethod
    def from_env(cls, dsn: str | None = None, **overrides: Any) -> PoolSettings:
        """Settings from ``dsn`` or the ``FRAISEQL_DATABASE_URL`` environment variable."""
        dsn = dsn or os.environ.get(DATABASE_URL_ENV)
        if not dsn:
            raise RuntimeError(f"no database URL: pass database_url= or set {DATABASE_URL_ENV}")
        return cls(dsn=dsn, **overrides)


StatementObserver = Callable[[str], None]
"""Called with the SQL text of every statement a pooled connection runs."""

QueryObserver = Callable[[Any], None]
"""Called with asyncpg's ``LoggedQuery`` (text, elapsed time, exception) of every statement."""


class Database:
    """An asyncpg pool opened at application startup and closed at shutdown.

    With ``observe_statements`` every connection reports the statements it runs to the
    callables in ``statement_observers`` (tests count statements this way; it costs a callback
    per statement, so it is off by default), and their full log records to ``query_observers``
    (the observability package times statements this way).
    """

    def __init__(self, settings: PoolSettings, *, observe_statements: bool = False) -> None:
        self.settings = settings
        self._pool: asyncpg.Pool | None = None
        self.observe_statements = observe_statements
        self.statement_observers: list[StatementObserver] = []
        self.query_observers: list[QueryObserver] = []

    def _report(self, record: Any) -> None:
        for observer in self.statement_observers:
            observer(record.query)
        for query_observer in self.query_observers:
            query_observer(record)

    @staticmethod
    async def _reset_connection(connection: asyncpg.Connection) -> None:
        """Make a released connection clean for its next user, without a round trip.

        asyncpg's default reset runs ``RESET ALL; UNLISTEN *; ...`` on every release: one more
        round trip per request. FraiseQL keeps all per-request state inside the request
        transaction (``SET LOCAL``, ``set_config(..., true)``), which COMMIT or ROLLBACK ends; so
        only a connection still inside a transaction (an interrupted request) needs work.
        """
        if connection.is_in_transaction():
            await connection.execute("ROLLBACK")

    async def _init_connection(self, connection: asyncpg.Connection) -> None:
        if self.observe_statements:
            connection.add_query_logger(self._report)

    async def open(self) -> None:
        """Create the pool (idempotent)."""
        if self._pool is not None:
            return
        settings = self.settings
        self._pool = await asyncpg.create_pool(
            settings.dsn,
            min_size=settings.min_size,
            max_size=settings.max_size,
            statement_cache_size=settings.statement_cache_size,
            init=self._init_connection,
            reset=self._reset_connection,
            server_settings={
                "application_name": "fraiseql",
                "statement_timeout": str(settings.statement_timeout_ms),
            },
        )

    async def close(self) -> None:
        """Close the pool, waiting for connections to be released."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @property
    def pool(self) -> asyncpg.Pool:
        """The open pool; raises when :meth:`open` was not awaited."""
        if self._pool is None:
            raise RuntimeError("the database pool is not open (was the app's startup run?)")
        return self._pool
