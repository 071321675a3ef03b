"""The connection pool, configured from ``FRAISEQL_DATABASE_URL`` or explicit settings.

The pool can also be opened in the background: :meth:`Database.open_in_background` tries once
and, when the server cannot be reached, keeps trying with a growing delay while requests get
``ServiceUnavailable`` (503 with ``Retry-After``); the first time the pool comes up, an
``on_open`` check runs (the schema's ``require_rls`` check), and a failing check closes the
pool again, is logged at CRITICAL level and is retried like a connection failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from fraiseql.db.admission import DEFAULT_INTERVAL, DEFAULT_TARGET, AdmissionController
from fraiseql.db.session_state import FOR_REQUEST, SettingsConnection, clean
from fraiseql.execution.outcome import ServiceUnavailable
from fraiseql.timers import Delayed, delay_queue

logger = logging.getLogger("fraiseql.db")

UNREACHABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)
"""Errors that mean the server cannot be reached now (not a wrong password or database name)."""

DATABASE_URL_ENV = "FRAISEQL_DATABASE_URL"

LENT_IDLE = 0.1
"""Seconds a connection given back by a request stays with the request sessions, unused,
before it goes back to asyncpg's pool (where its inactivity timer and other users see it):
under steady traffic connections go from request to request; after a burst, something else
waiting on asyncpg's pool (a cache, your own code) waits for them at most about twice this."""


def _has_waiters(pool: asyncpg.Pool) -> bool:
    """Whether something waits for a connection of asyncpg's pool (its queue's getters).

    Unknown (another asyncio, another asyncpg): assumed, so connections go back to the pool.
    """
    getters = getattr(getattr(pool, "_queue", None), "_getters", None)
    return getters is None or bool(getters)


class Turns:
    """At most ``size`` holders at a time, in the order they asked (as ``asyncio.Semaphore``).

    :meth:`take_now` takes a free turn without a coroutine when no one waits for one, which
    asyncio's semaphore cannot.
    """

    __slots__ = ("_free", "_waiters")

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()

    def take_now(self) -> bool:
        """Take a turn if one is free and no one waits before us."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        return False

    async def take(self) -> None:
        """Take a turn, waiting in line for one."""
        if self.take_now():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.give()  # handed a turn just as it was cancelled: the next one has it
            raise

    def give(self) -> None:
        """Give a turn back: to the first still waiting, else to the free ones."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


def _usable(connection: asyncpg.pool.PoolConnectionProxy) -> bool:
    """Whether a pooled connection is open (asyncpg detaches it from its proxy once closed)."""
    try:
        return not connection.is_closed()
    except asyncpg.InterfaceError:
        return False


