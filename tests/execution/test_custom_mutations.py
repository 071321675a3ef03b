"""Custom mutation resolvers call mutation functions through ``info.commands``, in the request
transaction, with the result contract and the SQLSTATE mapping of auto mutations."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from examples.blog.database import load_schema, seed
from examples.blog.schema import MUTATIONS, QUERIES, TYPES, Post
from tests.conftest import temporary_database

import fraiseql
from fraiseql import Schema


@fraiseql.type
class Outcome:
    """What a custom mutation did with each call."""

    statuses: list[str]
    fields: list[str | None]
    titles: list[str]


def _post(identifier: str) -> dict[str, object]:
    return {
        "identifier": identifier,
        "title": identifier,
        "author": "alice",
        "category_path": "tech",
    }


@fraiseql.mutation
async def create_pair(info, first: str, second: str, fail_after: bool = False) -> Outcome:
    """Creates two posts with two calls; each call that fails undoes only itself."""
    outcomes = [
        await info.commands.run("fn_create_post", {"input": _post(first)}),
        await info.commands.run("fn_create_post", {"input": _post(second)}),
    ]
    if fail_after:
        raise fraiseql.FraiseQLError("changed my mind", code="REFUSED")
    titles = []
    for outcome in outcomes:
        if outcome.id is not None:
            post = await info.repository.find_one(Post, id=outcome.id)
            titles.append(post["title"] if post else "?")
    return Outcome(
        statuses=[o.status for o in outcomes],
        fields=[o.errors[0]["field"] if o.errors else None for o in outcomes],
        titles=titles,
    )


@fraiseql.mutation
async def rename_all(info, identifiers: list[str], title: str) -> Outcome:
    """Renames posts with one batch call (partial)."""
    batch = await info.commands.call_items(
        "fn_update_post", [{"post": i, "title": title} for i in identifiers], partial=True
    )
    return Outcome(
        statuses=[item.status for item in batch.items],
        fields=[item.errors[0]["field"] if item.errors else None for item in batch.items],
        titles=[batch.status],
    )


@fraiseql.query
async def sneaky(info) -> str:
    """A query that tries to write."""
    await info.commands.run("fn_create_post", {"input": _post("from-a-query")})
    return "wrote"


@pytest.fixture(scope="module")
async def schema(server_dsn: str) -> AsyncIterator[Schema]:
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=2, users=5, posts=10, comments_per_post=1)
        schema = Schema(
            types=TYPES,
            queries=[*QUERIES, sneaky],
            mutations=[*MUTATIONS, create_pair, rename_all],
            database_url=dsn,
        )
        await schema.open()
        yield schema
        await schema.close()


@pytest.fixture
async def db(schema: Schema) -> AsyncIterator[asyncpg.Connection]:
    assert schema.database is not None
    connection = await asyncpg.connect(schema.database.settings.dsn)
    yield connection
    await connection.close()


PAIR = """mutation($a: String!, $b: String!, $fail: Boolean! = false) {
  createPair(first: $a, second: $b, failAfter: $fail) { statuses fields titles }
}"""


async def _exists(db: asyncpg.Connection, identifier: str) -> bool:
    found = await db.fetchval("SELECT count(*) FROM tb_post WHERE identifier = $1", identifier)
    return bool(found)


async def test_calls_run_in_the_request_transaction_and_are_read_back(
    schema: Schema, db: asyncpg.Connection
) -> None:
    result = await schema.run(PAIR, {"a": "pair-one", "b": "pair-two"})
    assert result == {
        "data": {
            "createPair": {
                "statuses": ["success", "success"],
                "fields": [None, None],
                "titles": ["pair-one", "pair-two"],
            }
        }
    }
    assert await _exists(db, "pair-one") and await _exists(db, "pair-two")


async def test_a_failed_call_is_mapped_and_undoes_only_itself(
    schema: Schema, db: asyncpg.Connection
) -> None:
    await schema.run(PAIR, {"a": "taken", "b": "other"})
    result = await schema.run(PAIR, {"a": "taken", "b": "still-written"})
    assert result["data"]["createPair"] == {
        "statuses": ["conflict", "success"],
        "fields": ["identifier", None],
        "titles": ["still-written"],
    }
    assert await _exists(db, "still-written")


async def test_a_resolver_that_raises_leaves_no_write(
    schema: Schema, db: asyncpg.Connection
) -> None:
    result = await schema.run(PAIR, {"a": "raised-one", "b": "raised-two", "fail": True})
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "REFUSED"
    assert not await _exists(db, "raised-one")
    assert not await _exists(db, "raised-two")


async def test_in_several_mutation_fields_only_the_failing_one_is_undone(
    schema: Schema, db: asyncpg.Connection
) -> None:
    result = await schema.run(
        """mutation {
          kept: createPair(first: "kept-one", second: "kept-two") { statuses }
          undone: createPair(first: "undone-one", second: "undone-two", failAfter: true) {
            statuses
          }
        }"""
    )
    assert result["data"] is None  # Outcome! is non-null: the error bubbles to data
    assert await _exists(db, "kept-one")
    assert not await _exists(db, "undone-one")


async def test_batches_from_a_resolver(schema: Schema, db: asyncpg.Connection) -> None:
    await schema.run(PAIR, {"a": "batch-one", "b": "batch-two"})
    result = await schema.run(
        'mutation { renameAll(identifiers: ["batch-one", "missing", "batch-two"], title: "Renamed")'
        " { statuses fields titles } }"
    )
    assert result["data"]["renameAll"] == {
        "statuses": ["success", "not_found", "success"],
        "fields": [None, None, None],
        "titles": ["not_found"],
    }
    renamed = await db.fetchval(
        "SELECT count(*) FROM tb_post WHERE identifier LIKE 'batch-%' AND title = 'Renamed'"
    )
    assert renamed == 2


async def test_queries_cannot_use_commands(schema: Schema, db: asyncpg.Connection) -> None:
    result = await schema.run("{ sneaky }")
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert not await _exists(db, "from-a-query")
