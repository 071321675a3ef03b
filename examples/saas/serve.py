"""Get a PostgreSQL, load the SaaS example, serve it at http://127.0.0.1:8002/graphql.

``python -m examples.saas.serve``: GraphQL (with GraphiQL) at ``/graphql``, the account routes
at ``/auth/login``, ``/auth/signup`` and ``/auth/accept-invitation``. The database is
``FRAISEQL_DATABASE_URL`` when set (give the example a database of its own), else an embedded
PostgreSQL whose data lives in ``.fraiseql/saas-pgdata`` at the repository root (stopped again
when this process exits). The schema and seed are loaded when the database does not have them
yet (or an outdated version of them), or with ``--reset``. The token signing key is made at
the first start in ``.fraiseql/saas-data/`` (see ``examples/saas/tokens.py``).
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
from examples.saas.app import build
from examples.saas.database import (
    MEMBERS,
    PROJECT_ROOT,
    SCHEMA_FILES,
    demo_password,
    load_schema,
    seed,
)
from examples.saas.tokens import SigningKey

EMBEDDED_DATA_DIR = PROJECT_ROOT / ".fraiseql" / "saas-pgdata"
"""The embedded server's data, when ``FRAISEQL_DATABASE_URL`` is not set."""
KEY_DIR = PROJECT_ROOT / ".fraiseql" / "saas-data"
"""Where the signing key is kept."""
DEFAULT_PORT = 8002


def _fingerprint() -> str:
    """A hash of the example's SQL, stored with the data so an outdated database is reloaded."""
    digest = hashlib.sha256()
    for path in SCHEMA_FILES:
        digest.update(path.read_bytes())
    return "fraiseql saas example " + digest.hexdigest()[:16]


async def _has_current_data(dsn: str) -> bool:
    connection = await asyncpg.connect(dsn)
    try:
        if not await connection.fetchval("SELECT to_regclass('tv_invoice') IS NOT NULL"):
            return False
        stored = await connection.fetchval("SELECT obj_description('tv_invoice'::regclass)")
        return bool(stored == _fingerprint())
    finally:
        await connection.close()


async def _mark_current(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        literal = _fingerprint().replace("'", "''")
        await connection.execute(f"COMMENT ON TABLE tv_invoice IS '{literal}'")
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
        print("Loading the SaaS example ...")
        await load_schema(dsn)
        await seed(dsn)
        await _mark_current(dsn)
        print(f"Loaded in {time.perf_counter() - started:.1f} s.")
    return dsn


def _banner(base: str) -> str:
    logins = "\n".join(
        f"  {organisation:8} {member:7} {role:6} {member}@{organisation}.example"
        f"  {demo_password(organisation, member)}"
        for organisation, members in MEMBERS.items()
        for member, _, role in members
    )
    return f"""
FraiseQL SaaS example: GraphQL at {base}/graphql (GraphiQL in a browser).
Every GraphQL request needs a bearer token. Get one (demo accounts below):

  curl -s {base}/auth/login -H 'Content-Type: application/json' \\
    -d '{{"organisation": "acme", "email": "bob@acme.example", "password": "acme-bob-demo"}}'

then send it as 'Authorization: Bearer <token>' (GraphiQL: the Headers pane).
Demo accounts (organisation, member, role, email, password):
{logins}
Press Ctrl-C to stop.
"""


def main(argv: list[str] | None = None) -> None:
    """Run the SaaS server until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m examples.saas.serve", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("FRAISEQL_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("FRAISEQL_PORT", str(DEFAULT_PORT)))
    )
    parser.add_argument("--reset", action="store_true", help="reload the example data")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    dsn = asyncio.run(prepare_database(arguments.reset))
    app = build(dsn, SigningKey.load_or_create(KEY_DIR))
    print(_banner(f"http://{arguments.host}:{arguments.port}"))
    config = uvicorn.Config(
        app, host=arguments.host, port=arguments.port, log_level="warning", lifespan="on"
    )
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run()
    print("Stopped.")


if __name__ == "__main__":
    main()