async def _release_all(
    pool: asyncpg.Pool, connections: list[asyncpg.pool.PoolConnectionProxy]
) -> None:
    for connection in connections:
        try:
            await pool.release(connection)
        except Exception as error:  # a broken connection: asyncpg's pool replaces it
            logger.warning("could not give a connection back to the pool: %s", error)


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """How the pool connects: DSN, size, timeouts (seconds).

    ``retry_min_delay`` and ``retry_max_delay`` bound the delay between two attempts to open
    the pool in the background (it doubles from one to the next). ``max_waiting`` bounds the
    requests waiting for a connection: past it a request is answered 503 with ``Retry-After``
    at once instead of queueing. It is off by default (``None``): against clients that retry at
    once, refusing by count turned an overload into a storm of refusals that starved the
    admitted requests (``bench/overload.py``: at 200 connections, 93 % refused and a fifth of
    the peak's successful requests per second); ``acquire_timeout`` bounds the wait instead.
    Set it for clients that honour ``Retry-After``.

    ``admission`` refuses new requests, before their body is read, while the wait for a
    connection stays above ``queue_target`` seconds for ``queue_interval`` seconds (see
    :mod:`fraiseql.db.admission`): 503 with ``Retry-After`` instead of a growing queue.

    ``keep_settings`` lets a read that is one statement leave its settings (claims, role) on
    the connection's session, set only when they change: one round trip instead of four for a
    tenant's repeated reads (see :mod:`fraiseql.db.session_state`). **Only for connections
    that are PostgreSQL sessions** (direct, or PgBouncer in session mode), never behind
    transaction pooling; off by default.
    """

    dsn: str
    min_size: int = 1
    max_size: int = 10
    acquire_timeout: float = 1.0
    statement_timeout_ms: int = 30_000
    statement_cache_size: int = 256
    connect_timeout: float = 5.0
    retry_min_delay: float = 0.5
    retry_max_delay: float = 10.0
    max_waiting: int | None = None
    keep_settings: bool = False
    admission: bool = False
    queue_target: float = DEFAULT_TARGET
    queue_interval: float = DEFAULT_INTERVAL

    @property
    def waiting_limit(self) -> float:
        """How many requests may wait for a connection (no limit without ``max_waiting``)."""
        return self.max_waiting if self.max_waiting is not None else math.inf

    @classmethod
    def from_env(cls, dsn: str | None = None, **overrides: Any) -> PoolSettings:
        """Settings from ``dsn`` or ``FRAISEQL_DATABASE_URL``, sizes and timeouts from the env.

        ``FRAISEQL_POOL_MIN_SIZE``, ``FRAISEQL_POOL_MAX_SIZE``, ``FRAISEQL_POOL_ACQUIRE_TIMEOUT``
        (seconds), ``FRAISEQL_POOL_MAX_WAITING``, ``FRAISEQL_POOL_STATEMENT_CACHE_SIZE`` (0 turns
        asyncpg's statement cache off), ``FRAISEQL_STATEMENT_TIMEOUT_MS``,
        ``FRAISEQL_POOL_KEEP_SETTINGS`` and ``FRAISEQL_POOL_ADMISSION`` (``1``/``true`` or
        ``0``/``false``), ``FRAISEQL_POOL_QUEUE_TARGET`` and ``FRAISEQL_POOL_QUEUE_INTERVAL``
        (seconds) replace the defaults; ``overrides`` win
        over both. A value that is not a positive number (zero allowed for the minimum size), or a
        minimum above the maximum, is a ``ValueError`` naming the variable.
        """
        dsn = dsn or os.environ.get(DATABASE_URL_ENV)
        if not dsn:
            raise RuntimeError(f"no database URL: pass database_url= or set {DATABASE_URL_ENV}")
        from_environment: dict[str, Any] = {}
        for variable, (name, kind) in POOL_ENV.items():
            text = os.environ.get(variable)
            if text is None or text.strip() == "":
                continue
            try:
                value = kind(text)
            except ValueError:
                value = None
            if value is None or value < 0 or (value == 0 and name not in _ZERO_ALLOWED):
                raise ValueError(f"{variable} must be a positive {kind.__name__}, not {text!r}")
            from_environment[name] = value
        for variable, name in POOL_SWITCH_ENV.items():
            switch = os.environ.get(variable, "").strip().lower()
            if switch:
                if switch not in _BOOLEANS:
                    raise ValueError(f"{variable} must be 1, true, 0 or false, not {switch!r}")
                from_environment[name] = _BOOLEANS[switch]
        settings = cls(dsn=dsn, **{**from_environment, **overrides})
        if settings.min_size > settings.max_size:
            raise ValueError(
                f"the pool's minimum size ({settings.min_size}, FRAISEQL_POOL_MIN_SIZE) is above "
                f"its maximum ({settings.max_size}, FRAISEQL_POOL_MAX_SIZE)"
            )
        return settings


KEEP_SETTINGS_ENV = "FRAISEQL_POOL_KEEP_SETTINGS"
ADMISSION_ENV = "FRAISEQL_POOL_ADMISSION"
POOL_SWITCH_ENV = {KEEP_SETTINGS_ENV: "keep_settings", ADMISSION_ENV: "admission"}
"""Environment variables of the pool's on/off settings: the setting each one turns on or off."""
_BOOLEANS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}

