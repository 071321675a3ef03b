"""Does an index serve FraiseQL's DateTime orderings? ``python -m bench.datetime_order``.

Takes the side-by-side benchmark's database as it stands (``fraiseql_bench``: 1 000 000 posts,
see ``bench.compare.seed``; ``--quick``: the 30 000-post one) and gives it FraiseQL's current
``CONTRACT_SQL`` and the example's ``tv_post_created_at_idx`` (both idempotent). Then, for the
statements FraiseQL's planner writes for a few DateTime orderings and filters, it prints
PostgreSQL's ``EXPLAIN (ANALYZE, BUFFERS)``: whether the index is used, and the execution time,
beside the same statements with the old plain cast (``(data->>'created_at')::timestamptz``).
It writes nothing; ``docs/guides/WRITING_QUERIES.md`` quotes a run.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import asyncpg

from bench.common import blog_schema, root_plan, root_statement
from bench.compare import seed

QUERIES = {
    "newest 10 posts": "{ posts(orderBy: [{createdAt: DESC}], limit: 10) { id } }",
    "newest 10 as a connection": (
        "{ postsConnection(orderBy: [{createdAt: DESC}], first: 10) { edges { node { id } } } }"
    ),
    "posts of one day, newest first": (
        '{ posts(where: {createdAt: {gte: "2024-06-01T00:00:00Z", lt: "2024-06-02T00:00:00Z"}}, '
        "orderBy: [{createdAt: DESC}], limit: 10) { id } }"
    ),
}

INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS tv_post_created_at_idx ON tv_post "
    "(fraiseql_timestamptz(data ->> 'created_at') DESC NULLS LAST, id)"
)


async def explain(connection: asyncpg.Connection, sql: str, params: list[Any]) -> list[str]:
    rows = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", *params)
    return [row[0] for row in rows]


async def main(quick: bool) -> None:
    from fraiseql.db.commands import CONTRACT_SQL

    connection = await seed.connect_as_it_stands("quick" if quick else "full")
    try:
        await connection.execute(CONTRACT_SQL)
        definition = await connection.fetchval(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'tv_post_created_at_idx'"
        )
        if definition is not None and "fraiseql_timestamptz" not in definition:
            # the example's earlier index, on the text (which no statement of FraiseQL used)
            await connection.execute("DROP INDEX tv_post_created_at_idx")
        await connection.execute(INDEX_SQL)
        await connection.execute("ANALYZE tv_post")
        posts = await connection.fetchval("SELECT count(*) FROM tv_post")
        print(f"tv_post: {posts:,} rows\n")
        schema = blog_schema()
        for name, query in QUERIES.items():
            statement = await root_statement(schema, root_plan(schema, query))
            for label, sql in (
                ("fraiseql_timestamptz", statement.sql),
                ("plain cast (before)", _plain_cast(statement.sql)),
            ):
                await explain(connection, sql, list(statement.params))  # warm the cache
                lines = await explain(connection, sql, list(statement.params))
                used = any("tv_post_created_at_idx" in line for line in lines)
                timing = next((x.strip() for x in lines if "Execution Time" in x), "")
                print(f"## {name}: {label}: index {'used' if used else 'NOT used'}, {timing}")
                print("\n".join("    " + line for line in lines), end="\n\n")
    finally:
        await connection.close()


def _plain_cast(sql: str) -> str:
    """The statement as the planner wrote it before ``fraiseql_timestamptz``."""
    import re

    return re.sub(r"fraiseql_timestamptz\((\(t\.\"data\"->>'[a-z_]+'\))\)", r"\1::timestamptz", sql)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the 30 000-post database")
    asyncio.run(main(parser.parse_args().quick))
