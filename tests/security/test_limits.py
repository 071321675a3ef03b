"""Query limits fire before the database is touched."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from examples.blog.schema import QUERIES, TYPES
from graphql import get_introspection_query

from fraiseql import Schema
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.security.limits import QueryLimits


@pytest.fixture
async def observed(blog_database: str) -> AsyncIterator[tuple[Schema, list[str]]]:
    statements: list[str] = []
    database = Database(PoolSettings(dsn=blog_database), observe_statements=True)
    database.statement_observers.append(statements.append)
    schema = Schema(types=TYPES, queries=QUERIES, database=database)
    await schema.open()
    try:
        yield schema, statements
    finally:
        await schema.close()


async def test_depth_limit(observed: tuple[Schema, list[str]]) -> None:
    schema, _ = observed
    deep = "{ posts(limit: 1) { comments { author { name } } } }"
    assert "errors" not in await schema.run(deep)
    limited = Schema(types=TYPES, queries=QUERIES, limits=QueryLimits(max_depth=2))
    result = await limited.run(deep)
    assert result["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    assert "4 levels deep; the limit is 2" in result["errors"][0]["message"]
    assert "data" not in result


async def test_fragments_count_towards_depth_and_cycles_do_not_hang() -> None:
    schema = Schema(types=TYPES, queries=QUERIES, limits=QueryLimits(max_depth=3))
    query = """
      query { posts(limit: 1) { ...P } }
      fragment P on Post { comments { ...C } }
      fragment C on PostComment { author { name } }
    """
    result = await schema.run(query)
    assert result["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    cyclic = """
      query { posts(limit: 1) { ...A } }
      fragment A on Post { ...B }
      fragment B on Post { ...A }
    """
    result = await schema.run(cyclic)
    assert result["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_alias_limit(observed: tuple[Schema, list[str]]) -> None:
    schema, statements = observed
    many = "{ " + " ".join(f"a{i}: posts(limit: 1) {{ id }}" for i in range(16)) + " }"
    statements.clear()
    result = await schema.run(many)
    assert result["errors"][0]["extensions"]["code"] == "TOO_MANY_ALIASES"
    assert statements == []


async def test_cost_limit_multiplies_lists(observed: tuple[Schema, list[str]]) -> None:
    schema, statements = observed
    cheap = "{ posts(limit: 5) { comments { author { name } } } }"
    assert "errors" not in await schema.run(cheap)
    tight = Schema(types=TYPES, queries=QUERIES, limits=QueryLimits(max_cost=100))
    # 1 (posts) + 5 * (1 comments + 10 * (1 author + 1 name)) = 106
    result = await tight.run(cheap)
    assert result["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "cost is 106" in result["errors"][0]["message"]
    connection = "{ postsConnection(first: 2) { edges { node { id title } } totalCount } }"

    # 1 postsConnection + (1 edges + 2 * (1 node + 1 id + 1 title)) + 1 totalCount = 9

    def verdict(max_cost: int) -> list[dict[str, object]]:
        limited = Schema(types=TYPES, queries=QUERIES, limits=QueryLimits(max_cost=max_cost))
        return limited.executor.documents.get(connection).errors

    assert verdict(9) == []
    assert verdict(8)[0]["extensions"] == {"code": "QUERY_TOO_COMPLEX"}
    statements.clear()
    unbounded = "{ postsConnection { edges { node { comments { author { name } } } } } }"
    huge = Schema(types=TYPES, queries=QUERIES, limits=QueryLimits(max_cost=1000))
    assert (await huge.run(unbounded))["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert statements == []


async def test_token_limit_rejects_a_huge_document_without_running_anything(
    observed: tuple[Schema, list[str]],
) -> None:
    schema, statements = observed
    hostile = "{ " + "posts { id } " * 90_000 + "}"  # about 1 MiB
    assert len(hostile) > 1_000_000
    statements.clear()
    result = await schema.run(hostile)
    assert "more than 2000 tokens" in result["errors"][0]["message"]
    assert statements == []


async def test_graphiql_introspection_fits_the_default_limits() -> None:
    schema = Schema(types=TYPES, queries=QUERIES)
    result = await schema.run(get_introspection_query(descriptions=True))
    assert "errors" not in result
    assert result["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_production_turns_off_introspection_and_suggestions() -> None:
    schema = Schema(types=TYPES, queries=QUERIES, production=True)
    result = await schema.run("{ __schema { queryType { name } } }")
    assert "introspection" in result["errors"][0]["message"].lower()
    result = await schema.run("{ post { titl } }")
    assert "Did you mean" not in result["errors"][0]["message"]
    development = Schema(types=TYPES, queries=QUERIES)
    result = await development.run("{ post { titl } }")
    assert "Did you mean" in result["errors"][0]["message"]


def test_limits_can_be_turned_off() -> None:
    limits = QueryLimits(max_depth=None, max_aliases=None, max_cost=None, max_tokens=None)
    schema = Schema(types=TYPES, queries=QUERIES, limits=limits)
    assert schema.executor.documents.limits.max_depth is None


def test_aliased_typename_fields_count_as_aliases() -> None:
    schema = Schema(types=TYPES, queries=QUERIES, limits=QueryLimits(max_aliases=2))
    query = "{ a: __typename b: __typename c: __typename }"
    errors = schema.executor.documents.get(query).errors
    assert errors[0]["extensions"]["code"] == "TOO_MANY_ALIASES"


async def test_substring_operators_take_plain_strings_on_custom_string_scalars(
    blog_schema: Schema,
) -> None:
    result = await blog_schema.run(
        '{ posts(limit: 3, where: {author: {email: {endsWith: "example.com", contains: "@"}}}) { id } }'
    )
    assert "errors" not in result