_ZERO_ALLOWED = frozenset({"min_size", "statement_cache_size"})
"""Settings for which 0 means something: no idle connection kept, no statement cache (behind
PgBouncer in transaction mode before 1.21, see docs/deployment/PGBOUNCER.md)."""

POOL_ENV: dict[str, tuple[str, type[int] | type[float]]] = {
    "FRAISEQL_POOL_MIN_SIZE": ("min_size", int),
    "FRAISEQL_POOL_MAX_SIZE": ("max_size", int),
    "FRAISEQL_POOL_ACQUIRE_TIMEOUT": ("acquire_timeout", float),
    "FRAISEQL_STATEMENT_TIMEOUT_MS": ("statement_timeout_ms", int),
    "FRAISEQL_POOL_MAX_WAITING": ("max_waiting", int),
    "FRAISEQL_POOL_STATEMENT_CACHE_SIZE": ("statement_cache_size", int),
    "FRAISEQL_POOL_QUEUE_TARGET": ("queue_target", float),
    "FRAISEQL_POOL_QUEUE_INTERVAL": ("queue_interval", float),
}
"""Environment variables read by :meth:`PoolSettings.from_env`: the setting and its type."""


StatementObserver = Callable[[str], None]
"""Called with the SQL text of every statement a pooled connection runs."""

