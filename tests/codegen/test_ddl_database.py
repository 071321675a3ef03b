"""The generated DDL in a real PostgreSQL: functions, documents, RLS, drift, tenant isolation."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
import pytest
from tests.codegen import sample
from tests.conftest import temporary_database
from typer.testing import CliRunner

from fraiseql import Schema, SessionSettings
from fraiseql.cli.main import app
from fraiseql.codegen import TenantOptions, generate_ddl

INDEXES = {"Post": ["status", "author.id"]}


async def _load(dsn: str, files: dict[str, str]) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for path in sorted(files):  # the order Confiture builds in
            await connection.execute(files[path])
    finally:
        await connection.close()


@pytest.fixture(scope="module")
async def tenant_db(server_dsn: str) -> AsyncIterator[tuple[str, str, list[str]]]:
    """The generated tenant DDL loaded; two organisations (ids returned) made by the admin."""
    role = f"fraiseql_ddl_{secrets.token_hex(4)}"
    files = generate_ddl(sample.schema, tenant=TenantOptions(role=role), indexes=INDEXES)
    async with temporary_database(server_dsn) as dsn:
        await _load(dsn, files)
        connection = await asyncpg.connect(dsn)
        try:
            ids = [
                str(
                    await connection.fetchval(
                        "INSERT INTO tb_organisation (identifier, name) VALUES ($1, $2) "
                        "RETURNING id",
                        identifier,
                        name,
                    )
                )
                for identifier, name in (("acme", "Acme"), ("globex", "Globex"))
            ]
            await connection.execute("SELECT fn_sync_tv_organisation()")
        finally:
            await connection.close()
        try:
            yield dsn, role, ids
        finally:
            pass
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await admin.close()


async def _call(dsn: str, role: str, tenant: str | None, function: str, data: Any) -> Any:
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            if tenant is not None:
                await connection.execute("SELECT set_config('app.tenant_id', $1, true)", tenant)
            await connection.execute(f'SET LOCAL ROLE "{role}"')
            row = await connection.fetchrow(
                f"SELECT status, id, message, errors FROM {function}($1::jsonb)",
                orjson.dumps(data).decode(),
            )
    finally:
        await connection.close()
    assert row is not None
    return row["status"], row["id"], orjson.loads(row["errors"])


def _api(dsn: str, role: str) -> Schema:
    return Schema(
        types=sample.TYPES,
        queries=sample.QUERIES,
        mutations=sample.MUTATIONS,
        database_url=dsn,
        session=SessionSettings(
            claims=lambda context: {"app.tenant_id": context.get("tenant")}, role=role
        ),
        require_rls=True,
    )


CREATE = """
mutation ($input: CreatePostInput!) {
  createPost(input: $input) { status errors { field code } post { identifier title status } }
}
"""

POSTS = """
{ posts(orderBy: [{createdAt: DESC}]) {
    id identifier title status tags rating viewCount createdAt
    author { identifier name email } category { identifier path } } }
