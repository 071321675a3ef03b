"""Pruning unselected keys in SQL, against PostgreSQL: the statements, and the same bytes.

Every response is compared byte for byte with the one a schema built with
``prune_documents=False`` (whole documents) gives; the suite runs with both builders.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
import pytest
from examples.blog.database import load_schema, seed
from examples.blog.schema import MUTATIONS, QUERIES, TYPES, Author
from tests.conftest import temporary_database

import fraiseql
from fraiseql import Connection, OrderBy, Schema
from fraiseql.db.contract import MUTATE_SQL
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.execution.outcome import GraphQLRequest
from fraiseql.types.scalars import UUID

SMALL = "{ posts(limit: 20, orderBy: [{identifier: ASC}]) { id title } }"
NESTED = (
    "{ posts(limit: 20, orderBy: [{identifier: ASC}]) { __typename id identifier title status "
    "tags rating viewCount publishedAt createdAt categoryPath author { id name email } "
    "comments { id body createdAt author { name } } } }"
)
PRUNED_POST = (
    "SELECT textsend((t.\"data\" - ARRAY['identifier', 'body', 'status', 'tags', 'rating', "
    "'view_count', 'version', 'published_at', 'created_at', 'category_path', 'author', "
    "'comments']::text[])::text) FROM \"tv_post\" AS t "
)


@fraiseql.type(sql_source="tv_post")
class PostExcerpt:
    """Declares a few of the stored keys, and one (``editor``) that no document has."""

    id: UUID
    identifier: str
    title: str
    author: Author
    editor: Author | None


@fraiseql.query
async def excerpts(
    info, limit: int | None = None, order_by: list[OrderBy[PostExcerpt]] | None = None
) -> list[PostExcerpt]:
    """Auto list over tv_post, whose documents hold keys PostExcerpt does not declare."""


@fraiseql.query
async def excerpt_page(
    info, first: int | None = None, after: str | None = None
) -> Connection[PostExcerpt]:
    """The same as a connection."""


class Observed:
    """A schema over ``dsn`` whose statements are recorded."""

    def __init__(self, dsn: str, **options: Any) -> None:
        self.statements: list[str] = []
        database = Database(PoolSettings(dsn=dsn), observe_statements=True)
        database.query_observers.append(self._record)
        self.schema = Schema(database=database, **options)

    def _record(self, record: Any) -> None:
        self.statements.append(record.query)
        if record.query == MUTATE_SQL and record.args[2] is not None:
            self.statements.append(record.args[2])  # the read-back, run inside that statement

    async def body(self, query: str, variables: dict[str, Any] | None = None) -> bytes:
        """The response bytes, exactly as the transport would send them."""
        request = GraphQLRequest(query, variables)
        prepared = self.schema.prepare(request)
        return (await self.schema.execute(prepared, request, {})).body

    def data_statements(self) -> list[str]:
        return [s for s in self.statements if "tv_" in s]


async def pair(dsn: str, **options: Any) -> tuple[Observed, Observed]:
    """The same schema twice: pruning (the default) and reading whole documents."""
    pruning = Observed(dsn, **options)
    whole = Observed(dsn, prune_documents=False, **options)
    await pruning.schema.open()
    await whole.schema.open()
    return pruning, whole


@pytest.fixture(scope="module")
async def schemas(blog_database: str) -> AsyncIterator[tuple[Observed, Observed]]:
    pruning, whole = await pair(
        blog_database, types=[*TYPES, PostExcerpt], queries=[*QUERIES, excerpts, excerpt_page]
    )
    yield pruning, whole
    await pruning.schema.close()
    await whole.schema.close()


async def test_small_selection_prunes_nested_selection_does_not(
    schemas: tuple[Observed, Observed],
) -> None:
    pruning, whole = schemas
    pruning.statements.clear()
    await pruning.body(SMALL)
    await pruning.body(NESTED)
    small, nested = pruning.data_statements()
    assert small.startswith(PRUNED_POST), small
    assert nested.startswith('SELECT textsend(t."data"::text) FROM "tv_post" AS t '), nested
    whole.statements.clear()
    await whole.body(SMALL)
    assert whole.data_statements()[0].startswith('SELECT textsend(t."data"::text) FROM'), (
        whole.statements
    )


QUERIES_COMPARED = [
    SMALL,
    NESTED,
    # filter and order on fields the selection leaves out; aliases; a repeated field
    """{ posts(limit: 50, orderBy: [{viewCount: DESC}], where: {author: {name: {startsWith: "A"}},
        comments: {some: {body: {contains: "e"}}}}) { a: id id b: title } }""",
    """query { posts(limit: 30, offset: 5) { ...F __typename author @skip(if: true) { name } } }
    fragment F on Post { identifier ... on Post { comments { body author { name } } } }""",
    "query($i: String) { post(identifier: $i) { title status } }",
    "query($i: String) { post(identifier: $i) { __typename author { __typename name } } }",
    '{ post(identifier: "no-such-post") { id } }',
    """{ postsConnection(first: 7, orderBy: [{createdAt: DESC}]) {
        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id title } } n: edges { node { author { name } } } } }""",
    """{ postsConnection(last: 5, where: {status: {eq: PUBLISHED}}) {
        __typename edges { cursor node { title } } pageInfo { hasPreviousPage } } }""",
    "{ postsConnection(first: 3) { totalCount } }",
    "{ comments(limit: 25) { id body } }",
    "{ users(first: 5) { edges { node { id displayName } } } }",
    '{ user(identifier: "nobody") { id } }',
    "{ excerpts(limit: 10, orderBy: [{identifier: ASC}]) { id title editor { name } } }",
    "{ excerpts(limit: 10) { __typename identifier } }",
    "{ excerptPage(first: 4) { edges { cursor node { title author { id } } } } }",
    """query($i: String) { a: posts(limit: 3) { id } b: post(identifier: $i) { tags }
        c: postsConnection(first: 2) { edges { node { title } } } __typename }""",
]


@pytest.mark.parametrize("query", QUERIES_COMPARED)
async def test_responses_are_byte_identical(
    schemas: tuple[Observed, Observed], blog_connection: asyncpg.Connection, query: str
) -> None:
    pruning, whole = schemas
    identifier = await blog_connection.fetchval(
        "SELECT identifier FROM tv_post ORDER BY identifier LIMIT 1 OFFSET 7"
    )
    variables = {"i": identifier} if "$i" in query else None
    expected = await whole.body(query, variables)
    assert b'"errors"' not in expected, expected
    assert await pruning.body(query, variables) == expected


async def test_cursors_from_pruned_pages_page_on(schemas: tuple[Observed, Observed]) -> None:
    """Cursors read the whole documents: a pruned page's cursor continues the same list."""
    pruning, whole = schemas
    query = """query($after: String) { postsConnection(first: 6, after: $after,
        orderBy: [{viewCount: DESC}]) { pageInfo { endCursor } edges { node { id } } } }"""
    first = await pruning.body(query)
    assert first == await whole.body(query)
    cursor = orjson.loads(first)["data"]["postsConnection"]["pageInfo"]["endCursor"]
    second = await pruning.body(query, {"after": cursor})
    assert second == await whole.body(query, {"after": cursor})
    assert "- ARRAY[" in pruning.data_statements()[-1]


