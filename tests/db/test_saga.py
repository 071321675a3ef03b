"""Sagas: forward runs, compensation in reverse, and recovery after a real SIGKILL."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from tests.conftest import temporary_database

from fraiseql.db.saga import Saga, SagaCompensationError, SagaRunner, SagaStep, StepContext

from .saga_worker import build_saga, install

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def dsn(server_dsn: str) -> AsyncIterator[str]:
    async with temporary_database(server_dsn) as dsn:
        yield dsn


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=6)
    await install(pool)
    try:
        yield pool
    finally:
        await pool.close()


async def _calls(pool: asyncpg.Pool) -> list[str]:
    return [r["call"] for r in await pool.fetch("SELECT call FROM saga_calls ORDER BY n")]


async def _ledger(pool: asyncpg.Pool) -> list[str]:
    return [r["what"] for r in await pool.fetch("SELECT what FROM saga_ledger ORDER BY what")]


async def _row(pool: asyncpg.Pool, saga_id: uuid.UUID) -> asyncpg.Record:
    row = await pool.fetchrow("SELECT * FROM fraiseql_saga WHERE id = $1", saga_id)
    assert row is not None
    return row


async def test_a_saga_runs_every_step_and_records_its_results(pool: asyncpg.Pool) -> None:
    runner = SagaRunner(pool, [build_saga(pool, "compensate")])
    result = await runner.start("order", {"order": 1})
    assert result.completed
    assert result.results == {
        0: {"step": "reserve", "seen": []},
        1: {"step": "charge", "seen": [0]},
        2: {"step": "confirm", "seen": [0, 1]},
    }
    assert await _calls(pool) == ["reserve", "charge", "confirm"]
    row = await _row(pool, result.id)
    assert (row["state"], row["step"], row["error"]) == ("completed", 3, None)
    assert await runner.recover() == []


async def test_a_failing_step_compensates_it_and_the_earlier_ones_in_reverse(
    pool: asyncpg.Pool,
) -> None:
    runner = SagaRunner(pool, [build_saga(pool, "compensate", failing={"confirm"})])
    result = await runner.start("order", {"order": 2})
    assert result.state == "compensated"
    assert result.error is not None and "step 2 (confirm) failed" in result.error
    # confirm has no compensation; charge and reserve are undone, last first
    assert await _calls(pool) == ["reserve", "charge", "confirm", "undo charge", "undo reserve"]
    assert await _ledger(pool) == []
    row = await _row(pool, result.id)
    assert (row["state"], row["step"]) == ("compensated", -1)


async def test_a_failing_compensation_is_retried_by_recovery(pool: asyncpg.Pool) -> None:
    failing = {"charge", "undo reserve"}
    runner = SagaRunner(pool, [build_saga(pool, "compensate", failing=failing)])
    with pytest.raises(SagaCompensationError) as raised:
        await runner.start("order", {"order": 3})
    saga_id = raised.value.result.id
    row = await _row(pool, saga_id)
    assert (row["state"], row["step"]) == ("compensating", 0)
    assert "compensation of step 0 (reserve)" in row["error"]
    failing.discard("undo reserve")  # the service is back
    results = await runner.recover()
    assert [(r.id, r.state) for r in results] == [(saga_id, "compensated")]
    assert await _calls(pool) == [
        "reserve",
        "charge",
        "undo charge",
        "undo reserve",
        "undo reserve",
    ]
    assert await _ledger(pool) == []


async def test_recovery_leaves_a_saga_whose_runner_is_alive(pool: asyncpg.Pool) -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def wait_in_charge(index: int, context: StepContext) -> None:
        if context.step_name == "charge":
            entered.set()
            await release.wait()

    runner = SagaRunner(pool, [build_saga(pool, "compensate", after_write=wait_in_charge)])
    running = asyncio.create_task(runner.start("order", {"order": 4}))
    await asyncio.wait_for(entered.wait(), 10)
    other = SagaRunner(pool, [build_saga(pool, "compensate")])
    assert await other.recover() == []
    release.set()
    assert (await running).completed
    assert await _calls(pool) == ["reserve", "charge", "confirm"]


def test_saga_definitions_are_checked() -> None:
    async def nothing(context: StepContext) -> None:
        return None

    with pytest.raises(ValueError, match="no steps"):
        Saga("empty", ())
    with pytest.raises(ValueError, match="recovery must be"):
        Saga("odd", (SagaStep("one", nothing),), recovery="sideways")  # type: ignore[arg-type]


async def _kill_during_charge(pool: asyncpg.Pool, dsn: str, recovery: str) -> uuid.UUID:
    """Run the saga in a child process, SIGKILL it inside step 1 after its write."""
    saga_id = uuid.uuid4()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.db.saga_worker",
        dsn,
        str(saga_id),
        recovery,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 60)
        assert line == b"READY\n"
    finally:
        child.kill()  # SIGKILL: no finally blocks, no unlock, no goodbye to the server
        await child.wait()
    assert child.returncode == -9
    row = await _row(pool, saga_id)
    assert (row["state"], row["step"]) == ("running", 1)
    return saga_id


async def _recover(runner: SagaRunner, saga_id: uuid.UUID) -> None:
    """Recover until the dead child's session is gone on the server (its lock with it)."""
    for _ in range(200):
        results = await runner.recover()
        if results:
            assert [r.id for r in results] == [saga_id]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the killed saga was never recovered")


async def test_a_killed_saga_is_compensated_on_recovery(pool: asyncpg.Pool, dsn: str) -> None:
    saga_id = await _kill_during_charge(pool, dsn, "compensate")
    assert await _ledger(pool) == ["charge 42", "reserve 42"]
    runner = SagaRunner(pool, [build_saga(pool, "compensate")])
    await _recover(runner, saga_id)
    row = await _row(pool, saga_id)
    assert (row["state"], row["step"], row["recoveries"]) == ("compensated", -1, 1)
    assert "interrupted at step 1" in row["error"]
    # each action ran once (in the child); each compensation once, the interrupted step's first
    assert await _calls(pool) == ["reserve", "charge", "undo charge", "undo reserve"]
    assert await _ledger(pool) == []
    assert await runner.recover() == []


async def test_a_killed_saga_goes_forward_on_recovery(pool: asyncpg.Pool, dsn: str) -> None:
    saga_id = await _kill_during_charge(pool, dsn, "forward")
    runner = SagaRunner(pool, [build_saga(pool, "forward")])
    await _recover(runner, saga_id)
    row = await _row(pool, saga_id)
    assert (row["state"], row["step"], row["error"]) == ("completed", 3, None)
    # the interrupted step ran again with the same key: two calls, one effect
    assert await _calls(pool) == ["reserve", "charge", "charge", "confirm"]
    keys = await pool.fetch("SELECT key FROM saga_calls WHERE call = 'charge'")
    assert {r["key"] for r in keys} == {f"{saga_id}:1"}
    assert await _ledger(pool) == ["charge 42", "confirm 42", "reserve 42"]
