"""``fraiseql drift``: every read model of a schema against its view, in a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from examples.blog.database import load_schema, seed
from tests.conftest import temporary_database
from typer.testing import CliRunner

import fraiseql
from fraiseql.cli.main import app

runner = CliRunner()
TARGET = "examples.blog.schema:printable_schema"


@pytest.fixture
async def blog(server_dsn: str) -> AsyncIterator[str]:
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=2, users=6, posts=12, comments_per_post=1)
        yield dsn


async def _invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    import asyncio

    result = await asyncio.to_thread(runner.invoke, app, list(args), env=env)
    return result.exit_code, result.output


async def test_a_synced_database_has_no_drift(blog: str) -> None:
    code, output = await _invoke("drift", TARGET, "--database-url", blog)
    assert code == 0, output
    assert output.splitlines() == [
        "tv_comment: no drift",
        "tv_organisation: no drift",
        "tv_post: no drift",
        "tv_user: no drift",
    ]


async def test_drifted_rows_are_listed_and_the_exit_status_is_1(blog: str) -> None:
    connection = await asyncpg.connect(blog)
    try:
        stale = await connection.fetchval(
            "UPDATE tb_post SET title = 'behind the read model' "
            "WHERE pk_post = (SELECT min(pk_post) FROM tb_post) RETURNING id::text"
        )
        missing = await connection.fetchval(
            "DELETE FROM tv_user WHERE id = (SELECT id FROM tb_user ORDER BY pk_user LIMIT 1) "
            "RETURNING id::text"
        )
        extra = await connection.fetchval(
            "INSERT INTO tv_post (id, identifier, tenant_id, data) "
            "VALUES (gen_random_uuid(), 'ghost', gen_random_uuid(), '{}') RETURNING id::text"
        )
    finally:
        await connection.close()
    code, output = await _invoke("drift", TARGET, env={"FRAISEQL_DATABASE_URL": blog})
    assert code == 1, output
    lines = output.splitlines()
    assert lines[lines.index("tv_post: 2 drifted rows") + 1 :][:2] == [
        f"  stale {stale}",
        f"  extra {extra}",
    ]
    assert lines[lines.index("tv_user: 1 drifted row") + 1] == f"  missing {missing}"
    assert "tv_organisation: no drift" in lines


@fraiseql.type(sql_source="tv_nothing")
class Nothing:
    id: fraiseql.types.scalars.UUID
    name: str


@fraiseql.query
async def nothing(info) -> list[Nothing]:
    """A read model that does not exist."""


def missing_schema() -> fraiseql.Schema:
    return fraiseql.Schema(types=[Nothing], queries=[nothing])


async def test_a_read_model_that_cannot_be_checked_exits_2(blog: str) -> None:
    code, output = await _invoke("drift", "tests.cli.test_drift_command:missing_schema", "-d", blog)
    assert code == 2
    assert output == "tv_nothing: not checked: there is no table tv_nothing\n"


@pytest.mark.parametrize("url", ["postgresql://nobody@127.0.0.1:1/none", "postgresql://x:y:z"])
async def test_an_unreachable_database_exits_2(url: str) -> None:
    code, output = await _invoke("drift", TARGET, "-d", url)
    assert code == 2
    assert "cannot connect to the database" in output


async def test_the_database_url_is_required() -> None:
    code, output = await _invoke("drift", TARGET, env={"FRAISEQL_DATABASE_URL": ""})
    assert code == 2
    assert "--database-url" in output
