"""Root fields whose arguments are all literals keep their arguments and statement in the plan."""

from __future__ import annotations

from typing import Any

import asyncpg

from fraiseql import Schema
from fraiseql.execution.outcome import GraphQLRequest


def root_plan(schema: Schema, query: str, variables: dict[str, Any] | None = None) -> Any:
    prepared: Any = schema.prepare(GraphQLRequest(query, variables))
    (plan,) = prepared.plans.values()
    return plan.roots[0]


async def test_literal_arguments_are_coerced_and_planned_once(
    blog_schema: Schema, blog_connection: asyncpg.Connection
) -> None:
    first, second = await blog_connection.fetch(
        "SELECT identifier, data->>'title' AS title FROM tv_post ORDER BY identifier LIMIT 2"
    )
    query = f'{{ post(identifier: "{first["identifier"]}") {{ title }} }}'
    answers = [await blog_schema.run(query) for _ in range(3)]
    assert answers == [{"data": {"post": {"title": first["title"]}}}] * 3
    root = root_plan(blog_schema, query)
    assert root.constant_arguments
    assert root.cached_arguments == {"id": None, "identifier": first["identifier"]}
    assert root.cached_statement.params == [first["identifier"]]
    # another literal is another document, so another plan
    other = f'{{ post(identifier: "{second["identifier"]}") {{ title }} }}'
    assert await blog_schema.run(other) == {"data": {"post": {"title": second["title"]}}}


async def test_arguments_with_variables_are_built_per_request(
    blog_schema: Schema, blog_connection: asyncpg.Connection
) -> None:
    rows = await blog_connection.fetch(
        "SELECT identifier, data->>'title' AS title FROM tv_post ORDER BY identifier LIMIT 2"
    )
    query = "query($i: String) { post(identifier: $i) { title } }"
    for row in [*rows, *rows]:
        answer = await blog_schema.run(query, {"i": row["identifier"]})
        assert answer == {"data": {"post": {"title": row["title"]}}}
    root = root_plan(blog_schema, query, {"i": rows[0]["identifier"]})
    assert not root.constant_arguments
    assert root.cached_arguments is None and root.cached_statement is None
    # a variable nested inside a literal object counts too
    nested = "query($s: String) { posts(where: {title: {eq: $s}}, limit: 1) { id } }"
    await blog_schema.run(nested, {"s": "x"})
    assert not root_plan(blog_schema, nested, {"s": "x"}).constant_arguments


async def test_refused_literal_arguments_are_refused_every_time(blog_schema: Schema) -> None:
    query = '{ post(id: "00000000-0000-0000-0000-000000000000", identifier: "x") { title } }'
    for _ in range(2):
        answer = await blog_schema.run(query)
        assert answer["data"] == {"post": None}
        assert "exactly one of 'id' and 'identifier'" in answer["errors"][0]["message"]
    assert root_plan(blog_schema, query).cached_statement is None


async def test_literal_lists_and_connections_keep_their_statement(blog_schema: Schema) -> None:
    listing = "{ posts(limit: 3, orderBy: [{identifier: ASC}]) { identifier } }"
    page = "{ postsConnection(first: 2) { edges { cursor node { identifier } } totalCount } }"
    for query in (listing, page):
        answers = [await blog_schema.run(query) for _ in range(2)]
        assert answers[0] == answers[1] and "errors" not in answers[0]
        assert root_plan(blog_schema, query).cached_statement is not None
    after = (await blog_schema.run(page))["data"]["postsConnection"]["edges"][0]["cursor"]
    next_page = (
        f'{{ postsConnection(first: 2, after: "{after}") {{ edges {{ node {{ identifier }} }} }} }}'
    )
    first = (await blog_schema.run(page))["data"]["postsConnection"]["edges"]
    again = [await blog_schema.run(next_page) for _ in range(2)]
    assert again[0] == again[1]
    assert again[0]["data"]["postsConnection"]["edges"][0]["node"] == first[1]["node"]