async def test_keys_the_type_does_not_declare_stay(
    schemas: tuple[Observed, Observed], blog_connection: asyncpg.Connection
) -> None:
    """Only declared, unselected keys are removed; removing a key no document has is harmless."""
    pruning, _ = schemas
    pruning.statements.clear()
    result = orjson.loads(
        await pruning.body("{ excerpts(limit: 3, orderBy: [{identifier: ASC}]) { id title } }")
    )
    (statement,) = pruning.data_statements()
    assert statement.startswith(
        "SELECT textsend((t.\"data\" - ARRAY['identifier', 'author', 'editor']::text[])::text) FROM"
    ), statement
    rows = await blog_connection.fetch(
        "SELECT data->>'id' AS id, data->>'title' AS title FROM tv_post ORDER BY identifier LIMIT 3"
    )
    assert result == {"data": {"excerpts": [dict(row) for row in rows]}}


# -- mutations: the read-back ----------------------------------------------------------------------


@pytest.fixture(scope="module")
async def writable(server_dsn: str) -> AsyncIterator[str]:
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=2, users=5, posts=12, comments_per_post=2)
        yield dsn


@pytest.fixture(scope="module")
async def writers(writable: str) -> AsyncIterator[tuple[Observed, Observed]]:
    pruning, whole = await pair(writable, types=TYPES, queries=QUERIES, mutations=MUTATIONS)
    yield pruning, whole
    await pruning.schema.close()
    await whole.schema.close()