"""


async def test_writes_reads_rls_drift_and_isolation(
    tenant_db: tuple[str, str, list[str]],
) -> None:
    dsn, role, (acme, globex) = tenant_db
    # Without a claim the functions refuse; with one they write within the tenant.
    assert (await _call(dsn, role, None, "fn_create_user", {"identifier": "x", "name": "X"}))[
        0
    ] == "forbidden"
    status, alice, _ = await _call(
        dsn, role, acme, "fn_create_user", {"identifier": "alice", "name": "Alice"}
    )
    assert status == "success"
    status, _, errors = await _call(
        dsn, role, acme, "fn_create_user", {"identifier": "alice", "name": "Again"}
    )
    assert (status, errors) == (
        "conflict",
        [{"field": "identifier", "message": "already taken", "code": "unique"}],
    )
    # Another tenant may reuse the identifier: identifiers are unique per tenant.
    status, _, _ = await _call(
        dsn, role, globex, "fn_create_user", {"identifier": "alice", "name": "Other Alice"}
    )
    assert status == "success"
    status, _, _ = await _call(
        dsn, role, acme, "fn_create_category", {"identifier": "db", "path": "tech.databases"}
    )
    assert status == "success"

    status, _, errors = await _call(
        dsn, role, acme, "fn_create_post", {"title": "t", "author": "nobody", "status": "odd"}
    )
    assert status == "validation_error"
    assert {(e["field"], e["code"]) for e in errors} == {
        ("identifier", "required"),
        ("tags", "required"),
        ("created_at", "required"),
        ("status", "invalid"),
        ("author", "not_found"),
    }

    schema = _api(dsn, role)
    await schema.open()  # require_rls=True: raises unless RLS holds for the role
    try:
        response = await schema.run(
            CREATE,
            {
                "input": {
                    "identifier": "hello",
                    "title": "Hello",
                    "author": "alice",
                    "createdAt": "2024-03-01T10:00:00Z",
                    "tags": ["a", "b"],
                    "rating": "4.50",
                    "category": "db",
                    "status": "PUBLISHED",
                }
            },
            context={"tenant": acme},
        )
        assert response == {
            "data": {
                "createPost": {
                    "status": "SUCCESS",
                    "errors": [],
                    "post": {"identifier": "hello", "title": "Hello", "status": "PUBLISHED"},
                }
            }
        }
        status, second, _ = await _call(
            dsn,
            role,
            acme,
            "fn_create_post",
            {
                "identifier": "second",
                "title": "Second",
                "author": str(alice),
                "created_at": "2024-03-02T10:00:00+00:00",
                "tags": [],
            },
        )
        assert status == "success"
        response = await schema.run(POSTS, context={"tenant": acme})
        posts = response["data"]["posts"]
        assert [p["identifier"] for p in posts] == ["second", "hello"]
        assert posts[1] | {"id": None} == {
            "id": None,
            "identifier": "hello",
            "title": "Hello",
            "status": "PUBLISHED",
            "tags": ["a", "b"],
            "rating": "4.50",
            "viewCount": 0,
            "createdAt": "2024-03-01T10:00:00+00:00",
            "author": {"identifier": "alice", "name": "Alice", "email": None},
            "category": {"identifier": "db", "path": "tech.databases"},
        }
        assert posts[0]["status"] == "DRAFT" and posts[0]["category"] is None

        # Updates: partial, noop, not found, and the documents embedding the entity follow.
        update = {"id": str(alice), "name": "Alice B", "email": "alice@example.com"}
        assert (await _call(dsn, role, acme, "fn_update_user", update))[0] == "success"
        assert (await _call(dsn, role, acme, "fn_update_user", update))[0] == "noop"
        missing = {"id": "00000000-0000-0000-0000-000000000000", "name": "Nobody"}
        assert (await _call(dsn, role, acme, "fn_update_user", missing))[0] == "not_found"
        nulled = {"id": str(alice), "name": None}
        status, _, errors = await _call(dsn, role, acme, "fn_update_user", nulled)
        assert (status, errors[0]["field"], errors[0]["code"]) == (
            "validation_error",
            "name",
            "required",
        )
        response = await schema.run(
            "{ users { identifier name posts { identifier } organisation { identifier } } }",
            context={"tenant": acme},
        )
        assert response["data"]["users"] == [
            {
                "identifier": "alice",
                "name": "Alice B",
                "posts": [{"identifier": "hello"}, {"identifier": "second"}],
                "organisation": {"identifier": "acme"},
            }
        ]
        response = await schema.run(POSTS, context={"tenant": acme})
        assert {p["author"]["name"] for p in response["data"]["posts"]} == {"Alice B"}

        # Delete: the post goes, and its author's list with it; a referenced user cannot go.
        status, deleted, _ = await _call(dsn, role, acme, "fn_delete_post", {"id": str(second)})
        assert (status, deleted) == ("success", second)
        assert (await _call(dsn, role, acme, "fn_delete_post", {"id": str(second)}))[
            0
        ] == "not_found"
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await _call(dsn, role, acme, "fn_delete_user", {"identifier": "alice"})

        # Another tenant sees nothing of it, through the API and directly.
        response = await schema.run(POSTS, context={"tenant": globex})
        assert response == {"data": {"posts": []}}
        response = await schema.run("{ users { name } }", context={"tenant": globex})
        assert response == {"data": {"users": [{"name": "Other Alice"}]}}
        assert (await _call(dsn, role, globex, "fn_delete_post", {"identifier": "hello"}))[
            0
        ] == "not_found"
        response = await schema.run("{ posts { id } }")
        assert response == {"data": {"posts": []}}  # no claim: no rows
    finally:
        await schema.close()

    # Every read model equals its view: the functions synced all they changed.
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["drift", "tests.codegen.sample:schema", "-d", dsn]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "tv_category: no drift",
        "tv_organisation: no drift",
        "tv_post: no drift",
        "tv_user: no drift",
    ]


async def test_the_indexes_serve_the_queries(tenant_db: tuple[str, str, list[str]]) -> None:
    dsn, _, _ = tenant_db
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL enable_seqscan = off")
            plan = "\n".join(
                row[0]
                for row in await connection.fetch(
                    "EXPLAIN SELECT data FROM tv_post t "
                    "ORDER BY fraiseql_timestamptz((t.data->>'created_at')) DESC NULLS LAST, "
                    "t.id LIMIT 5"
                )
            )
            assert "tv_post_created_at_idx" in plan
            plan = "\n".join(
                row[0]
                for row in await connection.fetch(
                    "EXPLAIN SELECT data FROM tv_post t WHERE (t.data->>'status') = 'draft'"
                )
            )
            assert "tv_post_status_idx" in plan
    finally:
        await connection.close()


async def test_the_single_tenant_ddl_works_too(server_dsn: str) -> None:
    files = generate_ddl(sample.schema)
    async with temporary_database(server_dsn) as dsn:
        await _load(dsn, files)
        connection = await asyncpg.connect(dsn)
        try:
            org = await connection.fetchrow(
                "SELECT * FROM fn_create_organisation($1::jsonb)",
                '{"identifier": "acme", "name": "Acme"}',
            )
            assert org["status"] == "success"
            user = await connection.fetchrow(
                "SELECT * FROM fn_create_user($1::jsonb)",
                orjson.dumps(
                    {"identifier": "a", "name": "A", "organisation": str(org["id"])}
                ).decode(),
            )
            assert user["status"] == "success", user
            document = await connection.fetchval(
                "SELECT data FROM tv_organisation WHERE id = $1", org["id"]
            )
            assert orjson.loads(document)["users"][0]["identifier"] == "a"
            assert (
                await connection.fetchval(
                    "SELECT relrowsecurity FROM pg_class WHERE relname = 'tv_user'"
                )
                is False
            )
        finally:
            await connection.close()
        result = await asyncio.to_thread(
            CliRunner().invoke, app, ["drift", "tests.codegen.sample:schema", "-d", dsn]
        )
        assert result.exit_code == 0, result.output
