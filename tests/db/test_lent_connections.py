"""Connections that request sessions give back stay with them (``Database.release``).

asyncpg's release costs two turns of the event loop; a clean connection given back by a request
goes to the next request directly, and back to asyncpg's pool once idle or when something else
waits for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from fraiseql.db import pool as pool_module
from fraiseql.db.pool import Database, PoolSettings


@pytest.fixture
async def database(server_dsn: str) -> AsyncIterator[Database]:
    opened = Database(PoolSettings(dsn=server_dsn, min_size=1, max_size=2))
    await opened.open()
    try:
        yield opened
    finally:
        await asyncio.wait_for(opened.close(), timeout=10)


async def test_a_clean_connection_goes_to_the_next_request(database: Database) -> None:
    first = await database.acquire()
    await first.fetchval("SELECT 1")
    await database.release(first)
    assert database.lent_idle == 1
    assert database.idle_connections == database.pool.get_size()
    again = await database.acquire()
    assert again is first and database.lent_idle == 0
    assert await again.fetchval("SELECT 2") == 2
    await database.release(again)


async def test_a_connection_inside_a_transaction_goes_back_through_asyncpg(
    database: Database,
) -> None:
    connection = await database.acquire()
    await connection.execute("BEGIN")
    await database.release(connection)
    assert database.lent_idle == 0
    other = await database.acquire()
    assert not other.is_in_transaction()  # asyncpg's reset rolled it back
    await database.release(other)


async def test_a_lent_connection_that_closed_is_replaced(database: Database) -> None:
    connection = await database.acquire()
    await database.release(connection)
    connection.terminate()
    replacement = await database.acquire()
    assert replacement is not connection
    assert await replacement.fetchval("SELECT 1") == 1
    await database.release(replacement)


async def test_idle_lent_connections_go_back_to_asyncpg(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = await database.acquire()
    await database.release(connection)
    asyncpg_idle = database.pool.get_idle_size()
    await asyncio.sleep(pool_module.LENT_IDLE * 3)
    assert database.lent_idle == 0
    assert database.pool.get_idle_size() == asyncpg_idle + 1


async def test_something_waiting_on_asyncpg_gets_the_connection_given_back(
    server_dsn: str,
) -> None:
    database = Database(PoolSettings(dsn=server_dsn, min_size=1, max_size=1))
    await database.open()
    try:
        held = await database.acquire()
        waiter = asyncio.create_task(database.pool.fetchval("SELECT 'other work'"))
        await asyncio.sleep(0.05)
        assert not waiter.done()
        await database.release(held)
        assert await asyncio.wait_for(waiter, timeout=1) == "other work"
        assert database.lent_idle == 0
    finally:
        await asyncio.wait_for(database.close(), timeout=10)


async def test_borrow_takes_a_lent_connection_first(database: Database) -> None:
    connection = await database.acquire()
    await database.release(connection)
    async with database.borrow() as borrowed:
        assert borrowed is connection
    assert database.lent_idle == 0


async def test_close_gives_every_lent_connection_back(server_dsn: str) -> None:
    database = Database(PoolSettings(dsn=server_dsn, min_size=1, max_size=2))
    await database.open()
    first, second = await database.acquire(), await database.acquire()
    await database.release(first)
    await database.release(second)
    assert database.lent_idle == 2
    await asyncio.wait_for(database.close(), timeout=5)
    assert database.lent_idle == 0
