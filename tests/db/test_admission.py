"""Admission control: past ``max_waiting`` requests waiting for a connection, a fast 503."""

from __future__ import annotations

import asyncio
import time

import httpx
import orjson
import pytest

import fraiseql
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.db.pool import PoolSettings as Settings
from fraiseql.db.session import RequestSession
from fraiseql.execution.outcome import ServiceUnavailable
from fraiseql.sql.select import Statement


@fraiseql.query
async def sleepy(info: fraiseql.Info, seconds: float) -> float | None:
    """Holds its connection for ``seconds``."""
    await info.repository.fetch_value(Statement("SELECT pg_sleep($1)", [seconds]))
    return seconds


async def test_requests_past_the_waiting_limit_are_refused_at_once(blog_database: str) -> None:
    database = Database(PoolSettings(dsn=blog_database, max_size=1, max_waiting=1))
    await database.open()
    try:
        holder = RequestSession(database)
        await holder.connection()  # the only connection
        second = RequestSession(database)
        waiter = asyncio.create_task(second.connection())
        await asyncio.sleep(0.05)
        assert database.waiting == 1
        started = time.perf_counter()
        with pytest.raises(ServiceUnavailable) as refused:
            await RequestSession(database).connection()
        assert time.perf_counter() - started < 0.05  # no waiting at all
        assert refused.value.retry_after == 1 and "too many requests" in refused.value.message
        assert database.refused == 1
        await holder.release()
        assert await asyncio.wait_for(waiter, 2) is not None  # the waiter got it
        assert database.waiting == 0
        await second.release()
    finally:
        await database.close()


async def test_the_http_answer_is_a_503_with_retry_after(blog_database: str) -> None:
    database = Database(PoolSettings(dsn=blog_database, max_size=1, max_waiting=1))
    app = fraiseql.create_app(queries=[sleepy], database=database)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

            async def ask(seconds: float) -> httpx.Response:
                return await client.post(
                    "/graphql", json={"query": f"{{ sleepy(seconds: {seconds}) }}"}
                )

            slow = [asyncio.create_task(ask(0.3)) for _ in range(2)]  # one runs, one waits
            await asyncio.sleep(0.1)
            refused = await ask(0)
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "1"
            body = orjson.loads(refused.content)
            assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            assert [r.status_code for r in await asyncio.gather(*slow)] == [200, 200]


def test_there_is_no_limit_by_default_and_the_environment_sets_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings(dsn="postgresql://x", max_size=10).waiting_limit == float("inf")
    monkeypatch.setenv("FRAISEQL_POOL_MAX_WAITING", "7")
    assert Settings.from_env("postgresql://x").waiting_limit == 7
    monkeypatch.setenv("FRAISEQL_POOL_MAX_WAITING", "-1")
    with pytest.raises(ValueError, match="FRAISEQL_POOL_MAX_WAITING"):
        Settings.from_env("postgresql://x")
