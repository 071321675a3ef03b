"""Auto root fields against the example blog: lookups, lists, ordering and connections."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson
import pytest
from examples.blog.schema import QUERIES, TYPES

from fraiseql import Schema
from fraiseql.db.pool import Database, PoolSettings


async def _documents(connection: asyncpg.Connection, table: str) -> list[dict[str, Any]]:
    rows = await connection.fetch(f"SELECT data::text FROM {table}")
    return [orjson.loads(row[0]) for row in rows]


async def test_lookup_by_id_and_identifier(
    blog_schema: Schema, blog_connection: asyncpg.Connection
) -> None:
    row = await blog_connection.fetchrow(
        "SELECT id, identifier FROM tv_user ORDER BY identifier LIMIT 1"
    )
    by_id = await blog_schema.run(
        "query($id: UUID) { user(id: $id) { identifier } }", {"id": str(row["id"])}
    )
    by_identifier = await blog_schema.run(
        "query($i: String) { user(identifier: $i) { id } }", {"i": row["identifier"]}
    )
    assert by_id == {"data": {"user": {"identifier": row["identifier"]}}}
    assert by_identifier == {"data": {"user": {"id": str(row["id"])}}}


async def test_lookup_of_a_missing_entity_is_null(blog_schema: Schema) -> None:
    result = await blog_schema.run('{ post(identifier: "no-such-post") { id } }')
    assert result == {"data": {"post": None}}


@pytest.mark.parametrize(
    "arguments", ["", '(id: "00000000-0000-0000-0000-000000000000", identifier: "x")']
)
async def test_lookup_needs_exactly_one_key(blog_schema: Schema, arguments: str) -> None:
    result = await blog_schema.run(f"{{ post{arguments} {{ id }} }}")
    assert result["data"] == {"post": None}
    assert "exactly one of 'id' and 'identifier'" in result["errors"][0]["message"]
    assert result["errors"][0]["path"] == ["post"]


async def test_list_orders_and_limits(
    blog_schema: Schema, blog_connection: asyncpg.Connection
) -> None:
    posts = await _documents(blog_connection, "tv_post")
    expected = sorted(posts, key=lambda p: (-p["view_count"], p["id"]))[:7]
    result = await blog_schema.run(
        "{ posts(limit: 7, orderBy: [{viewCount: DESC}]) { identifier viewCount } }"
    )
    assert result["data"]["posts"] == [
        {"identifier": p["identifier"], "viewCount": p["view_count"]} for p in expected
    ]


async def test_list_offset_pages_do_not_overlap(blog_schema: Schema) -> None:
    query = "query($o: Int) { posts(limit: 10, offset: $o, orderBy: [{title: ASC}]) { id } }"
    first = await blog_schema.run(query, {"o": 0})
    second = await blog_schema.run(query, {"o": 10})
    ids = [p["id"] for p in first["data"]["posts"] + second["data"]["posts"]]
    assert len(ids) == len(set(ids)) == 20


async def test_order_by_nested_field_and_nulls_last(
    blog_schema: Schema, blog_connection: asyncpg.Connection
) -> None:
    posts = await _documents(blog_connection, "tv_post")
    result = await blog_schema.run(
        "{ posts(limit: 100, orderBy: [{rating: DESC}, {author: {name: ASC}}]) { rating author { name } id } }"
    )
    got = result["data"]["posts"]
    ratings = [p["rating"] for p in got]
    non_null = [r for r in ratings if r is not None]
    assert ratings[: len(non_null)] == sorted(non_null, reverse=True)
    assert all(r is None for r in ratings[len(non_null) :])
    assert len(got) == min(100, len(posts))


async def test_limit_above_the_maximum_page_size_is_an_error(blog_schema: Schema) -> None:
    result = await blog_schema.run("{ posts(limit: 101) { id } }")
    assert result["data"] is None  # posts is non-null, so data becomes null
    assert "at most 100" in result["errors"][0]["message"]
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_order_by_item_must_name_one_field(blog_schema: Schema) -> None:
    result = await blog_schema.run("{ posts(orderBy: [{title: ASC, viewCount: DESC}]) { id } }")
    assert "exactly one field" in result["errors"][0]["message"]


CONNECTION = """
query Page($first: Int, $after: String, $last: Int, $before: String, $where: PostWhereInput) {
  postsConnection(first: $first, after: $after, last: $last, before: $before, where: $where,
                  orderBy: [{status: ASC}, {rating: DESC}]) {
    totalCount
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def test_connection_walks_forward_and_backward_over_every_row(
    blog_schema: Schema, blog_connection: asyncpg.Connection
) -> None:
    where = {"viewCount": {"gte": 100}}
    expected_count = await blog_connection.fetchval(
        "SELECT count(*) FROM tv_post WHERE (data->>'view_count')::numeric >= 100"
    )
    forward: list[str] = []
    after = None
    pages = 0
    while True:
        result = await blog_schema.run(CONNECTION, {"first": 13, "after": after, "where": where})
        connection = result["data"]["postsConnection"]
        assert connection["totalCount"] == expected_count
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        forward += [edge["node"]["id"] for edge in connection["edges"]]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
        assert pages < 100
    assert len(forward) == len(set(forward)) == expected_count

    backward: list[str] = []
    before = None
    while True:
        result = await blog_schema.run(CONNECTION, {"last": 9, "before": before, "where": where})
        connection = result["data"]["postsConnection"]
        assert connection["pageInfo"]["hasNextPage"] is (before is not None)
        backward = [edge["node"]["id"] for edge in connection["edges"]] + backward
        if not connection["pageInfo"]["hasPreviousPage"]:
            break
        before = connection["pageInfo"]["startCursor"]
    assert backward == forward


async def test_empty_connection(blog_schema: Schema) -> None:
    result = await blog_schema.run(
        CONNECTION, {"first": 5, "where": {"title": {"eq": "no post has this title"}}}
    )
    assert result["data"]["postsConnection"] == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


async def test_connection_default_page_size(blog_schema: Schema) -> None:
    result = await blog_schema.run("{ postsConnection { edges { node { id } } } }")
    assert len(result["data"]["postsConnection"]["edges"]) == 20


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("first: 1, last: 1", "not both"),
        ("first: -1", "must not be negative"),
        ("first: 1000", "at most 100"),
        ('first: 1, after: "garbage"', "Invalid cursor"),
        ('first: 1, after: "WyIxIiwieCIsW11d"', "Invalid cursor"),
    ],
)
async def test_connection_argument_errors(
    blog_schema: Schema, arguments: str, message: str
) -> None:
    result = await blog_schema.run(f"{{ postsConnection({arguments}) {{ totalCount }} }}")
    assert result["data"] is None
    assert message in result["errors"][0]["message"]
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_cursor_of_another_ordering_is_refused(blog_schema: Schema) -> None:
    first = await blog_schema.run("{ postsConnection(first: 1) { pageInfo { endCursor } } }")
    cursor = first["data"]["postsConnection"]["pageInfo"]["endCursor"]
    result = await blog_schema.run(
        "query($c: String) { postsConnection(first: 1, after: $c, orderBy: [{title: ASC}]) { totalCount } }",
        {"c": cursor},
    )
    assert "another ordering" in result["errors"][0]["message"]


