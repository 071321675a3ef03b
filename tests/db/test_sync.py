"""Generated sync functions behave like the example's, and drift is detected."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from examples.blog.database import load_schema, seed
from tests.conftest import temporary_database

from fraiseql.db.sync import ReadModel, check_drift, sync_function_sql

ENTITIES = ("organisation", "user", "post", "comment")


@pytest.fixture(scope="module")
async def blog(server_dsn: str) -> AsyncIterator[str]:
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=2, users=10, posts=40, comments_per_post=2)
        yield dsn


@pytest.fixture
async def connection(blog: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(blog)
    yield connection
    await connection.close()


async def test_seeded_read_models_have_no_drift(connection: asyncpg.Connection) -> None:
    for entity in ENTITIES:
        assert (await check_drift(connection, ReadModel(entity))).clean


async def test_drift_is_found_and_the_generated_function_repairs_it(
    connection: asyncpg.Connection,
) -> None:
    model = ReadModel("post")
    post = await connection.fetchrow("SELECT id, pk_post FROM tb_post ORDER BY pk_post LIMIT 1")
    await connection.execute(
        "UPDATE tb_post SET title = 'changed behind the read model' WHERE pk_post = $1",
        post["pk_post"],
    )
    await connection.execute(
        "DELETE FROM tv_post WHERE id = (SELECT id FROM tb_post ORDER BY pk_post DESC LIMIT 1)"
    )
    await connection.execute(
        "INSERT INTO tv_post (id, identifier, tenant_id, data) "
        "VALUES (gen_random_uuid(), 'ghost', gen_random_uuid(), '{}')"
    )
    drift = await check_drift(connection, model)
    assert drift.stale == [str(post["id"])]
    assert len(drift.missing) == 1
    assert len(drift.extra) == 1

    generated = ReadModel("post", table="tv_post")
    sql = sync_function_sql(generated).replace("fn_sync_tv_post", "fn_generated_sync_tv_post")
    await connection.execute(sql)
    changed = await connection.fetchval(
        "SELECT fn_generated_sync_tv_post(ARRAY[$1]::uuid[])", post["id"]
    )
    assert changed == 1
    assert (await check_drift(connection, model)).stale == []
    changed = await connection.fetchval("SELECT fn_generated_sync_tv_post()")
    assert changed == 2  # the missing row written, the ghost deleted
    assert (await check_drift(connection, model)).clean
    assert await connection.fetchval("SELECT fn_generated_sync_tv_post()") == 0


def test_generated_sql_quotes_names() -> None:
    sql = sync_function_sql(ReadModel("odd", table='tv_"odd', view="v_tv_odd", source="tb_odd"))
    assert '"tv_""odd"' in sql
