"""Get a PostgreSQL, load the event-sourcing example, serve it at http://127.0.0.1:8003/graphql.

``python -m examples.event_sourcing.serve`` (``make events``). The database is
``FRAISEQL_DATABASE_URL`` when set, else an embedded PostgreSQL whose data lives in
``.fraiseql/events-pgdata`` at the repository root (stopped again when this process exits).
The example's schema and seed are loaded when the database does not have them yet (or an
outdated version of them), or with ``--reset``. The catch-up projector runs in a thread beside
the server and stops with it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import logging
import os
import threading
import time

import asyncpg
import uvicorn

from examples.event_sourcing import projector
from examples.event_sourcing.app import ACTOR_HEADER, APP_ROLE, build
from examples.event_sourcing.database import EMBEDDED_DATA_DIR, SCHEMA_FILES, load_schema
from examples.event_sourcing.seed import seed

logger = logging.getLogger("examples.event_sourcing.serve")


def fingerprint() -> str:
    """A hash of the example's SQL, stored with the data so an outdated database is reloaded."""
    digest = hashlib.sha256()
    for path in SCHEMA_FILES:
        digest.update(path.read_bytes())
    return "fraiseql event-sourcing example " + digest.hexdigest()[:16]


async def _has_current_data(dsn: str) -> bool:
    connection = await asyncpg.connect(dsn)
    try:
        if not await connection.fetchval("SELECT to_regclass('tb_event') IS NOT NULL"):
            return False
        stored = await connection.fetchval("SELECT obj_description('tb_event'::regclass)")
        return bool(stored == fingerprint())
    finally:
        await connection.close()


async def _mark_current(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        literal = fingerprint().replace("'", "''")
        await connection.execute(f"COMMENT ON TABLE tb_event IS '{literal}'")
    finally:
        await connection.close()


async def prepare_database(reset: bool) -> str:
    """The DSN of a database holding the example, loading it when needed."""
    dsn = os.environ.get("FRAISEQL_DATABASE_URL")
    if not dsn:
        from fraiseql.db.locate import embedded_dsn

        print(f"No FRAISEQL_DATABASE_URL: starting the embedded PostgreSQL in {EMBEDDED_DATA_DIR}")
        dsn = await asyncio.to_thread(embedded_dsn, EMBEDDED_DATA_DIR)
    if reset or not await _has_current_data(dsn):
        started = time.perf_counter()
        print("Loading the event-sourcing example ...")
        await load_schema(dsn)
        await seed(dsn)
        await _mark_current(dsn)
        print(f"Loaded in {time.perf_counter() - started:.1f} s.")
    return dsn


def main(argv: list[str] | None = None) -> None:
    """Run the server and the projector until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.event_sourcing.serve", description=__doc__
    )
    parser.add_argument("--host", default=os.environ.get("FRAISEQL_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("FRAISEQL_PORT", "8003")))
    parser.add_argument("--reset", action="store_true", help="rebuild the store and reseed it")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    dsn = asyncio.run(prepare_database(arguments.reset))
    url = f"http://{arguments.host}:{arguments.port}/graphql"
    print(f"\nFraiseQL event-sourcing example: open {url} in a browser for GraphiQL.")
    print(
        f"Requests run as the role {APP_ROLE!r}; commands record the actor of the"
        f" {ACTOR_HEADER} header\n(DEMO ONLY: it is not authentication). Try:"
    )
    query = (
        '{"query":"{ accountHistory(account: \\"alice-checking\\")'
        ' { version type amount actor } }"}'
    )
    print(f"  curl -s -H 'Content-Type: application/json' -d '{query}' {url}")
    print("Press Ctrl-C to stop.\n")
    stop = threading.Event()
    follower = threading.Thread(target=projector.run, args=(dsn, stop), name="projector")
    follower.start()
    try:
        config = uvicorn.Config(
            build(dsn), host=arguments.host, port=arguments.port, log_level="warning"
        )
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.Server(config).run()
    finally:
        stop.set()
        follower.join(10)
    print("Stopped.")


if __name__ == "__main__":
    main()
