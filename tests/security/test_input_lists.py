"""Every list a client sends is bounded, in the document and in the variables, before the
database is touched."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from examples.blog.schema import MUTATIONS, QUERIES, TYPES

from fraiseql import Schema
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.security.input_lists import literal_list_errors, variable_list_errors
from fraiseql.security.limits import QueryLimits


@pytest.fixture
async def observed(blog_database: str) -> AsyncIterator[tuple[Schema, list[str]]]:
    statements: list[str] = []
    database = Database(PoolSettings(dsn=blog_database), observe_statements=True)
    database.statement_observers.append(statements.append)
    schema = Schema(
        types=TYPES,
        queries=QUERIES,
        mutations=MUTATIONS,
        database=database,
        limits=QueryLimits(max_list_length=3),
    )
    await schema.open()
    try:
        yield schema, statements
    finally:
        await schema.close()


async def test_a_literal_list_over_the_limit(observed: tuple[Schema, list[str]]) -> None:
    schema, statements = observed
    fits = '{ posts(where: {identifier: {in: ["a", "b", "c"]}}) { id } }'
    assert "errors" not in await schema.run(fits)
    statements.clear()
    query = '{\n  posts(where: {identifier: {in: ["a", "b", "c", "d"]}}) { id }\n}'
    result = await schema.run(query)
    assert result == {
        "errors": [
            {
                "message": "The list at posts(where:).identifier.in has 4 items; the limit is 3.",
                "extensions": {
                    "code": "BAD_USER_INPUT",
                    "inputPath": "posts(where:).identifier.in",
                    "length": 4,
                    "maxListLength": 3,
                },
                "locations": [{"line": 2, "column": 34}],
            }
        ]
    }
    assert statements == []


async def test_lists_in_fragments_mutations_and_variable_defaults(
    observed: tuple[Schema, list[str]],
) -> None:
    schema, statements = observed
    statements.clear()
    in_fragment = """
      query { ...F }
      fragment F on Query { posts(orderBy: [{title: ASC}, {id: ASC}, {title: DESC}, {id: DESC}]) { id } }
    """
    result = await schema.run(in_fragment)
    assert result["errors"][0]["extensions"]["inputPath"] == "posts(orderBy:)"
    in_default = """
      query($ids: [String!] = ["a", "b", "c", "d", "e"]) { posts(where: {identifier: {in: $ids}}) { id } }
    """
    result = await schema.run(in_default)
    assert result["errors"][0]["extensions"]["inputPath"] == "$ids"
    nested = """mutation {
      createPosts(input: [{identifier: "n", title: "t", author: "alice", categoryPath: "tech",
                           tags: ["a", "b", "c", "d"]}]) { status }
    }"""
    result = await schema.run(nested)
    assert result["errors"][0]["message"] == (
        "The list at createPosts(input:)[0].tags has 4 items; the limit is 3."
    )
    assert statements == []


async def test_variables_over_the_limit_at_any_depth(observed: tuple[Schema, list[str]]) -> None:
    schema, statements = observed
    statements.clear()
    query = "mutation($input: [CreatePostInput!]!) { createPosts(input: $input) { status } }"
    post = {"identifier": "v", "title": "t", "author": "alice", "categoryPath": "tech"}
    result = await schema.run(query, {"input": [{**post, "tags": ["a", "b", "c", "d", "e"]}]})
    assert result["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "inputPath": "$input[0].tags",
        "length": 5,
        "maxListLength": 3,
    }
    filters = "query($in: [String!]) { posts(where: {identifier: {in: $in}}) { id } }"
    result = await schema.run(filters, {"in": ["a", "b", "c", "d"]})
    assert result["errors"][0]["message"] == "The list at $in has 4 items; the limit is 3."
    assert statements == []


def test_walks_are_iterative_and_reports_are_bounded() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert variable_list_errors({"deep": deep}, 3) == []
    many = {f"v{i}": list(range(5)) for i in range(50)}
    assert len(variable_list_errors(many, 3)) == 10
    assert variable_list_errors(many, None) == []
    from graphql import parse

    document = parse("{ posts(where: {identifier: {in: [" + "[" * 150 + "]" * 150 + "]}}) { id } }")
    assert literal_list_errors(document, 3) == []


def test_the_default_limit() -> None:
    assert QueryLimits().max_list_length == 1000
    assert QueryLimits.production().max_list_length == 1000
