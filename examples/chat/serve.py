"""Get a PostgreSQL, load the chat example, serve it at http://127.0.0.1:8001/.

``python -m examples.chat.serve``: the page is at ``/``, GraphQL (HTTP, WebSocket with
``graphql-transport-ws``, SSE) at ``/graphql``. The database is ``FRAISEQL_DATABASE_URL`` when
set, else an embedded PostgreSQL whose data lives in ``.fraiseql/chat-pgdata`` at the
repository root (stopped again when this process exits). The example's schema and data are
loaded when the database does not have them yet (or an outdated version of them), or with
``--reset``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import logging
import os
import time

import asyncpg
import uvicorn

from examples.chat.app import TENANT_HEADER, USER_HEADER, build
from examples.chat.database import EMBEDDED_DATA_DIR, SCHEMA_FILES, load_schema, seed
from examples.chat.page import organisation_directory
from examples.chat.security import APP_ROLE, security_sql
from fraiseql.db.commands import CONTRACT_SQL

logger = logging.getLogger("examples.chat.serve")


def _fingerprint() -> str:
    """A hash of the example's SQL, stored with the data so an outdated database is reloaded."""
    digest = hashlib.sha256()
    for path in SCHEMA_FILES:
        digest.update(path.read_bytes())
    digest.update(security_sql().encode())
    digest.update(CONTRACT_SQL.encode())  # the helpers FraiseQL calls, loaded with the schema
    return "fraiseql chat example " + digest.hexdigest()[:16]


async def _has_current_data(dsn: str) -> bool:
    connection = await asyncpg.connect(dsn)
    try:
        if not await connection.fetchval("SELECT to_regclass('tv_message') IS NOT NULL"):
            return False
        stored = await connection.fetchval("SELECT obj_description('tv_message'::regclass)")
        if stored != _fingerprint():
            return False
        return bool(await connection.fetchval("SELECT EXISTS (SELECT 1 FROM tv_room)"))
    finally:
        await connection.close()


async def _mark_current(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        literal = _fingerprint().replace("'", "''")
        await connection.execute(f"COMMENT ON TABLE tv_message IS '{literal}'")
    finally:
        await connection.close()


async def prepare_database(reset: bool) -> str:
    """The DSN of a database holding the chat example, loading it when needed."""
    dsn = os.environ.get("FRAISEQL_DATABASE_URL")
    if not dsn:
        from fraiseql.db.locate import embedded_dsn

        print(f"No FRAISEQL_DATABASE_URL: starting the embedded PostgreSQL in {EMBEDDED_DATA_DIR}")
        dsn = await asyncio.to_thread(embedded_dsn, EMBEDDED_DATA_DIR)
    if reset or not await _has_current_data(dsn):
        started = time.perf_counter()
        print("Loading the chat example ...")
        await load_schema(dsn)
        await seed(dsn)
        await _mark_current(dsn)
        print(f"Loaded in {time.perf_counter() - started:.1f} s.")
    return dsn


def main(argv: list[str] | None = None) -> None:
    """Run the chat server until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m examples.chat.serve", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("FRAISEQL_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("FRAISEQL_PORT", "8001")))
    parser.add_argument("--reset", action="store_true", help="reload the example data")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    dsn = asyncio.run(prepare_database(arguments.reset))
    organisations = asyncio.run(organisation_directory(dsn))
    app = build(dsn, organisations=organisations)
    base = f"http://{arguments.host}:{arguments.port}"
    print(f"\nFraiseQL chat example: open {base}/ in two browser windows and chat.")
    print(
        f"GraphQL at {base}/graphql (GraphiQL in a browser). Operations run as the role"
        f" {APP_ROLE!r} under row-level security,\nfor the organisation of the {TENANT_HEADER}"
        f" header (or the tenantId connection parameter over WebSocket) and the user of"
        f" {USER_HEADER} (userId).\nDEMO ONLY: they are not authentication, any client may send"
        " any id."
    )
    for organisation in organisations:
        print(f"  {TENANT_HEADER}: {organisation['id']}   ({organisation['identifier']})")
    print("Press Ctrl-C to stop.\n")
    config = uvicorn.Config(
        app, host=arguments.host, port=arguments.port, log_level="warning", lifespan="on"
    )
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run()
    print("Stopped.")


if __name__ == "__main__":
    main()
