"""One request's database session: a connection and a transaction, taken only when needed."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType

import asyncpg
from asyncpg.transaction import Transaction

from fraiseql.db import session_state
from fraiseql.db.pool import Database
from fraiseql.deadline import Deadline
from fraiseql.execution.outcome import ServiceUnavailable
from fraiseql.security.claims import set_config_statement

logger = logging.getLogger("fraiseql.db")


class RequestSession:
    """Acquires a pooled connection and opens the request transaction on first use.

    A request that never touches the database (introspection, ``__typename``) never takes a
    connection. Used as ``async with``: the transaction commits when the block ends normally
    and rolls back on an exception.

    ``transactional=False`` is for a request that runs exactly one read statement: a single
    statement is atomic and sees one snapshot on its own, so BEGIN and COMMIT would only add
    two round trips. ``settings`` (claims, role, timeout) are set transaction-locally right
    after BEGIN, in one statement; a session with settings is always transactional, unless
    ``folded``: the request is then exactly one statement that sets the settings itself (an
    auto mutation through ``fraiseql_mutate``), run by :meth:`fetchrow_folded`, and no other
    statement may use the session, so none can run without the settings.

    ``report_lsn`` reads the primary's WAL insert position once the session's writes are
    committed (:attr:`commit_lsn`): a read replica that has replayed up to it sees them (see
    :mod:`fraiseql.db.replicas`). It costs one more round trip, so only schemas with read
    replicas ask for it.
    """

    __slots__ = (
        "_connection",
        "_database",
        "_folded",
        "_keep",
        "_lock",
        "_readonly",
        "_report_lsn",
        "_rollback",
        "_settings",
        "_transaction",
        "_transactional",
        "commit_lsn",
    )

    def __init__(
        self,
        database: Database | None,
        *,
        readonly: bool = True,
        transactional: bool = True,
        settings: list[tuple[str, str]] | None = None,
        folded: bool = False,
        report_lsn: bool = False,
    ) -> None:
        self._database = database
        self._report_lsn = report_lsn
        self.commit_lsn: str | None = None
        """The WAL insert position after the commit (with ``report_lsn``), as ``X/Y``."""
        self._readonly = readonly
        self._settings = settings or []
        self._folded = folded
        self._keep = database is not None and database.settings.keep_settings
        # Settings need a transaction to be local to, unless the session keeps them.
        self._transactional = not folded and (
            transactional or (bool(self._settings) and not self._keep)
        )
        self._rollback = False
        self._connection: asyncpg.pool.PoolConnectionProxy | None = None
        self._transaction: Transaction | None = None
        self._lock = asyncio.Lock()

    @property
    def folded(self) -> bool:
        """Whether the request is one statement carrying its own settings (see the class)."""
        return self._folded

    async def fetchrow_folded(self, sql: str, *args: object) -> asyncpg.Record | None:
        """Run the folded request's one statement; the settings go as its last parameter.

        The settings are passed flat, ``[name, value, name, value, ...]`` (``text[]``); the
        statement must set them before it reads or writes anything.
        """
        if not self._folded or self._connection is not None:
            raise RuntimeError("fetchrow_folded runs the one statement of a folded session")
        async with self._lock:
            self._folded = False  # _ensure may take the connection now, once, without BEGIN
            try:
                connection = await self._ensure(apply_settings=False)
            finally:
                self._folded = True
            flat = [part for pair in self._local_settings(connection) for part in pair]
            return await connection.fetchrow(sql, *args, flat)

    def _local_settings(
        self, connection: asyncpg.pool.PoolConnectionProxy
    ) -> list[tuple[str, str]]:
        """The request's settings, plus resets of any the connection's session keeps."""
        if not self._keep:
            return self._settings
        assert self._database is not None
        timeout = self._database.settings.statement_timeout_ms
        return session_state.covering(session_state.kept_on(connection), self._settings, timeout)

    def mark_rollback(self) -> None:
        """End the request transaction with ROLLBACK instead of COMMIT (a failed write)."""
        self._rollback = True

    @property
    def rolls_back(self) -> bool:
        """Whether the request transaction will end with ROLLBACK (see :meth:`mark_rollback`)."""
        return self._rollback

    async def connection(self) -> asyncpg.pool.PoolConnectionProxy:
        """The request's connection, inside its transaction.

        One connection serves the whole request and runs one statement at a time: resolvers that
        may run concurrently should go through :meth:`use` (or the repository, which does).
        """
        async with self._lock:
            return await self._ensure()

    def use(self) -> _Held:
        """The request's connection, held exclusively while the block runs its statements."""
        return _Held(self)

    async def _ensure(self, *, apply_settings: bool = True) -> asyncpg.pool.PoolConnectionProxy:
        if self._folded:
            raise RuntimeError(
                "a folded request session runs only its one statement (fetchrow_folded)"
            )
        if self._connection is None:
            if self._database is None:
                raise RuntimeError("this schema has no database configured")
            database = self._database
            settings = database.settings
            connection = await take_connection(database, for_request=self._keep)
            if not self._transactional:
                if self._keep and apply_settings:
                    try:
                        await session_state.apply(
                            connection, self._settings, settings.statement_timeout_ms
                        )
                    except BaseException:
                        await database.release(connection)
                        raise
                self._connection = connection
                return connection
            try:
                # A read request that runs several statements sees one snapshot throughout.
                transaction = connection.transaction(
                    isolation="repeatable_read" if self._readonly else None,
                    readonly=self._readonly,
                )
                await transaction.start()
                local = self._local_settings(connection)
                if local:
                    sql, params = set_config_statement(local)
                    await connection.execute(sql, *params)
            except BaseException:
                await self._database.release(connection)
                raise
            self._connection, self._transaction = connection, transaction
        return self._connection

    async def reset(self) -> None:
        """Roll back after a failed statement; the next use starts a fresh transaction.

        A statement error aborts a PostgreSQL transaction; later root fields of the same read
        request must still run, so the session starts over instead of failing them all. A
        writing session never starts over (that would drop its earlier writes): mutations
        handle their errors with savepoints or by rolling back the request.
        """
        if not self._readonly:
            return
        connection, transaction = self._connection, self._transaction
        self._connection = self._transaction = None
        if connection is None or self._database is None:
            return
        try:
            if transaction is not None:
                await transaction.rollback()
        finally:
            await self._database.release(connection)

    async def release(self) -> None:
        """End the transaction as ``async with`` would and give the connection back.

        The session stays usable: its next statement takes a connection (and opens a
        transaction with the settings) again. A long-lived caller, such as a subscription
        between two events, holds no connection while it waits.
        """
        await self.__aexit__(None, None, None)

    async def __aenter__(self) -> RequestSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        connection, transaction = self._connection, self._transaction
        self._connection = self._transaction = None
        if connection is None or self._database is None:
            return
        try:
            if transaction is None:
                pass
            elif exc_type is None and not self._rollback:
                await transaction.commit()
            else:
                await transaction.rollback()
            if self._report_lsn and exc_type is None and not self._rollback:
                await self._read_commit_lsn(connection)
        finally:
            await self._database.release(connection)

    async def _read_commit_lsn(self, connection: asyncpg.pool.PoolConnectionProxy) -> None:
        # After COMMIT the commit record is in the log, so the insert position is past it. The
        # writes are committed whatever happens here: a failure costs the client its
        # read-your-writes token (its next read may be served by a replica not yet there), not
        # its answer.
        try:
            self.commit_lsn = await connection.fetchval("SELECT pg_current_wal_insert_lsn()::text")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            logger.warning("could not read the log position after a commit: %s", error)


