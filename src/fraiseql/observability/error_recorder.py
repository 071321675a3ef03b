"""Recording errors in PostgreSQL without ever failing or slowing the request.

The request path only builds a row and puts it in a bounded queue (``put_nowait``): when the
queue is full the row is dropped and counted. A background task drains the queue in batches
over its own connection (not one of the request pool's) and counts what it wrote and what
failed; a failed write is logged and the task goes on, reconnecting when it must.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Sequence

import asyncpg

from fraiseql.observability.classify import fingerprint
from fraiseql.observability.error_store import ErrorRow, install_errors_table, write_errors
from fraiseql.observability.observer import Observer
from fraiseql.observability.record import Category, ErrorEvent, RequestRecord

logger = logging.getLogger("fraiseql.observability.errors")

DEFAULT_CATEGORIES: tuple[Category, ...] = ("user", "system", "unexpected")


class ErrorRecorder(Observer):
    """Queues every error of the ``categories`` given and writes them to ``fraiseql_errors``.

    ``dsn`` is the database to write to (usually the application's); ``install=True`` creates
    the table at start. Counters: ``queued``, ``written`` (rows upserted), ``dropped`` (queue
    full), ``failed`` (rows lost to a failed write).
    """

    def __init__(
        self,
        dsn: str,
        *,
        max_queue: int = 1000,
        batch_size: int = 100,
        categories: Sequence[Category] = DEFAULT_CATEGORIES,
        install: bool = False,
        connect_timeout: float = 5.0,
        retry_delay: float = 1.0,
    ) -> None:
        self.dsn = dsn
        self.queue: asyncio.Queue[ErrorRow] = asyncio.Queue(maxsize=max_queue)
        self.batch_size = batch_size
        self.categories = frozenset(categories)
        self.install = install
        self.connect_timeout = connect_timeout
        self.retry_delay = retry_delay
        self.queued = self.written = self.dropped = self.failed = 0
        self._task: asyncio.Task[None] | None = None
        self._connection: asyncpg.Connection | None = None

    # -- request path: never raises, never waits ---------------------------------------------

    def error(self, record: RequestRecord, event: ErrorEvent) -> None:
        """Queue the error, or drop it (counted) when the queue is full."""
        if event.category not in self.categories:
            return
        row = ErrorRow(
            fingerprint=fingerprint(event, record.operation_name),
            category=event.category,
            code=event.code,
            message=event.message[:2000],
            sqlstate=event.sqlstate,
            operation_name=record.operation_name,
            document_hash=record.document_hash,
            path=".".join(str(part) for part in event.path) if event.path else None,
            variables=record.instrumentation.redacted_variables(record),
            trace_id=record.trace_id,
            error_id=event.error_id,
            seen=datetime.datetime.now(datetime.UTC),
        )
        try:
            self.queue.put_nowait(row)
        except asyncio.QueueFull:
            self.dropped += 1
        else:
            self.queued += 1

    # -- background writer -----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the writer task (at application startup)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, *, drain_timeout: float = 2.0) -> None:
        """Write what is queued (for at most ``drain_timeout`` s), then stop the writer."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.queue.join(), drain_timeout)
        task, self._task = self._task, None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await self._disconnect()

    async def flush(self) -> None:
        """Wait until every queued row was written or counted as failed (for tests, shutdown)."""
        await self.queue.join()

    async def _run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < self.batch_size and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                await self._write(batch)
                self.written += len(batch)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.failed += len(batch)
                logger.warning("could not record %d error(s): %s", len(batch), error)
                await self._disconnect()
                await asyncio.sleep(self.retry_delay)
            finally:
                for _ in batch:
                    self.queue.task_done()

    async def _write(self, batch: list[ErrorRow]) -> None:
        if self._connection is None or self._connection.is_closed():
            connection = await asyncpg.connect(
                self.dsn,
                timeout=self.connect_timeout,
                server_settings={"application_name": "fraiseql-errors"},
            )
            try:
                if self.install:
                    await install_errors_table(connection)
            except BaseException:
                await connection.close()
                raise
            self._connection = connection
        await write_errors(self._connection, batch)

    async def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close(timeout=1)

    def counters(self) -> dict[str, tuple[str, str, float]]:
        """The counters as metrics: name → (kind, help, value)."""
        return {
            "queued": ("counter", "Errors queued for recording.", self.queued),
            "written": ("counter", "Error occurrences written to the table.", self.written),
            "dropped": ("counter", "Errors dropped because the queue was full.", self.dropped),
            "failed": ("counter", "Error occurrences lost to failed writes.", self.failed),
            "queue_depth": ("gauge", "Errors waiting in the queue.", self.queue.qsize()),
        }
