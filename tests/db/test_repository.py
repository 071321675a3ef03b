"""QueryRepository as custom resolvers use it: same statements and cursors as auto fields."""

from __future__ import annotations

import pytest
from examples.blog.schema import QUERIES, TYPES, Post, PostStatus

import fraiseql
from fraiseql import FraiseQLError, Info, Schema


@fraiseql.query
async def top_posts(info: Info, status: PostStatus, count: int = 3) -> list[Post]:
    """Python-resolved, through the repository."""
    return await info.repository.find(
        Post,
        where={"status": {"eq": status}},
        order_by=[{"viewCount": "DESC"}],
        limit=count,
    )


@fraiseql.query
async def post_page(info: Info, first: int, after: str | None = None) -> fraiseql.Connection[Post]:
    """A connection built by a custom resolver."""
    return await info.repository.paginate(Post, first=first, after=after, with_total=True)


@pytest.fixture(scope="module")
async def schema(blog_database: str):
    schema = Schema(
        types=TYPES, queries=[*QUERIES, top_posts, post_page], database_url=blog_database
    )
    await schema.open()
    yield schema
    await schema.close()


async def test_find_from_a_custom_resolver(schema: Schema) -> None:
    custom = await schema.run(
        "{ r: topPosts(status: PUBLISHED, count: 4) { id viewCount status } }"
    )
    auto = await schema.run(
        "{ r: posts(limit: 4, where: {status: {eq: PUBLISHED}}, orderBy: [{viewCount: DESC}]) { id viewCount status } }"
    )
    assert custom == auto
    assert len(custom["data"]["r"]) == 4


async def test_paginate_matches_the_auto_connection(schema: Schema) -> None:
    query = "query($a: String) { %s(first: 5, after: $a) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"
    custom_first = await schema.run(query % "postPage")
    auto_first = await schema.run(query % "postsConnection")
    assert custom_first["data"]["postPage"] == auto_first["data"]["postsConnection"]
    cursor = custom_first["data"]["postPage"]["pageInfo"]["endCursor"]
    custom_next = await schema.run(query % "postPage", {"a": cursor})
    auto_next = await schema.run(query % "postsConnection", {"a": cursor})
    assert custom_next["data"]["postPage"] == auto_next["data"]["postsConnection"]


async def test_find_one_and_errors(schema: Schema, blog_connection) -> None:
    identifier = await blog_connection.fetchval("SELECT identifier FROM tv_post LIMIT 1")
    database = schema.database
    assert database is not None
    from fraiseql.db.repository import QueryRepository
    from fraiseql.db.session import RequestSession

    async with RequestSession(database) as session:
        repository = QueryRepository(schema.model, session)
        found = await repository.find_one(Post, identifier=identifier)
        assert found is not None
        assert found["identifier"] == identifier
        assert await repository.find_one(Post, id=found["id"]) == found
        assert await repository.find_one(Post, identifier="missing") is None
        with pytest.raises(FraiseQLError, match="exactly one"):
            await repository.find_one(Post)
        with pytest.raises(TypeError, match="sql_source"):
            await repository.find(int)
