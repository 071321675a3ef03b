"""Batching against the real database: refused batches run nothing; members are independent."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from examples.blog.database import load_schema, seed
from examples.blog.schema import MUTATIONS, QUERIES, TYPES
from tests.conftest import temporary_database

from fraiseql import Schema, SessionSettings, create_app
from fraiseql.db.contract import MUTATE_SQL
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.security.limits import QueryLimits

CREATE = """
mutation($input: CreatePostInput!) {
  createPost(input: $input) { status post { identifier } }
}
"""


def _create(identifier: str, author: str = "alice") -> dict[str, object]:
    variables = {
        "input": {
            "identifier": identifier,
            "title": "Batched",
            "author": author,
            "categoryPath": "tech",
        }
    }
    return {"query": CREATE, "variables": variables}


@pytest.fixture(scope="module")
async def writable(server_dsn: str) -> AsyncIterator[str]:
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=2, users=5, posts=20, comments_per_post=1)
        yield dsn


@pytest.fixture
async def served(writable: str) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    statements: list[str] = []
    database = Database(PoolSettings(dsn=writable), observe_statements=True)
    # A lone mutation carries the claims in its one statement: record them with it.
    database.query_observers.append(
        lambda record: statements.append(
            f"{record.query} settings={record.args[3]}"
            if record.query == MUTATE_SQL
            else record.query
        )
    )
    schema = Schema(
        types=TYPES,
        queries=QUERIES,
        mutations=MUTATIONS,
        database=database,
        limits=QueryLimits(max_depth=3),
        session=SessionSettings(claims=lambda context: {"app.caller": context.get("caller")}),
    )
    await schema.open()
    statements.clear()  # the schema's startup checks
    app = create_app(
        schema=schema,
        batching=True,
        max_batch_size=4,
        context_getter=lambda request: {"caller": request.headers.get("x-caller")},
    )
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, statements
    finally:
        await schema.close()


async def test_a_batch_over_the_cap_runs_no_statement(
    served: tuple[httpx.AsyncClient, list[str]], writable: str
) -> None:
    client, statements = served
    batch = [_create(f"over-cap-{n}") for n in range(5)]
    response = await client.post("/graphql", json=batch)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BATCH_TOO_LARGE"
    assert statements == []
    connection = await asyncpg.connect(writable)
    try:
        stored = await connection.fetchval(
            "SELECT count(*) FROM tb_post WHERE identifier LIKE 'over-cap-%'"
        )
    finally:
        await connection.close()
    assert stored == 0


async def test_members_are_independent_transactions(
    served: tuple[httpx.AsyncClient, list[str]], writable: str
) -> None:
    client, statements = served
    batch = [
        _create("batched-one"),
        _create("batched-two", author="nobody"),  # the function refuses it: nothing written
        {"query": "{ posts(limit: 1) { comments { author { organisation { name } } } } }"},
        {"query": '{ post(identifier: "batched-one") { identifier } }'},
    ]
    response = await client.post("/graphql", json=batch, headers={"x-caller": "batcher"})
    assert response.status_code == 200
    created, refused, too_deep, read_back = response.json()
    assert created["data"]["createPost"] == {
        "status": "SUCCESS",
        "post": {"identifier": "batched-one"},
    }
    assert refused["data"]["createPost"]["status"] == "VALIDATION_ERROR"
    # The member over the depth limit is refused alone, by the same limits as a single request.
    assert too_deep["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    # A later member sees what an earlier member committed.
    assert read_back["data"]["post"] == {"identifier": "batched-one"}
    # Each member that touched the database ran with the claims: the read in its own
    # transaction, each mutation as one statement carrying them.
    begins = [s for s in statements if s.upper().startswith("BEGIN")]
    settings = [s for s in statements if "set_config" in s]
    assert len(begins) == len(settings) == 1
    folded = [s for s in statements if s.startswith(MUTATE_SQL)]
    assert folded == [f"{MUTATE_SQL} settings=['app.caller', 'batcher']"] * 2
    connection = await asyncpg.connect(writable)
    try:
        identifiers = await connection.fetch(
            "SELECT identifier FROM tb_post WHERE identifier LIKE 'batched-%'"
        )
    finally:
        await connection.close()
    assert [row["identifier"] for row in identifiers] == ["batched-one"]
