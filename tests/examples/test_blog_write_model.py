"""The blog's write side, made cheaper, answers as its plain definitions do.

``fn_create_post`` writes the new post's ``tv_post`` row itself instead of calling
``fn_sync_tv_post``, and the reference lookups are PL/pgSQL (their plans are kept by the
session): the row must be the one the sync writes, and each lookup must answer as the SQL
definition it replaced, which the oracles below restate.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

# The definitions the PL/pgSQL lookups replaced, as queries of $1 (the reference).
_TENANT = """(nullif(current_setting('app.tenant_id', true), '') IS NULL
    OR fk_organisation = (SELECT pk_organisation FROM tb_organisation
                          WHERE id = nullif(current_setting('app.tenant_id', true), '')::uuid))"""
_IS_UUID = "$1 ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'"
ORACLE = """SELECT CASE WHEN count(*) = 1 THEN min(pk_{entity}) END FROM tb_{entity}
WHERE (id = CASE WHEN {is_uuid} THEN $1::uuid END
       OR identifier = CASE WHEN {is_uuid} THEN NULL ELSE $1 END)
  AND {tenant}"""
TEXT_ARRAY_ORACLE = """SELECT CASE WHEN jsonb_typeof($1::jsonb) = 'array'
    THEN ARRAY(SELECT jsonb_array_elements_text($1::jsonb)) ELSE '{}'::text[] END"""


@pytest.fixture
async def blog(blog_connection: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    """The shared blog database inside a transaction that is rolled back."""
    transaction = blog_connection.transaction()
    await transaction.start()
    try:
        yield blog_connection
    finally:
        await transaction.rollback()


async def create(connection: asyncpg.Connection, **input: Any) -> asyncpg.Record:
    return await connection.fetchrow("SELECT * FROM fn_create_post($1::jsonb)", json.dumps(input))


@pytest.mark.parametrize("status", ["draft", "published"])
async def test_a_created_post_is_the_row_its_sync_writes(
    blog: asyncpg.Connection, status: str
) -> None:
    author = await blog.fetchval("SELECT id::text FROM tb_user ORDER BY pk_user LIMIT 1")
    await blog.execute("SET LOCAL TimeZone = 'America/New_York'")
    result = await create(
        blog,
        identifier="written-by-the-test",
        title='Löwe "quoted" <b>',
        body="",
        author=author.upper(),
        status=status,
        tags=["b", "a", "b"],
        category_path="tech.databases",
    )
    assert result["status"] == "success", result
    stored = await blog.fetchrow(
        "SELECT identifier, tenant_id, data::text AS data FROM tv_post WHERE id = $1", result["id"]
    )
    assert await blog.fetchval("SELECT fn_sync_tv_post($1)", [result["id"]]) == 0
    again = await blog.fetchrow(
        "SELECT identifier, tenant_id, data::text AS data FROM tv_post WHERE id = $1", result["id"]
    )
    assert again == stored
    await blog.execute("SET LOCAL TimeZone = 'UTC'")
    view = await blog.fetchrow(
        "SELECT identifier, tenant_id, data::text AS data FROM v_tv_post WHERE id = $1",
        result["id"],
    )
    assert view == stored
    document = json.loads(stored["data"])
    assert document["tags"] == ["b", "a", "b"] and document["comments"] == []
    assert document["created_at"].endswith("+00:00")
    assert (document["published_at"] is not None) == (status == "published")
    assert await blog.fetchval("SHOW TimeZone") == "UTC"


async def test_a_refused_create_writes_no_read_model_row(blog: asyncpg.Connection) -> None:
    before = await blog.fetchval("SELECT count(*) FROM tv_post")
    result = await create(blog, identifier="x", title="t", author="nobody", category_path="a")
    assert result["status"] == "validation_error"
    assert json.loads(result["errors"]) == [
        {"field": "author", "message": "no user has this id or identifier", "code": "not_found"}
    ]
    assert await blog.fetchval("SELECT count(*) FROM tv_post") == before


REPEAT = {
    "user": """INSERT INTO tb_user (identifier, fk_organisation, name, email)
        SELECT u.identifier, o.pk_organisation, u.name, u.email FROM tb_user u, tb_organisation o
        WHERE NOT EXISTS (SELECT FROM tb_user v WHERE v.fk_organisation = o.pk_organisation
                          AND (v.identifier = u.identifier OR v.email = u.email))
        ORDER BY u.pk_user, o.pk_organisation
        LIMIT 1 RETURNING identifier""",
    "post": """INSERT INTO tb_post (identifier, fk_organisation, fk_user, title, body, category_path)
        SELECT p.identifier, u.fk_organisation, u.pk_user, 't', '', 'a' FROM tb_post p, tb_user u
        WHERE NOT EXISTS (SELECT FROM tb_post q WHERE q.fk_organisation = u.fk_organisation
                          AND q.identifier = p.identifier)
        ORDER BY p.pk_post, u.pk_user
        LIMIT 1 RETURNING identifier""",
}


async def references(connection: asyncpg.Connection, entity: str) -> list[str | None]:
    """Ids (lower and upper case) and identifiers of rows, one identifier repeated in another
    organisation, an unknown id and identifier, malformed ones and null."""
    repeated = await connection.fetchval(REPEAT[entity])
    rows = await connection.fetch(
        f"SELECT id::text, identifier FROM tb_{entity} ORDER BY identifier, id LIMIT 30"
    )
    values: list[str | None] = [None, "", "nobody", str(uuid.uuid4()), "not-a-uuid-0000"]
    values += [repeated, rows[0]["id"].upper()]
    values.extend(value for row in rows for value in (row["id"], row["identifier"]))
    return values


@pytest.mark.parametrize("entity", ["user", "post"])
async def test_references_resolve_as_the_sql_definition_did(
    blog: asyncpg.Connection, entity: str
) -> None:
    oracle = ORACLE.format(entity=entity, is_uuid=_IS_UUID, tenant=_TENANT)
    values = await references(blog, entity)
    tenants = [None, ""] + [
        r[0] for r in await blog.fetch("SELECT id::text FROM tb_organisation ORDER BY 1 LIMIT 2")
    ]
    for tenant in tenants:
        if tenant is not None:
            await blog.execute("SELECT set_config('app.tenant_id', $1, true)", tenant)
        for value in values:
            expected = await blog.fetchval(oracle, value)
            assert await blog.fetchval(f"SELECT fn_{entity}_pk($1)", value) == expected, (
                tenant,
                value,
            )


@pytest.mark.parametrize(
    "value", [None, "null", "{}", '"a"', "[]", '["a", "b", "a"]', '[1, true, "x"]', '["a", null]']
)
async def test_text_array_answers_as_the_sql_definition_did(
    blog: asyncpg.Connection, value: str | None
) -> None:
    expected = await blog.fetchval(TEXT_ARRAY_ORACLE, value)
    assert await blog.fetchval("SELECT fn_text_array($1::jsonb)", value) == expected