async def test_mutation_reads_back_only_what_it_selects(
    writers: tuple[Observed, Observed], writable: str
) -> None:
    pruning, _ = writers
    connection = await asyncpg.connect(writable)
    try:
        author = await connection.fetchval("SELECT identifier FROM tb_user LIMIT 1")
    finally:
        await connection.close()
    pruning.statements.clear()
    body = await pruning.body(
        """mutation($author: String!) { createPost(input: {identifier: "pruned-1", title: "T",
            author: $author, categoryPath: "tech"}) { status post { identifier title } } }""",
        {"author": author},
    )
    assert orjson.loads(body) == {
        "data": {
            "createPost": {"status": "SUCCESS", "post": {"identifier": "pruned-1", "title": "T"}}
        }
    }
    read_back = pruning.data_statements()[-1]
    assert read_back.startswith(
        "SELECT textsend((t.\"data\" - ARRAY['id', 'body', 'status', 'tags', 'rating', 'view_count', "
        "'version', 'published_at', 'created_at', 'category_path', 'author', 'comments']"
    ), read_back


MUTATIONS_COMPARED = [
    # no change: status NOOP, the entity read back as it stands; whether the read-back prunes
    (
        """mutation($a: String!) { updatePost(input: {post: $a}) {
        __typename status message id post { __typename id t: title tags } } }""",
        True,
    ),
    (
        """mutation($a: String!) { updatePost(input: {post: $a}) { status
        post { title author { name } comments { body } } } }""",
        False,
    ),
    # no entity selected: nothing is read back (None)
    ("""mutation($a: String!) { updatePost(input: {post: $a}) { status } }""", None),
    (
        """mutation($a: String!, $b: String!) { updatePosts(input: [{post: $a}, {post: $b},
        {post: "no-such-post"}]) { status failedCount items { index status id
        post { id title } again: post { author { identifier } } } } }""",
        True,
    ),
]


@pytest.mark.parametrize(("mutation", "prunes"), MUTATIONS_COMPARED)
async def test_mutation_responses_are_byte_identical(
    writers: tuple[Observed, Observed], writable: str, mutation: str, prunes: bool | None
) -> None:
    pruning, whole = writers
    connection = await asyncpg.connect(writable)
    try:
        a, b = [
            r[0]
            for r in await connection.fetch("SELECT identifier FROM tb_post ORDER BY 1 LIMIT 2")
        ]
    finally:
        await connection.close()
    variables = {"a": a, "b": b} if "$b" in mutation else {"a": a}
    expected = await whole.body(mutation, variables)
    assert b'"errors"' not in expected, expected
    pruning.statements.clear()
    assert await pruning.body(mutation, variables) == expected
    if prunes is None:
        assert pruning.data_statements() == []
        return
    (read_back,) = pruning.data_statements()
    assert ("- ARRAY[" in read_back) == prunes, read_back
