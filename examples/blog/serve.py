"""``make demo``: get a PostgreSQL, load the example blog, serve it at http://127.0.0.1:8000/graphql.

The database is ``FRAISEQL_DATABASE_URL`` when set, else an embedded PostgreSQL whose data lives in
``.fraiseql/pgdata`` at the repository root (stopped again when this process exits). The example
schema and data are loaded when the database does not have them yet, or with ``--reset``.
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

from examples.blog.app import TENANT_HEADER, build
from examples.blog.database import PROJECT_ROOT, SCHEMA_FILES, load_schema, seed
from examples.blog.security import APP_ROLE, security_sql
from fraiseql.db.commands import CONTRACT_SQL

logger = logging.getLogger("examples.blog.serve")


def _fingerprint() -> str:
    """A hash of the example's SQL, stored with the data so an outdated database is reloaded."""
    digest = hashlib.sha256()
    for path in SCHEMA_FILES:
        digest.update(path.read_bytes())
    digest.update(security_sql().encode())
    digest.update(CONTRACT_SQL.encode())  # the helpers FraiseQL calls, loaded with the schema
    return "fraiseql example " + digest.hexdigest()[:16]


async def _has_current_data(dsn: str) -> bool:
    connection = await asyncpg.connect(dsn)
    try:
        exists = await connection.fetchval("SELECT to_regclass('tv_post') IS NOT NULL")
        if not exists:
            return False
        stored = await connection.fetchval("SELECT obj_description('tv_post'::regclass)")
        if stored != _fingerprint():
            return False
        return bool(await connection.fetchval("SELECT EXISTS (SELECT 1 FROM tv_post)"))
    finally:
        await connection.close()


async def _mark_current(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        literal = _fingerprint().replace("'", "''")
        await connection.execute(f"COMMENT ON TABLE tv_post IS '{literal}'")
    finally:
        await connection.close()


async def prepare_database(reset: bool, posts: int) -> str:
    """The DSN of a database holding the example blog, loading it when needed."""
    dsn = os.environ.get("FRAISEQL_DATABASE_URL")
    if not dsn:
        from fraiseql.db.locate import embedded_dsn

        print("No FRAISEQL_DATABASE_URL: starting the embedded PostgreSQL in .fraiseql/pgdata ...")
        dsn = await asyncio.to_thread(embedded_dsn, PROJECT_ROOT / ".fraiseql" / "pgdata")
        # A direct connection to a server of our own: a tenant's settings may stay on the
        # pooled sessions (one round trip per repeated read instead of four; see
        # fraiseql.db.session_state). Never through a transaction-pooling proxy.
        os.environ.setdefault("FRAISEQL_POOL_KEEP_SETTINGS", "1")
    if reset or not await _has_current_data(dsn):
        started = time.perf_counter()
        print(f"Loading the example blog ({posts} posts) ...")
        built = await load_schema(dsn)
        print(f"Schema built by Confiture in {built.seconds:.3f} s ({built.files} files).")
        await seed(dsn, posts=posts)
        await _mark_current(dsn)
        print(f"Loaded in {time.perf_counter() - started:.1f} s.")
    return dsn


async def _tenants(dsn: str, count: int = 3) -> list[tuple[str, str]]:
    """``(identifier, id)`` of the first organisations, to show which ids the demo accepts."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT identifier, id::text FROM tb_organisation ORDER BY pk_organisation LIMIT $1",
            count,
        )
    finally:
        await connection.close()
    return [(row["identifier"], row["id"]) for row in rows]


def main(argv: list[str] | None = None) -> None:
    """Run the demo server until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("FRAISEQL_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("FRAISEQL_PORT", "8000")))
    parser.add_argument("--reset", action="store_true", help="reload the example data")
    parser.add_argument("--posts", type=int, default=10_000)
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    dsn = asyncio.run(prepare_database(arguments.reset, arguments.posts))
    tenants = asyncio.run(_tenants(dsn))
    url = f"http://{arguments.host}:{arguments.port}/graphql"
    print(f"\nFraiseQL example blog: open {url} in a browser for GraphiQL, or POST queries to it.")
    print(
        f"Requests run as the role {APP_ROLE!r} under row-level security: each organisation sees"
        f" its own rows only,\nchosen by the {TENANT_HEADER} header (no header: no rows)."
        " DEMO ONLY: the header is not authentication,\nany client may send any id."
    )
    for identifier, tenant in tenants:
        print(f"  {TENANT_HEADER}: {tenant}   ({identifier})")
    example = '{"query":"{ posts(limit: 2) { title author { name } } }"}'
    header = f"{TENANT_HEADER}: {tenants[0][1]}" if tenants else f"{TENANT_HEADER}: <id>"
    print(f"  curl -s -H 'Content-Type: application/json' -H '{header}' -d '{example}' {url}")
    print(f'In GraphiQL, put the header in the Headers pane: {{"{TENANT_HEADER}": "<id>"}}')
    print("Press Ctrl-C to stop.\n")
    config = uvicorn.Config(
        build(dsn), host=arguments.host, port=arguments.port, log_level="warning", lifespan="on"
    )
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run()
    print("Stopped.")


if __name__ == "__main__":
    main()
