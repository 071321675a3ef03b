"""Pool exhaustion and lost connections answer 503 with Retry-After, then recover."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from examples.blog.schema import MUTATIONS, QUERIES, TYPES

import fraiseql
from fraiseql import Info, Schema, create_app
from fraiseql.db.pool import Database, PoolSettings

QUERY = {"query": "{ posts(limit: 1) { id } }"}


@pytest.fixture
async def small_pool(blog_database: str) -> AsyncIterator[tuple[Schema, httpx.AsyncClient]]:
    database = Database(
        PoolSettings(dsn=blog_database, min_size=1, max_size=1, acquire_timeout=0.5)
    )
    schema = Schema(types=TYPES, queries=QUERIES, mutations=MUTATIONS, database=database)
    await schema.open()
    app = create_app(schema=schema)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield schema, client
    await schema.close()


async def test_exhausted_pool_answers_503_quickly(
    small_pool: tuple[Schema, httpx.AsyncClient],
) -> None:
    schema, client = small_pool
    assert schema.database is not None
    held = await schema.database.pool.acquire()
    try:
        started = time.monotonic()
        response = await client.post("/graphql", json=QUERY)
        elapsed = time.monotonic() - started
    finally:
        await schema.database.pool.release(held)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert elapsed < 5  # bounded by the acquire timeout, not a hang
    recovered = await client.post("/graphql", json=QUERY)
    assert recovered.status_code == 200


async def test_lost_connection_answers_503_and_the_pool_recovers(
    small_pool: tuple[Schema, httpx.AsyncClient], blog_database: str
) -> None:
    _, client = small_pool
    assert (await client.post("/graphql", json=QUERY)).status_code == 200
    admin = await asyncpg.connect(blog_database)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = 'fraiseql'"
        )
    finally:
        await admin.close()
    await asyncio.sleep(0.2)
    statuses = []
    for _ in range(3):
        statuses.append((await client.post("/graphql", json=QUERY)).status_code)
    assert statuses[0] in (200, 503)
    assert statuses[-1] == 200


async def test_client_disconnect_cancels_the_database_query(blog_database: str) -> None:
    @fraiseql.query
    async def slow(info: Info) -> int:
        connection = await info.repository.session.connection()
        await connection.execute("SELECT pg_sleep(30) /* fraiseql-slow-probe */")
        return 1

    schema = Schema(types=TYPES, queries=[*QUERIES, slow], database_url=blog_database)
    await schema.open()
    app = create_app(schema=schema)
    body = b'{"query": "{ slow }"}'
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    disconnect = asyncio.Event()

    async def receive() -> dict[str, object]:
        if messages:
            return messages.pop()
        await disconnect.wait()
        return {"type": "http.disconnect"}

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
    }
    observer = await asyncpg.connect(blog_database)
    probe = (
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%fraiseql-slow-probe%' "
        "AND state = 'active' AND pid <> pg_backend_pid()"
    )
    try:
        task = asyncio.create_task(app(scope, receive, send))
        for _ in range(100):
            if await observer.fetchval(probe):
                break
            await asyncio.sleep(0.05)
        assert await observer.fetchval(probe) == 1
        disconnect.set()
        await asyncio.wait_for(task, timeout=10)
        for _ in range(100):
            if not await observer.fetchval(probe):
                break
            await asyncio.sleep(0.05)
        assert await observer.fetchval(probe) == 0
        assert not [m for m in sent if m["type"] == "http.response.start"]
    finally:
        await observer.close()
        await schema.close()