async def test_nested_lists_and_objects_come_from_the_one_document(
    blog_schema: Schema, blog_connection: asyncpg.Connection
) -> None:
    # The shared database is read without a tenant, and identifiers are unique per organisation
    # only (each has a "welcome" post): take one that names a single post.
    row = await blog_connection.fetchrow(
        "SELECT identifier, data::text AS data FROM tv_post t "
        "WHERE jsonb_array_length(data->'comments') > 1 AND NOT EXISTS "
        "(SELECT 1 FROM tv_post o WHERE o.identifier = t.identifier AND o.id <> t.id) LIMIT 1"
    )
    document = orjson.loads(row["data"])
    result = await blog_schema.run(
        "query($i: String) { post(identifier: $i) { tags comments { body author { name } } } }",
        {"i": row["identifier"]},
    )
    assert result["data"]["post"] == {
        "tags": document["tags"],
        "comments": [
            {"body": c["body"], "author": {"name": c["author"]["name"]}}
            for c in document["comments"]
        ],
    }


async def test_one_statement_per_root_field(blog_database: str) -> None:
    """However deep the selection, each auto root field runs exactly one SQL statement."""
    database = Database(PoolSettings(dsn=blog_database), observe_statements=True)
    schema = Schema(types=TYPES, queries=QUERIES, database=database)
    statements: list[str] = []
    database.statement_observers.append(statements.append)
    await schema.open()
    try:
        result = await schema.run(
            """{ a: posts(limit: 5) { title author { name } comments { author { name } } }
                 b: postsConnection(first: 3) { totalCount edges { node { comments { body } } } }
                 c: user(identifier: "nobody") { id }
                 __typename }"""
        )
    finally:
        await schema.close()
    assert "errors" not in result
    data_statements = [s for s in statements if "tv_" in s]
    assert len(data_statements) == 3, statements
