"""The app starts with the database down, answers 503 + Retry-After, and recovers by itself."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from examples.blog.schema import MUTATIONS, QUERIES, TYPES
from tests.security.tcp_proxy import TcpProxy

import fraiseql
from fraiseql import Schema, create_app
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.security.rls import RLSConfigurationError

QUERY = {"query": "{ posts(limit: 2) { identifier } }"}


@pytest.fixture
async def proxy(server_dsn: str) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(server_dsn)
    yield proxy
    await proxy.stop()


def _database(dsn: str) -> Database:
    settings = PoolSettings(dsn=dsn, connect_timeout=2, retry_min_delay=0.05, retry_max_delay=0.2)
    return Database(settings)


async def _until(client: httpx.AsyncClient, status: int, seconds: float = 10) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        response = await client.post("/graphql", json=QUERY)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.05)


async def test_starts_without_the_database_and_recovers_when_it_comes_up(
    proxy: TcpProxy, blog_database: str
) -> None:
    schema = Schema(
        types=TYPES,
        queries=QUERIES,
        mutations=MUTATIONS,
        database=_database(proxy.dsn(blog_database)),
    )
    app = create_app(schema=schema)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),  # the application's startup: it must not fail
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        down = await client.post("/graphql", json=QUERY)
        assert down.status_code == 503
        assert int(down.headers["retry-after"]) >= 1
        assert down.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        mutation = await client.post(
            "/graphql", json={"query": 'mutation { deletePost(input: {post: "x"}) { status } }'}
        )
        assert mutation.status_code == 503
        assert schema.database is not None and not schema.database.is_open
        # Introspection needs no database: it is still served.
        typename = await client.post("/graphql", json={"query": "{ __typename }"})
        assert typename.json() == {"data": {"__typename": "Query"}}

        await proxy.start()
        up = await _until(client, 200)
        assert up.status_code == 200
        assert len(up.json()["data"]["posts"]) == 2

        await proxy.stop()  # down again while serving: 503, then back without a restart
        assert (await _until(client, 503)).status_code == 503
        await proxy.start()
        assert (await _until(client, 200)).status_code == 200


@fraiseql.type(sql_source="tv_post", require_rls=True)
class GuardedPost:
    id: str
    identifier: str


@fraiseql.query
async def guarded_posts(info) -> list[GuardedPost]: ...


async def test_a_failing_rls_check_after_startup_is_loud_and_keeps_answering_503(
    proxy: TcpProxy, blog_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Connected as postgres, a superuser, with no role configured: RLS cannot confine it.
    database = _database(proxy.dsn(blog_database))
    schema = Schema(types=[GuardedPost], queries=[guarded_posts], database=database)
    app = create_app(schema=schema)
    transport = httpx.ASGITransport(app=app)
    with caplog.at_level(logging.WARNING, logger="fraiseql.db"):
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        ):
            await proxy.start()
            deadline = time.monotonic() + 10
            while not any(r.levelno == logging.CRITICAL for r in caplog.records):
                assert time.monotonic() < deadline, "the RLS check never ran"
                await asyncio.sleep(0.05)
            response = await client.post("/graphql", json={"query": "{ guardedPosts { id } }"})
            assert response.status_code == 503
            assert not database.is_open
    critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert "superuser" in critical[0].getMessage()
    assert isinstance(database.last_error, RLSConfigurationError)


async def test_a_reachable_database_failing_the_rls_check_still_stops_startup(
    blog_database: str,
) -> None:
    schema = Schema(types=[GuardedPost], queries=[guarded_posts], database=_database(blog_database))
    with pytest.raises(RLSConfigurationError, match="superuser"):
        await schema.open()
    assert schema.database is not None and not schema.database.is_open


async def test_a_wrong_database_name_is_not_retried(blog_database: str) -> None:
    wrong = blog_database.rsplit("/", 1)[0] + "/fraiseql_no_such_database"
    schema = Schema(types=TYPES, queries=QUERIES, database=_database(wrong))
    with pytest.raises(asyncpg.InvalidCatalogNameError):
        await schema.open()


async def test_close_stops_the_background_attempts(proxy: TcpProxy, blog_database: str) -> None:
    database = _database(proxy.dsn(blog_database))
    schema = Schema(types=TYPES, queries=QUERIES, database=database)
    await schema.open()
    assert not database.is_open
    await schema.close()
    await proxy.start()
    await asyncio.sleep(0.5)  # several retry delays: nothing may open the pool now
    assert not database.is_open
    with pytest.raises(RuntimeError, match="not open"):
        _ = database.pool
