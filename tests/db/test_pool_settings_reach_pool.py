"""Every documented pool setting read from the environment reaches the pool that serves.

``create_app`` once read ``PoolSettings.from_env`` and passed only the DSN on, so the pool ran
with the defaults (10 connections, a 1 s acquire timeout) whatever the environment said.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from examples.blog.schema import MUTATIONS, QUERIES, TYPES

import fraiseql
from fraiseql.db.pool import POOL_ENV, Database, PoolSettings

QUERY = {"query": "{ posts(limit: 1) { id } }"}


@asynccontextmanager
async def served(app: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    schema = app.state.fraiseql_schema
    await schema.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, schema.database
    finally:
        await schema.close()


def blog_app(**options: Any) -> Any:
    return fraiseql.create_app(types=TYPES, queries=QUERIES, mutations=MUTATIONS, **options)


@pytest.fixture
def pool_env(monkeypatch: pytest.MonkeyPatch, blog_database: str) -> pytest.MonkeyPatch:
    for variable in POOL_ENV:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("FRAISEQL_DATABASE_URL", blog_database)
    return monkeypatch


async def test_every_variable_reaches_the_open_pool(pool_env: pytest.MonkeyPatch) -> None:
    pool_env.setenv("FRAISEQL_POOL_MIN_SIZE", "2")
    pool_env.setenv("FRAISEQL_POOL_MAX_SIZE", "7")
    pool_env.setenv("FRAISEQL_POOL_ACQUIRE_TIMEOUT", "30")
    pool_env.setenv("FRAISEQL_STATEMENT_TIMEOUT_MS", "4321")
    async with served(blog_app()) as (client, database):
        assert database.settings.acquire_timeout == 30.0
        pool = database.pool
        assert (pool.get_min_size(), pool.get_max_size()) == (2, 7)
        async with pool.acquire() as connection:
            assert await connection.fetchval("SHOW statement_timeout") == "4321ms"
        assert (await client.post("/graphql", json=QUERY)).status_code == 200


async def test_the_acquire_timeout_is_the_one_requests_wait(
    pool_env: pytest.MonkeyPatch,
) -> None:
    """One connection, held elsewhere: a short timeout answers 503, a long one waits it out."""
    pool_env.setenv("FRAISEQL_POOL_MIN_SIZE", "1")
    pool_env.setenv("FRAISEQL_POOL_MAX_SIZE", "1")
    pool_env.setenv("FRAISEQL_POOL_ACQUIRE_TIMEOUT", "0.2")
    async with served(blog_app()) as (client, database):
        async with database.pool.acquire():
            started = time.monotonic()
            busy = await client.post("/graphql", json=QUERY)
            waited = time.monotonic() - started
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "1"
        assert waited < 0.9  # the 0.2 s from the environment, not the 1 s default

    pool_env.setenv("FRAISEQL_POOL_ACQUIRE_TIMEOUT", "20")
    async with served(blog_app()) as (client, database):
        held = await database.pool.acquire()

        async def release_soon() -> None:
            await asyncio.sleep(1.5)  # longer than the 1 s default
            await database.pool.release(held)

        releaser = asyncio.create_task(release_soon())
        answer = await client.post("/graphql", json=QUERY)
        await releaser
        assert answer.status_code == 200, answer.text


async def test_schema_with_a_url_reads_the_environment_too(
    pool_env: pytest.MonkeyPatch, blog_database: str
) -> None:
    pool_env.setenv("FRAISEQL_POOL_MAX_SIZE", "3")
    schema = fraiseql.Schema(types=TYPES, queries=QUERIES, database_url=blog_database)
    assert schema.database is not None
    assert schema.database.settings == PoolSettings(dsn=blog_database, max_size=3)


async def test_an_explicit_database_is_used_as_given(
    pool_env: pytest.MonkeyPatch, blog_database: str
) -> None:
    pool_env.setenv("FRAISEQL_POOL_MAX_SIZE", "3")
    database = Database(PoolSettings(dsn=blog_database, max_size=4))
    app = blog_app(database=database)
    assert app.state.fraiseql_schema.database is database
    with pytest.raises(TypeError, match="not both"):
        blog_app(database=database, database_url=blog_database)


def test_a_minimum_above_the_maximum_names_both(pool_env: pytest.MonkeyPatch) -> None:
    pool_env.setenv("FRAISEQL_POOL_MIN_SIZE", "8")
    pool_env.setenv("FRAISEQL_POOL_MAX_SIZE", "4")
    with pytest.raises(ValueError, match=r"FRAISEQL_POOL_MIN_SIZE.*FRAISEQL_POOL_MAX_SIZE"):
        blog_app()
