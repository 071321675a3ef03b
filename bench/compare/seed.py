"""The comparison's database: the example blog at the issue's size, kept between runs.

The database (``fraiseql_bench`` for the published run, ``fraiseql_bench_quick`` for the quick
mode) lives on the server of ``FRAISEQL_BENCH_DATABASE_URL`` (else the local server). It holds
a fingerprint (seed version, sizes, a hash of the example's SQL files): when it matches, the
data is reused and nothing is seeded; otherwise the schema is loaded and the data seeded anew
with the example's own set-based seed (``examples.blog.database.seed``: one ``INSERT ...
SELECT generate_series`` per table, then one ``fn_sync_tv_<entity>()`` per read model, which
syncs every row in one statement when given no ids).

    python -m bench.compare.seed [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import time
from typing import Any

import asyncpg

from bench.common import DATABASE_URL_ENV, log, server_url, with_database

SEED_VERSION = 1
"""Bump when the seeding below changes: the next run then seeds anew."""

SIZES: dict[str, dict[str, int]] = {
    # The sizes: 100 000 users, 1 000 000 posts, about 1 600 000 comments (two per
    # published or archived post; drafts, about 20 %, have none).
    "full": {"organisations": 100, "users": 100_000, "posts": 1_000_000, "comments_per_post": 2},
    "quick": {"organisations": 20, "users": 5_000, "posts": 30_000, "comments_per_post": 2},
}
DATABASES = {"full": "fraiseql_bench", "quick": "fraiseql_bench_quick"}


def fingerprint(mode: str) -> str:
    """What the seeded data depends on: this module's version, the sizes and the schema files."""
    from examples.blog.database import SCHEMA_FILES

    digest = hashlib.sha256()
    for path in SCHEMA_FILES:
        digest.update(path.read_bytes())
    return json.dumps(
        {"seed_version": SEED_VERSION, "sizes": SIZES[mode], "schema": digest.hexdigest()[:16]},
        sort_keys=True,
    )


async def _stored_fingerprint(dsn: str) -> str | None:
    connection = await asyncpg.connect(dsn)
    try:
        exists = await connection.fetchval("SELECT to_regclass('bench_fingerprint') IS NOT NULL")
        if not exists:
            return None
        value = await connection.fetchval("SELECT value FROM bench_fingerprint")
        return str(value) if value is not None else None
    finally:
        await connection.close()


PEER_EXTRAS = """
CREATE INDEX IF NOT EXISTS bench_tb_post_author_created_idx ON tb_post (fk_user, created_at, id);
CREATE INDEX IF NOT EXISTS bench_tb_comment_post_created_idx
    ON tb_comment (fk_post, created_at, id);
COMMENT ON COLUMN tb_post.created_at IS '@behavior +orderBy';
COMMENT ON COLUMN tb_comment.created_at IS '@behavior +orderBy';
"""
"""What the peers over the ``tb_*`` tables get on top of the example's schema.

Two indexes for the orders they read in (an author's posts by date, a post's comments by date),
and the PostGraphile smart tags that let its API order by those columns (it offers ``orderBy``
only on indexed leading columns by default). Idempotent, so run on every start.
"""


async def add_peer_extras(dsn: str) -> None:
    """Run ``PEER_EXTRAS`` and FraiseQL's current ``CONTRACT_SQL`` (both idempotent).

    A database kept from an earlier run gets the helpers of the FraiseQL being measured.
    """
    from fraiseql.db.commands import CONTRACT_SQL

    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(CONTRACT_SQL)
        await connection.execute(PEER_EXTRAS)
    finally:
        await connection.close()


async def ensure_database(mode: str) -> dict[str, Any]:
    """The DSN of the seeded database of ``mode``, seeding it when its fingerprint differs."""
    from examples.blog.database import load_schema, seed

    admin_url = server_url()
    name = DATABASES[mode]
    try:
        admin = await asyncpg.connect(admin_url, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise SystemExit(
            f"bench: cannot connect to {admin_url} ({exc}); set {DATABASE_URL_ENV} to a "
            "PostgreSQL server where this user may create databases"
        ) from exc
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = with_database(admin_url, name)
    wanted = fingerprint(mode)
    if await _stored_fingerprint(dsn) == wanted:
        log(f"seed: {name} already holds {wanted}; reused")
        await add_peer_extras(dsn)
        return {"dsn": dsn, "database": name, "reused": True, "seed_s": None, "sizes": SIZES[mode]}
    log(f"seed: seeding {name} with {SIZES[mode]} (reused by later runs)")
    started = time.perf_counter()
    await load_schema(dsn)
    await seed(dsn, **SIZES[mode])
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("VACUUM ANALYZE")
        await connection.execute(
            "DROP TABLE IF EXISTS bench_fingerprint; CREATE TABLE bench_fingerprint (value text)"
        )
        await connection.execute("INSERT INTO bench_fingerprint VALUES ($1)", wanted)
    finally:
        await connection.close()
    await add_peer_extras(dsn)
    seconds = time.perf_counter() - started
    log(f"seed: {name} seeded in {seconds:.1f}s")
    return {"dsn": dsn, "database": name, "reused": False, "seed_s": seconds, "sizes": SIZES[mode]}


async def counts(dsn: str) -> dict[str, int]:
    """How many rows each table holds (for the report)."""
    connection = await asyncpg.connect(dsn)
    try:
        return {
            table: int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
            for table in ("tb_organisation", "tb_user", "tb_post", "tb_comment")
        }
    finally:
        await connection.close()


def main(argv: list[str] | None = None) -> None:
    import logging

    parser = argparse.ArgumentParser(description="Seed (or reuse) the comparison's database.")
    parser.add_argument("--quick", action="store_true", help="the quick mode's smaller database")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("examples.blog.database").setLevel(logging.INFO)
    info = asyncio.run(ensure_database("quick" if arguments.quick else "full"))
    print(json.dumps({**info, "counts": asyncio.run(counts(info["dsn"]))}))


if __name__ == "__main__":
    main()


async def connect_as_it_stands(mode: str) -> asyncpg.Connection:
    """A connection to the seeded database of ``mode`` as it is, without checking its fingerprint.

    For the scripts that study that data (``bench.write_cost``, ``bench.datetime_order``): a
    changed example schema would make :func:`ensure_database` seed it anew.
    """
    name = DATABASES[mode]
    connection = await asyncpg.connect(with_database(server_url(), name))
    if not await connection.fetchval("SELECT to_regclass('tv_post') IS NOT NULL"):
        await connection.close()
        raise SystemExit(f"{name} holds no example data: run `make bench-compare` first")
    return connection
