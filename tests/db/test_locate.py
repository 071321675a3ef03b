"""Finding a PostgreSQL server: environment, local server, embedded server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from examples.blog.database import load_schema, seed

from fraiseql.db.locate import (
    TEST_DSN_ENV,
    embedded_dsn,
    find_test_dsn,
    stop_embedded,
    with_database,
)

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/postgres"


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        (
            "postgresql://postgres@127.0.0.1:5432/postgres",
            "postgresql://postgres@127.0.0.1:5432/fraiseql_t_1",
        ),
        (
            "postgresql://postgres:@/postgres?host=/tmp/pg data",
            "postgresql://postgres:@/fraiseql_t_1?host=/tmp/pg data",
        ),
        ("postgres://u:p@db/app?sslmode=require", "postgres://u:p@db/fraiseql_t_1?sslmode=require"),
        ("postgresql://db", "postgresql://db/fraiseql_t_1"),
    ],
)
def test_with_database_replaces_only_the_database(dsn: str, expected: str) -> None:
    assert with_database(dsn, "fraiseql_t_1") == expected


def test_with_database_quotes_the_name() -> None:
    assert with_database("postgresql://h/x", "a b/c") == "postgresql://h/a%20b%2Fc"


def test_with_database_rejects_other_schemes() -> None:
    with pytest.raises(ValueError):
        with_database("mysql://h/x", "y")


async def test_environment_variable_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TEST_DSN_ENV, "postgresql://someone@elsewhere/db")
    assert await find_test_dsn(local_dsn=UNREACHABLE) == "postgresql://someone@elsewhere/db"


async def test_a_local_server_that_answers_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    server = await find_test_dsn()  # whatever this machine's tests run on
    monkeypatch.delenv(TEST_DSN_ENV, raising=False)
    assert await find_test_dsn(local_dsn=server) == server


@pytest.mark.slow
async def test_embedded_server_when_nothing_answers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(TEST_DSN_ENV, raising=False)
    data_dir = tmp_path / "state" / "pgdata"
    try:
        dsn = await find_test_dsn(local_dsn=UNREACHABLE, data_dir=data_dir, connect_timeout=0.5)
        assert (data_dir / "PG_VERSION").is_file()
        connection = await asyncpg.connect(dsn)
        try:
            assert await connection.fetchval("SELECT 1") == 1
            await connection.execute("CREATE DATABASE blog")
        finally:
            await connection.close()

        # The example's schema (ltree included) loads and seeds on the embedded server.
        blog = with_database(dsn, "blog")
        await load_schema(blog)
        await seed(blog, organisations=2, users=5, posts=10, comments_per_post=1)
        connection = await asyncpg.connect(blog)
        try:
            assert await connection.fetchval("SELECT count(*) FROM tv_post") == 10
        finally:
            await connection.close()

        # A second call reuses the running server.
        assert await asyncio.to_thread(embedded_dsn, data_dir, database="blog") == blog
    finally:
        await asyncio.to_thread(stop_embedded, data_dir)
    assert not (data_dir / "postmaster.pid").exists()
    with pytest.raises(OSError):
        await asyncpg.connect(dsn, timeout=2)


def test_stop_embedded_without_a_server_does_nothing(tmp_path: Path) -> None:
    stop_embedded(tmp_path / "never-started")


def test_dead_processes_do_not_keep_the_embedded_server(tmp_path) -> None:
    """A pid left behind by a killed process is forgotten before the server is reused."""
    import json

    from fraiseql.db import locate

    data_dir = tmp_path / "pgdata"
    locate.embedded_dsn(data_dir)
    handles = data_dir / ".handle_pids.json"
    gone = 2**22 + 12345  # above the default pid_max: no such process
    handles.write_text(json.dumps([*json.loads(handles.read_text()), gone]))
    locate.embedded_dsn(data_dir)
    assert gone not in json.loads(handles.read_text())
    locate.stop_embedded(data_dir)
