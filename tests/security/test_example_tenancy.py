"""The example blog as served by ``make demo``: the blog_app role, tenant policies, a header."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from examples.blog.app import TENANT_HEADER, build
from examples.blog.database import load_schema, seed
from examples.blog.security import APP_ROLE
from tests.conftest import temporary_database

from fraiseql import Schema
from fraiseql.security.rls import rls_problems

POSTS = "{ posts(limit: 100) { id identifier author { identifier } } }"
ORGANISATIONS = "{ organisations { id identifier } }"
CREATE = """
mutation($input: CreatePostInput!) {
  createPost(input: $input) { status message errors { field code } post { identifier } }
}
"""


@pytest.fixture(scope="module")
async def example(server_dsn: str) -> AsyncIterator[tuple[str, dict[str, str]]]:
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=3, users=12, posts=60, comments_per_post=1)
        connection = await asyncpg.connect(dsn)
        try:
            rows = await connection.fetch("SELECT identifier, id::text FROM tb_organisation")
        finally:
            await connection.close()
        yield dsn, {row["identifier"]: row["id"] for row in rows}


@pytest.fixture
async def client(example: tuple[str, dict[str, str]]) -> AsyncIterator[httpx.AsyncClient]:
    app = build(example[0])
    schema: Schema = app.state.fraiseql_schema
    await schema.open()  # require_rls: the startup check passes for blog_app
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http
    finally:
        await schema.close()


async def _run(
    client: httpx.AsyncClient, query: str, tenant: str | None, **variables: object
) -> dict[str, object]:
    headers = {TENANT_HEADER: tenant} if tenant is not None else {}
    body = {"query": query, "variables": variables}
    response = await client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200
    result: dict[str, object] = response.json()
    return result


async def _owners(dsn: str) -> dict[str, str]:
    """Post id → its author's organisation's identifier, read as the superuser.

    Keyed by id: post identifiers are unique per organisation only (every organisation of the
    seed has a ``welcome`` post).
    """
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT p.id::text, o.identifier AS organisation FROM tb_post p "
            "JOIN tb_user u ON u.pk_user = p.fk_user "
            "JOIN tb_organisation o ON o.pk_organisation = u.fk_organisation"
        )
    finally:
        await connection.close()
    return {row["id"]: row["organisation"] for row in rows}


async def test_the_role_is_confined_on_every_table(example: tuple[str, dict[str, str]]) -> None:
    connection = await asyncpg.connect(example[0])
    try:
        tables = [
            "tb_organisation", "tb_user", "tb_post", "tb_comment",
            "tv_organisation", "tv_user", "tv_post", "tv_comment",
        ]  # fmt: skip
        assert await rls_problems(connection, tables, APP_ROLE) == []
        views = await connection.fetch(
            "SELECT relname, reloptions FROM pg_class WHERE relname LIKE 'v_tv_%'"
        )
        assert {row["relname"] for row in views} == {
            "v_tv_organisation", "v_tv_user", "v_tv_post", "v_tv_comment",
        }  # fmt: skip
        assert all("security_invoker=true" in (row["reloptions"] or []) for row in views)
        owns = await connection.fetchval(
            "SELECT count(*) FROM pg_class WHERE relowner = $1::regrole", APP_ROLE
        )
        assert owns == 0
    finally:
        await connection.close()


async def test_each_tenant_sees_its_own_rows_only(
    client: httpx.AsyncClient, example: tuple[str, dict[str, str]]
) -> None:
    dsn, organisations = example
    owners = await _owners(dsn)
    seen: set[str] = set()
    for identifier, tenant in organisations.items():
        result = await _run(client, POSTS, tenant)
        posts = result["data"]["posts"]  # type: ignore[index]
        assert posts, identifier
        assert {owners[post["id"]] for post in posts} == {identifier}
        seen |= {post["id"] for post in posts}
        orgs = await _run(client, ORGANISATIONS, tenant)
        assert orgs["data"] == {"organisations": [{"id": tenant, "identifier": identifier}]}
    assert seen == set(owners)  # together, the tenants see every post


async def test_no_header_sees_nothing_and_a_bad_header_is_refused(
    client: httpx.AsyncClient,
) -> None:
    assert await _run(client, POSTS, None) == {"data": {"posts": []}}
    refused = await _run(client, POSTS, "acme'; SET ROLE postgres; --")
    assert "data" not in refused
    error = refused["errors"][0]  # type: ignore[index]
    assert error["extensions"]["code"] == "INVALID_CLAIMS"
    assert TENANT_HEADER in error["message"]


async def test_writes_are_confined_to_the_tenant(
    client: httpx.AsyncClient, example: tuple[str, dict[str, str]]
) -> None:
    dsn, organisations = example
    connection = await asyncpg.connect(dsn)
    try:
        authors = await connection.fetch(
            "SELECT DISTINCT ON (o.identifier) o.identifier AS organisation, u.identifier "
            "FROM tb_user u JOIN tb_organisation o ON o.pk_organisation = u.fk_organisation "
            "ORDER BY o.identifier, u.pk_user"
        )
    finally:
        await connection.close()
    (own_org, own_author), (other_org, other_author) = [tuple(r) for r in authors[:2]]
    tenant = organisations[own_org]
    base = {"title": "Tenant post", "categoryPath": "tech"}

    created = await _run(
        client, CREATE, tenant, input={**base, "identifier": "own-post", "author": own_author}
    )
    assert created["data"]["createPost"]["status"] == "SUCCESS"  # type: ignore[index]
    # Another organisation's author does not exist for this tenant: nothing is written.
    foreign = await _run(
        client,
        CREATE,
        tenant,
        input={**base, "identifier": "foreign-post", "author": other_author},
    )
    payload = foreign["data"]["createPost"]  # type: ignore[index]
    assert payload["status"] == "VALIDATION_ERROR"
    assert payload["errors"] == [{"field": "author", "code": "not_found"}]

    other = organisations[other_org]
    mine = '{ post(identifier: "own-post") { identifier } }'
    assert (await _run(client, mine, tenant))["data"] == {"post": {"identifier": "own-post"}}
    assert (await _run(client, mine, other))["data"] == {"post": None}
    connection = await asyncpg.connect(dsn)
    try:
        written = await connection.fetch(
            "SELECT p.identifier, o.identifier AS organisation FROM tb_post p "
            "JOIN tb_organisation o ON o.pk_organisation = p.fk_organisation "
            "WHERE p.identifier IN ('own-post', 'foreign-post')"
        )
    finally:
        await connection.close()
    assert [tuple(row) for row in written] == [("own-post", own_org)]
