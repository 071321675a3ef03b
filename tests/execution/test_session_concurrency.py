"""Concurrent field resolvers share the request's one connection safely."""

from __future__ import annotations

import asyncio

from examples.blog.schema import TYPES, Post

import fraiseql
from fraiseql import Info, Schema


@fraiseql.type
class Probe:
    n: int

    @fraiseql.field
    async def posts(self, info: Info) -> list[Post]:
        await asyncio.sleep(0)
        return await info.repository.find(Post, limit=2, offset=self.n)


@fraiseql.query
def probes() -> list[Probe]:
    return [Probe(n=n) for n in range(8)]


async def test_concurrent_resolvers_queue_on_the_connection(blog_database: str) -> None:
    schema = Schema(types=[*TYPES, Probe], queries=[probes], database_url=blog_database)
    await schema.open()
    try:
        result = await schema.run("{ probes { n posts { id } } }")
        assert "errors" not in result, result
        assert [len(p["posts"]) for p in result["data"]["probes"]] == [2] * 8
        database = schema.database
        assert database is not None
        assert database.idle_connections == database.pool.get_size()  # nothing leaked
    finally:
        await asyncio.wait_for(schema.close(), timeout=10)


@fraiseql.query
async def bad_cast(info: Info) -> int | None:
    """Runs a statement PostgreSQL rejects (a DataError)."""
    async with info.repository.session.use() as connection:
        return int(await connection.fetchval("SELECT 'not a number'::int"))


async def test_a_failed_statement_does_not_break_later_root_fields(blog_database: str) -> None:
    from examples.blog.schema import QUERIES

    schema = Schema(types=TYPES, queries=[*QUERIES, bad_cast], database_url=blog_database)
    await schema.open()
    try:
        result = await schema.run("{ bad: badCast ok: posts(limit: 1) { id } after: badCast }")
    finally:
        await schema.close()
    assert result["data"]["bad"] is None
    assert result["data"]["after"] is None
    assert len(result["data"]["ok"]) == 1
    assert [e["path"] for e in result["errors"]] == [["bad"], ["after"]]
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
