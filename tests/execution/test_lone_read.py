"""An operation that is one plain auto read runs without a request session (``_read_alone``).

Each document below is answered twice, once by the lone-read path and once by the general
path (request session and repository), and the bytes must be equal: values, nulls, field
errors, the data exception of a malformed argument and the null that a non-null root bubbles.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import pytest

from fraiseql import Schema
from fraiseql.execution.executor import Executor
from fraiseql.execution.outcome import GraphQLRequest

MISSING = "00000000-0000-0000-0000-000000000000"


def masked(body: bytes) -> bytes:
    """The body without the error ids of masked errors (new for each request)."""
    return re.sub(rb'"errorId":"[0-9a-f]+"', b'"errorId":""', body)


async def answer(schema: Schema, query: str, variables: dict[str, Any] | None = None) -> bytes:
    request = GraphQLRequest(query, variables)
    response = await schema.execute(schema.prepare(request), request, {})
    return response.body


async def both_paths(
    schema: Schema,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    variables: dict[str, Any] | None = None,
) -> tuple[bytes, bytes]:
    taken: list[bool] = []
    alone = Executor._read_alone

    async def spy(self: Executor, *args: Any) -> Any:
        taken.append(True)
        return await alone(self, *args)

    with monkeypatch.context() as patch:
        patch.setattr(Executor, "_read_alone", spy)
        lone = await answer(schema, query, variables)
    assert taken, "the lone-read path was not taken"
    with monkeypatch.context() as patch:
        patch.setattr(Executor, "_alone", lambda self, settings: False)
        general = await answer(schema, query, variables)
    return lone, general


async def documents(connection: asyncpg.Connection) -> list[tuple[str, dict[str, Any] | None]]:
    post = await connection.fetchrow("SELECT id, identifier FROM tv_post ORDER BY identifier")
    assert post is not None
    fields = "id identifier title status tags viewCount createdAt author { id name }"
    return [
        (f'{{ post(id: "{post["id"]}") {{ {fields} }} }}', None),
        ("query($i: String) { post(identifier: $i) { title } }", {"i": post["identifier"]}),
        (f'{{ post(id: "{MISSING}") {{ title }} }}', None),
        ("query($id: UUID) { post(id: $id) { title } }", {"id": MISSING}),
        ('{ posts(where: {categoryPath: {matches: "!!("}}) { id } }', None),  # masked
        (f'{{ post(id: "{MISSING}", identifier: "x") {{ title }} }}', None),  # both given
        ("{ posts(limit: 5, orderBy: [{identifier: ASC}]) { id title } }", None),
        ("query($n: Int) { posts(limit: $n) { identifier } }", {"n": 3}),
        ("{ posts(limit: 5000) { id } }", None),  # over the page size: a field error
        ("{ posts(limit: 2, offset: -1) { id } }", None),
        ("{ postsConnection(first: 3) { totalCount pageInfo { hasNextPage endCursor } "
         "edges { cursor node { title author { id } } } } }", None),
        ('{ postsConnection(first: 2, after: "garbage") { edges { cursor } } }', None),
    ]  # fmt: skip


async def test_lone_reads_answer_the_bytes_of_the_general_path(
    blog_schema: Schema, blog_connection: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    for query, variables in await documents(blog_connection):
        for _ in range(2):  # the second time with the kept arguments and statement
            lone, general = await both_paths(blog_schema, monkeypatch, query, variables)
            assert masked(lone) == masked(general), query


async def test_a_lone_read_holds_no_transaction_and_gives_its_connection_back(
    blog_schema: Schema, blog_connection: asyncpg.Connection
) -> None:
    database = blog_schema.database
    assert database is not None
    seen: list[str] = []
    database.statement_observers.append(seen.append)
    free = database.idle_connections
    try:
        post = await blog_connection.fetchval("SELECT id FROM tv_post LIMIT 1")
        body = await answer(blog_schema, f'{{ post(id: "{post}") {{ title }} }}')
    finally:
        database.statement_observers.remove(seen.append)
    assert body.startswith(b'{"data":{"post":{"title":')
    if database.observe_statements:
        assert not any(s.upper().startswith(("BEGIN", "COMMIT")) for s in seen)
    assert database.idle_connections == free


def test_only_plain_single_auto_reads_are_lone(blog_schema: Schema) -> None:
    def lone(query: str) -> bool:
        prepared: Any = blog_schema.prepare(GraphQLRequest(query))
        plan = prepared.plan(
            blog_schema.graphql_schema, blog_schema.model.queries, {}, {}, prune=True
        )
        return plan.lone_read is not None

    assert lone("{ posts(limit: 1) { id } }")
    assert not lone("{ __typename posts(limit: 1) { id } }")
    assert not lone("{ a: posts(limit: 1) { id } b: posts(limit: 1) { id } }")
    assert not lone("{ __schema { queryType { name } } }")


async def test_an_identifier_shared_by_tenants_answers_the_smallest_id_every_time(
    blog_schema: Schema, blog_connection: asyncpg.Connection
) -> None:
    ids = [str(row[0]) for row in await blog_connection.fetch(
        "SELECT id FROM tv_post WHERE identifier = 'welcome' ORDER BY id"
    )]  # fmt: skip
    assert len(ids) > 1  # every organisation's first post
    query = "query($i: String) { post(identifier: $i) { id } }"
    for _ in range(12):  # past the five custom plans after which PostgreSQL may go generic
        answer = await blog_schema.run(query, {"i": "welcome"})
        assert answer == {"data": {"post": {"id": ids[0]}}}
