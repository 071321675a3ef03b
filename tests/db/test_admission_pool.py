"""Admission by time in queue on a real pool of 2 connections: refusing starts and stops with
the queue."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from fraiseql.db.pool import Database, PoolSettings
from fraiseql.db.session import RequestSession


@dataclass
class Outcomes:
    """What the clients saw: each refusal with the controller's state at that moment."""

    admitted: int = 0
    refusals: list[tuple[float, int, float]] = field(default_factory=list)


async def clients(
    database: Database, count: int, sleep: float, seconds: float, outcomes: Outcomes
) -> None:
    """``count`` clients, each running ``SELECT pg_sleep(sleep)`` requests back to back for
    ``seconds``, asking admission first as the HTTP transport does; a refused client comes
    back 50 ms later."""
    admission = database.admission
    assert admission is not None
    deadline = time.monotonic() + seconds

    async def client() -> None:
        while time.monotonic() < deadline:
            if not admission.admit():
                outcomes.refusals.append(
                    (time.monotonic(), admission.overloaded_intervals, admission.queue_delay)
                )
                await asyncio.sleep(0.05)
                continue
            outcomes.admitted += 1
            async with RequestSession(database) as session:
                connection = await session.connection()
                await connection.execute("SELECT pg_sleep($1)", sleep)

    await asyncio.gather(*(client() for _ in range(count)))


async def test_refusals_start_with_a_standing_queue_and_stop_when_it_is_gone(
    server_dsn: str,
) -> None:
    database = Database(PoolSettings(dsn=server_dsn, min_size=2, max_size=2, admission=True))
    await database.open()
    admission = database.admission
    assert admission is not None
    try:
        light = Outcomes()  # two clients for two connections: nobody queues
        await clients(database, 2, 0.01, 0.5, light)
        assert light.refusals == [] and light.admitted > 20
        assert not admission.overloaded and admission.overloaded_intervals == 0

        heavy = Outcomes()  # twelve clients of 30 ms queries for two connections
        started = time.monotonic()
        await clients(database, 12, 0.03, 1.2, heavy)
        assert heavy.refusals, "a standing queue of 150 ms must be refused"
        for at, overloaded_intervals, queue_delay in heavy.refusals:
            # Only after a whole interval of long waits, and while they were long.
            assert at - started >= admission.interval
            assert overloaded_intervals >= 1 and queue_delay > admission.target
        assert len(heavy.refusals) <= heavy.admitted + 12  # at most one refused per admitted

        after = Outcomes()  # back to one client: the queue is gone
        await clients(database, 1, 0.01, admission.hold + 0.4, after)
        assert after.refusals == []  # even while still on guard: nobody would wait
        assert not admission.overloaded  # and the guard is down after the hold
        last = Outcomes()
        await clients(database, 2, 0.01, 0.3, last)
        assert last.refusals == [] and admission.waiting == 0
    finally:
        await database.close()
