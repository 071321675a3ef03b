"""The catch-up projector: rebuilds read models from the event store, after a checkpoint.

The work is done by ``fn_catch_up(projection, batch_size)`` (``db/schema/50_projections/``):
one call applies the next batch of events to one projection and moves its checkpoint, in one
transaction. This module calls it:

- :func:`catch_up` until a projection has nothing more it may read now;
- :func:`wait_caught_up` until it has read every committed event (an old transaction still
  running elsewhere on the server holds it back meanwhile, see the SQL);
- :func:`replay` to forget the projections (``fn_reset_projections``) and rebuild them;
- :func:`run` to keep every projection current, polling, until told to stop
  (``python -m examples.event_sourcing.serve`` runs it in a thread).

Command line::

    python -m examples.event_sourcing.projector --dsn postgresql://... [--replay] [--follow]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import threading
import time

import asyncpg

__all__ = ["PROJECTIONS", "catch_up", "lag", "replay", "run", "wait_caught_up"]

logger = logging.getLogger(__name__)

PROJECTIONS = ("account", "daily_activity")
"""The projections of ``tb_projection_checkpoint``."""


async def catch_up(connection: asyncpg.Connection, projection: str, batch_size: int = 500) -> int:
    """Apply batches to ``projection`` until none is left that may be read now; the count."""
    total = 0
    while True:
        applied: int = await connection.fetchval(
            "SELECT fn_catch_up($1, $2)", projection, batch_size
        )
        total += applied
        if applied < batch_size:
            return total


async def lag(connection: asyncpg.Connection, projection: str) -> int:
    """How many committed events ``projection`` has not read yet."""
    value: int = await connection.fetchval("SELECT fn_projection_lag($1)", projection)
    return value


async def wait_caught_up(
    connection: asyncpg.Connection,
    projections: tuple[str, ...] = PROJECTIONS,
    *,
    patience: float = 30.0,
    interval: float = 0.05,
) -> None:
    """Catch every projection up until it has read every committed event.

    Raises ``TimeoutError`` after ``patience`` seconds (a transaction kept open elsewhere on
    the server for that long holds the projector back).
    """
    deadline = time.monotonic() + patience
    while True:
        behind = 0
        for projection in projections:
            await catch_up(connection, projection)
            behind += await lag(connection, projection)
        if behind == 0:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the projections are still {behind} events behind")
        await asyncio.sleep(interval)


async def replay(connection: asyncpg.Connection, *, patience: float = 30.0) -> None:
    """Rebuild every projection (and the snapshots) from the events, from scratch."""
    await connection.execute("SELECT fn_reset_projections()")
    await wait_caught_up(connection, patience=patience)


async def _follow(dsn: str, stop: threading.Event, interval: float) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        while not stop.is_set():
            for projection in PROJECTIONS:
                applied = await catch_up(connection, projection)
                if applied:
                    logger.info("projector: %s +%d events", projection, applied)
            await asyncio.to_thread(stop.wait, interval)
    finally:
        await connection.close()


def run(dsn: str, stop: threading.Event, interval: float = 0.5) -> None:
    """Keep the projections current until ``stop`` is set (blocking; run it in a thread).

    A failure (the database going away) is logged and retried after a pause.
    """
    while not stop.is_set():
        try:
            asyncio.run(_follow(dsn, stop, interval))
        except (OSError, asyncpg.PostgresError) as error:
            logger.warning("projector: %s; retrying", error)
            stop.wait(2.0)


async def _main(arguments: argparse.Namespace) -> None:
    connection = await asyncpg.connect(arguments.dsn)
    try:
        if arguments.replay:
            await replay(connection)
        else:
            await wait_caught_up(connection)
    finally:
        await connection.close()
    if arguments.follow:
        stop = threading.Event()
        try:
            await asyncio.to_thread(run, arguments.dsn, stop)
        finally:
            stop.set()


def main(argv: list[str] | None = None) -> None:
    """Catch the projections up (or replay them), once or ``--follow``."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.event_sourcing.projector", description=__doc__
    )
    parser.add_argument("--dsn", required=True, help="PostgreSQL URL of the example database")
    parser.add_argument("--replay", action="store_true", help="rebuild from scratch first")
    parser.add_argument("--follow", action="store_true", help="keep them current until Ctrl-C")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
