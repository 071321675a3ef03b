"""Request sessions take pooled connections in the order they asked for them.

asyncpg's pool hands a released connection to whoever asks next; under overload a request that
just arrived could pass one that had waited (the tail of docs/benchmarks/OVERLOAD.md).
``Database.acquire`` queues request sessions first come, first served.
"""

from __future__ import annotations

import asyncio

import pytest

from fraiseql.db.pool import Database, PoolSettings
from fraiseql.db.session import RequestSession
from fraiseql.execution.outcome import ServiceUnavailable


async def test_waiters_are_served_in_order_and_a_newcomer_waits_its_turn(server_dsn: str) -> None:
    database = Database(PoolSettings(dsn=server_dsn, min_size=1, max_size=1, acquire_timeout=10))
    await database.open()
    order: list[str] = []

    async def request(name: str, hold: float = 0.0) -> None:
        async with RequestSession(database, transactional=False) as session:
            await session.connection()
            order.append(name)
            await asyncio.sleep(hold)

    try:
        first = asyncio.create_task(request("first", hold=0.1))
        await asyncio.sleep(0.02)
        waiters = []
        for n in range(5):
            waiters.append(asyncio.create_task(request(f"waiter-{n}", hold=0.01)))
            await asyncio.sleep(0.005)
        await first
        # Arrives the moment the first connection is given back, before the waiters ran.
        newcomer = asyncio.create_task(request("newcomer"))
        await asyncio.gather(*waiters, newcomer)
        assert order == ["first", *(f"waiter-{n}" for n in range(5)), "newcomer"]
    finally:
        await database.close()


async def test_a_timed_out_waiter_gives_its_turn_back(server_dsn: str) -> None:
    database = Database(PoolSettings(dsn=server_dsn, min_size=1, max_size=1, acquire_timeout=0.1))
    await database.open()
    try:
        async with RequestSession(database, transactional=False) as holder:
            await holder.connection()
            late = RequestSession(database, transactional=False)
            with pytest.raises(ServiceUnavailable, match="busy"):  # no connection in time
                await late.connection()
        async with RequestSession(database, transactional=False) as again:
            connection = await again.connection()
            assert await connection.fetchval("SELECT 1") == 1
    finally:
        await database.close()


async def test_a_connection_given_back_goes_to_the_longest_waiter(server_dsn: str) -> None:
    """Given back and asked for again in the same step: the waiters still come first."""
    database = Database(PoolSettings(dsn=server_dsn, min_size=1, max_size=1, acquire_timeout=10))
    await database.open()
    order: list[str] = []

    async def waiter(name: str) -> None:
        connection = await database.acquire()
        order.append(name)
        await database.release(connection)

    try:
        held = await database.acquire()
        waiters = [asyncio.create_task(waiter(f"waiter-{n}")) for n in range(3)]
        await asyncio.sleep(0.05)  # all three are waiting
        await database.release(held)
        again = await database.acquire()  # no step between: asyncpg alone would hand it here
        order.append("newcomer")
        await database.release(again)
        await asyncio.gather(*waiters)
        assert order == ["waiter-0", "waiter-1", "waiter-2", "newcomer"]
    finally:
        await database.close()