OnOpen = Callable[[asyncpg.Pool], Awaitable[None]]
"""A check run on the pool just opened, before requests may use it; raising closes it again."""
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
        self._opener: asyncio.Task[None] | None = None
        self._next_attempt = 0.0
        self.last_error: BaseException | None = None
        self.observe_statements = observe_statements
        self.statement_observers: list[StatementObserver] = []
        self.query_observers: list[QueryObserver] = []
        self.waiting = 0
        """Requests waiting for a connection now (see ``PoolSettings.max_waiting``)."""
        self._turns = Turns(settings.max_size)
        """Request sessions take connections in the order they asked (see :meth:`acquire`)."""
        self._lent: list[tuple[asyncpg.pool.PoolConnectionProxy, float]] = []
        """Connections request sessions gave back, kept for the next (see :meth:`release`),
        with the time each was given back: the last given back is the first taken again."""
        self._return_idle: Delayed | None = None
        self._returning: set[asyncio.Task[None]] = set()
        self.refused = 0
        """Requests refused because too many were waiting."""
        self.admission = (
            AdmissionController(settings.queue_target, settings.queue_interval)
            if settings.admission
            else None
        )
        """Admission by time in queue (``PoolSettings.admission``), asked before a request is
        read."""

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

    async def _setup_connection(self, connection: asyncpg.pool.PoolConnectionProxy) -> None:
        """Hand a connection out clean, unless a request session takes it (it sets its own)."""
        if not FOR_REQUEST.get():
            await clean(connection, self.settings.statement_timeout_ms)

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
            timeout=settings.connect_timeout,
            init=self._init_connection,
            reset=self._reset_connection,
            # Settings kept on sessions (keep_settings) are known per connection, and cleaned
            # before anyone but a request session gets one.
            connection_class=SettingsConnection,
            setup=self._setup_connection if settings.keep_settings else None,
            server_settings={
                "application_name": "fraiseql",
                "statement_timeout": str(settings.statement_timeout_ms),
            },
        )

    async def open_in_background(self, on_open: OnOpen | None = None) -> None:
        """Open the pool now if the server answers, else keep trying in the background.

        Returns once the pool is open and ``on_open`` passed, or once the first attempt failed
        because the server is unreachable (see ``UNREACHABLE``). Any other error (a wrong
        password, a failing ``on_open``) propagates: with the server up, a misconfiguration
        stops the application as before.
        """
        if self._pool is not None or self._opener is not None:
            return
        try:
            await self._open_and_check(on_open)
        except UNREACHABLE as error:
            self.last_error = error
            logger.warning(
                "database unreachable at startup (%s); answering 503 and retrying", error
            )
            self._next_attempt = time.monotonic() + self.settings.retry_min_delay
            self._opener = asyncio.create_task(self._keep_trying(on_open))

    async def _open_and_check(self, on_open: OnOpen | None) -> None:
        await self.open()
        if on_open is None:
            return
        assert self._pool is not None
        try:
            await on_open(self._pool)
        except BaseException:
            pool, self._pool = self._pool, None
            await pool.close()  # not self.close(): that would cancel the retrying task
            raise

    async def _keep_trying(self, on_open: OnOpen | None) -> None:
        delay = self.settings.retry_min_delay
        while True:
            await asyncio.sleep(max(0.0, self._next_attempt - time.monotonic()))
            try:
                await self._open_and_check(on_open)
            except UNREACHABLE as error:
                self.last_error = error
                logger.info("database still unreachable: %s", error)
            except Exception as error:  # the on_open check refused: loud, and retried
                self.last_error = error
                logger.critical("the database came up but cannot be used: %s", error)
            else:
                self.last_error = None
                self._opener = None
                logger.warning("database reachable again: the pool is open")
                return
            delay = min(delay * 2, self.settings.retry_max_delay)
            self._next_attempt = time.monotonic() + delay

    async def acquire(self) -> asyncpg.pool.PoolConnectionProxy:
        """A connection for a request session, handed out first come, first served.

        asyncpg's pool gives a released connection to whoever asks next, which may be a request
        that just arrived rather than one that has waited: under overload some requests wait
        for the whole acquire timeout while others barely wait. Turns of the pool's size
        (:class:`Turns`) in front of it queue request sessions in order: no newcomer passes a
        waiter. The connection is one a request gave back (see :meth:`release`), else one of
        asyncpg's pool. Give it back with :meth:`release`.
        """
        pool = self.pool
        await self._turns.take()
        kept = self._pop_kept()
        if kept is not None:
            return kept
        try:
            return await pool.acquire()
        except BaseException:
            self._turns.give()
            raise

    def acquire_now(self) -> asyncpg.pool.PoolConnectionProxy | None:
        """A kept connection and a turn when both are free now, without waiting, else ``None``.

        What :meth:`acquire` would return at once, with no coroutine, timer or task: a request
        that finds a connection free needs no time limit on taking it.
        """
        if not self._lent or self._pool is None or not self._turns.take_now():
            return None
        kept = self._pop_kept()
        if kept is None:
            self._turns.give()
        return kept

    def _pop_kept(self) -> asyncpg.pool.PoolConnectionProxy | None:
        """The last kept connection still open; closed ones go to asyncpg to be replaced."""
        lent = self._lent
        while lent:
            connection = lent.pop()[0]
            if _usable(connection):
                return connection
            self._give_back([connection])
        return None

    async def release(self, connection: asyncpg.pool.PoolConnectionProxy) -> None:
        """Give back a connection taken with :meth:`acquire` (and its turn).

        A clean connection (open, outside a transaction) stays with the request sessions for
        the next one, unless something else waits for asyncpg's pool: asyncpg's own release
        schedules a task and re-arms the connection's inactivity timer, two event-loop turns
        that cost a lookup by id a quarter of its instructions.
        A connection no request took again for ``LENT_IDLE`` seconds goes back to asyncpg.
        """
        if self._keep(connection):
            if self.observe_statements:
                # asyncpg reports a statement to its loggers with call_soon: one turn of the
                # loop lets the observers see the request's statements before it ends.
                await asyncio.sleep(0)
            return
        try:
            await self.pool.release(connection)
        finally:
            self._turns.give()

    def release_now(self, connection: asyncpg.pool.PoolConnectionProxy) -> bool:
        """What :meth:`release` does for a clean connection, without a coroutine.

        ``False`` (nothing done) when it must go through :meth:`release`: not clean, something
        waits for asyncpg's pool, or statements are observed.
        """
        return not self.observe_statements and self._keep(connection)

    def _keep(self, connection: asyncpg.pool.PoolConnectionProxy) -> bool:
        """Keep a clean connection for the next request and give its turn back (or ``False``)."""
        pool = self._pool
        if (
            pool is None
            or not _usable(connection)
            or connection.is_in_transaction()
            or _has_waiters(pool)
        ):
            return False
        self._lent.append((connection, time.monotonic()))
        if self._return_idle is None or self._return_idle.callback is None:
            self._return_idle = delay_queue(LENT_IDLE).call_later(self._return_idle_lent)
        self._turns.give()
        return True

    @contextlib.asynccontextmanager
    async def borrow(self) -> AsyncIterator[asyncpg.pool.PoolConnectionProxy]:
        """A connection for work other than a request session, given back after use.

        An idle one kept for request sessions if there is one (a health check must not wait for
        them to go back to asyncpg), else one of asyncpg's pool.
        """
        pool = self.pool
        lent = self._lent
        connection = lent.pop()[0] if lent else await pool.acquire()
        try:
            yield connection
        finally:
            await pool.release(connection)

    @property
    def lent_idle(self) -> int:
        """Idle connections kept for request sessions (asyncpg counts them in use)."""
        return len(self._lent)

    @property
    def idle_connections(self) -> int:
        """Connections no one uses now: idle in asyncpg's pool or kept for request sessions."""
        return self.pool.get_idle_size() + len(self._lent)

    def _return_idle_lent(self) -> None:
        """Give asyncpg back the lent connections idle for ``LENT_IDLE`` seconds or more."""
        self._return_idle = None
        lent = self._lent
        cutoff = time.monotonic() - LENT_IDLE
        stale = 0
        while stale < len(lent) and lent[stale][1] <= cutoff:  # the oldest are at the bottom
            stale += 1
        if stale:
            self._give_back([connection for connection, _ in lent[:stale]])
            del lent[:stale]
        if lent:
            self._return_idle = delay_queue(LENT_IDLE).call_later(self._return_idle_lent)

    def _give_back(self, connections: list[asyncpg.pool.PoolConnectionProxy]) -> None:
        """Release lent connections to asyncpg's pool, in the background."""
        pool = self._pool
        if pool is None:
            return
        task = asyncio.get_running_loop().create_task(_release_all(pool, connections))
        self._returning.add(task)
        task.add_done_callback(self._returning.discard)

    async def _return_all_lent(self) -> None:
        """Give asyncpg back every lent connection, and wait until it has them (at close)."""
        if self._return_idle is not None:
            self._return_idle.cancel()
            self._return_idle = None
        lent, self._lent = self._lent, []
        if self._pool is not None:
            await _release_all(self._pool, [connection for connection, _ in lent])
        if self._returning:
            await asyncio.gather(*self._returning, return_exceptions=True)

    @property
    def is_open(self) -> bool:
        """Whether the pool is open (and, when opened in the background, its check passed)."""
        return self._pool is not None and self._opener is None

    async def close(self) -> None:
        """Close the pool, waiting for connections to be released; stop background attempts."""
        opener, self._opener = self._opener, None
        if opener is not None:
            opener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await opener
        await self._return_all_lent()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @property
    def pool(self) -> asyncpg.Pool:
        """The open pool.

        Raises ``ServiceUnavailable`` while the pool is being opened in the background (its
        ``retry_after`` is the time to the next attempt), ``RuntimeError`` when it was never
        opened.
        """
        if self._opener is not None:
            wait = max(1, math.ceil(self._next_attempt - time.monotonic()))
            raise ServiceUnavailable(
                "The database is unavailable. Try again shortly.",
                retry_after=wait,
                unreachable=True,
            )
        if self._pool is None:
            raise RuntimeError("the database pool is not open (was the app's startup run?)")
        return self._pool
