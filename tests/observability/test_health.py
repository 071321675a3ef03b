"""/health/live and /health/ready: ready checks the pool and the database."""

from __future__ import annotations

import asyncpg
import httpx
from examples.blog.schema import QUERIES, TYPES
from tests.conftest import temporary_database

import fraiseql
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.observability import readiness

from .conftest import serving


async def test_live_and_ready(blog_database: str) -> None:
    app = fraiseql.create_app(types=TYPES, queries=QUERIES, database_url=blog_database)
    async with serving(app) as client:
        live = await client.get("/health/live")
        ready = await client.get("/health/ready")
    assert live.status_code == 200 and live.json() == {"status": "alive"}
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready" and body["pool"]["max"] == 10


async def test_not_ready_before_startup_and_without_the_database(blog_database: str) -> None:
    app = fraiseql.create_app(types=TYPES, queries=QUERIES, database_url=blog_database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/health/ready")  # the lifespan has not opened the pool
        assert (await client.get("/health/live")).status_code == 200
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "the database pool is not open"}


async def test_not_ready_when_no_connection_is_free(blog_database: str) -> None:
    database = Database(PoolSettings(dsn=blog_database, max_size=1, min_size=1))
    await database.open()
    try:
        async with database.pool.acquire():
            ok, body = await readiness(database, 0.2)
        assert not ok and body["status"] == "unavailable"
        assert "within 0.2 s" in str(body["reason"])
        ok, body = await readiness(database, 1.0)
        assert ok
    finally:
        await database.close()


async def test_not_ready_when_the_database_goes_away(server_dsn: str) -> None:
    async with temporary_database(server_dsn) as dsn:
        name = dsn.rsplit("/", 1)[1]
        database = Database(PoolSettings(dsn=dsn, max_size=1, min_size=1))
        await database.open()
        try:
            assert (await readiness(database, 1.0))[0]
            admin = await asyncpg.connect(server_dsn)
            try:
                await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                    name,
                )
            finally:
                await admin.close()
            ok, body = await readiness(database, 2.0)
        finally:
            await database.close()
    assert not ok and body["status"] == "unavailable"
    assert str(body["reason"]).startswith("database check failed: ")
    assert name not in str(body["reason"])  # the type only, never the server's message


async def test_paths_are_configurable_and_can_be_turned_off(blog_database: str) -> None:
    moved = fraiseql.create_app(
        types=TYPES, queries=QUERIES, database_url=blog_database,
        health_paths=("/livez", "/readyz"),
    )  # fmt: skip
    none = fraiseql.create_app(
        types=TYPES, queries=QUERIES, database_url=blog_database, health_paths=None
    )
    async with serving(moved) as client:
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/health/ready")).status_code == 404
    async with serving(none) as client:
        assert (await client.get("/health/live")).status_code == 404


async def test_a_schema_without_database_is_ready() -> None:
    ok, body = await readiness(None, 1.0)
    assert ok and body["status"] == "ready"
