"""DateTime filters and orderings read through ``fraiseql_timestamptz``, which an index serves."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import pytest
from examples.blog.database import load_schema, seed
from examples.blog.schema import QUERIES, TYPES
from tests.conftest import temporary_database

from fraiseql import Schema
from fraiseql.db.pool import Database, PoolSettings

NEWEST = "{ posts(orderBy: [{createdAt: DESC}], limit: 5) { identifier createdAt } }"
PAGE = "{ postsConnection(orderBy: [{createdAt: DESC}], first: 3) { edges { cursor node { identifier } } } }"
RANGE = (
    '{ posts(where: {createdAt: {gte: "2000-01-01T00:00:00+02:00"}}, '
    "orderBy: [{createdAt: DESC}], limit: 3) { identifier } }"
)


def observed(dsn: str, statements: list[str]) -> Schema:
    database = Database(PoolSettings(dsn=dsn), observe_statements=True)
    database.statement_observers.append(statements.append)
    return Schema(types=TYPES, queries=QUERIES, database=database)


async def test_orderings_and_filters_use_the_immutable_helper(
    blog_database: str, blog_connection: asyncpg.Connection
) -> None:
    statements: list[str] = []
    schema = observed(blog_database, statements)
    await schema.open()
    try:
        statements.clear()
        newest = await schema.run(NEWEST)
        ranged = await schema.run(RANGE)
    finally:
        await schema.close()
    expected = await blog_connection.fetch(
        "SELECT identifier FROM tv_post ORDER BY (data->>'created_at')::timestamptz DESC, id "
        "LIMIT 5"
    )
    assert [p["identifier"] for p in newest["data"]["posts"]] == [r[0] for r in expected]
    assert [p["identifier"] for p in ranged["data"]["posts"]] == [r[0] for r in expected[:3]]
    reads = [s for s in statements if "tv_post" in s]
    assert reads and all("fraiseql_timestamptz((t.\"data\"->>'created_at'))" in s for s in reads)
    assert not any("::timestamptz" in s.replace("AS timestamptz", "") for s in reads)


async def test_the_example_index_serves_the_newest_first_order(
    blog_database: str, blog_connection: asyncpg.Connection
) -> None:
    """The planner's statements match the index expression (sequential scans forbidden)."""
    from bench.common import blog_schema, root_plan, root_statement

    schema = blog_schema()
    async with blog_connection.transaction():
        await blog_connection.execute("SET LOCAL enable_seqscan = off")
        for query in (NEWEST, PAGE):
            statement: Any = await root_statement(schema, root_plan(schema, query))
            plan = await blog_connection.fetch(
                f"EXPLAIN (COSTS OFF) {statement.sql}", *statement.params
            )
            text = "\n".join(row[0] for row in plan)
            assert "tv_post_created_at_idx" in text, text
            assert "Sort" not in text.split("tv_post_created_at_idx")[0], text


async def test_without_the_helper_reads_fall_back_to_plain_casts(
    server_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=1, users=3, posts=12, comments_per_post=0)
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("DROP FUNCTION fraiseql_timestamptz(text) CASCADE")
            expected = await connection.fetch(
                "SELECT identifier FROM tv_post "
                "ORDER BY (data->>'created_at')::timestamptz DESC, id LIMIT 5"
            )
        finally:
            await connection.close()
        statements: list[str] = []
        schema = observed(dsn, statements)
        with caplog.at_level(logging.WARNING, logger="fraiseql.schema"):
            await schema.open()
        try:
            assert "lacks fraiseql_timestamptz" in caplog.text
            answer = await schema.run(NEWEST)
        finally:
            await schema.close()
    assert [p["identifier"] for p in answer["data"]["posts"]] == [r[0] for r in expected]
    assert any("->>'created_at')::timestamptz" in s for s in statements)