async def take_connection(
    database: Database, *, for_request: bool = False
) -> asyncpg.pool.PoolConnectionProxy:
    """A pooled connection for one request, under the pool's limits, or ``ServiceUnavailable``.

    Refused at once (503) when ``max_waiting`` requests already wait; otherwise it waits at most
    ``acquire_timeout`` for a connection, feeding the time in queue to admission.
    ``for_request`` (with ``keep_settings``) hands the connection out uncleaned: the caller
    sets the request's settings itself. Give it back with ``database.release``.
    """
    settings = database.settings
    if database.admission is None and database.waiting < settings.waiting_limit:
        free = database.acquire_now()  # no wait: nothing to time, limit or count
        if free is not None:
            return free
    database.pool  # noqa: B018 - raises ServiceUnavailable while the pool is opening
    if database.waiting >= settings.waiting_limit:
        database.refused += 1
        raise ServiceUnavailable(
            "The server is busy: too many requests are waiting for the database. Try again.",
            retry_after=1,
        )
    database.waiting += 1
    admission = database.admission
    started = admission.enter() if admission is not None else 0.0
    try:
        # A Deadline, not acquire(timeout=...): asyncpg's own timeout runs the acquisition in
        # a new task (wait_for), a cost paid on every request.
        async with Deadline(settings.acquire_timeout):
            if not for_request:
                return await database.acquire()
            token = session_state.FOR_REQUEST.set(True)  # no cleaning: the caller sets them
            try:
                return await database.acquire()
            finally:
                session_state.FOR_REQUEST.reset(token)
    except TimeoutError:
        raise ServiceUnavailable(
            "The server is busy: no database connection was free in time. Try again.",
            retry_after=1,
        ) from None
    except (OSError, asyncpg.CannotConnectNowError, asyncpg.InterfaceError) as error:
        logger.warning("database unavailable: %s", error)
        raise ServiceUnavailable(
            "The database is unavailable. Try again shortly.",
            retry_after=2,
            unreachable=True,
        ) from None
    finally:
        database.waiting -= 1
        if admission is not None:  # the time in queue drives admission
            admission.leave(started)


class _Held:
    """``async with session.use() as connection``: the session's lock held around the block.

    A class rather than ``contextlib.asynccontextmanager``: every statement of every request
    enters one, and a generator-based context manager costs several times more.
    """

    __slots__ = ("_session",)

    def __init__(self, session: RequestSession) -> None:
        self._session = session

    async def __aenter__(self) -> asyncpg.pool.PoolConnectionProxy:
        session = self._session
        await session._lock.acquire()
        try:
            return await session._ensure()
        except BaseException:
            session._lock.release()
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._session._lock.release()
