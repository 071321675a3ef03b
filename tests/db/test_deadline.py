"""The cheap time limit used around body reads and pool acquisition (fraiseql.deadline)."""

from __future__ import annotations

import asyncio

import pytest

from fraiseql.deadline import Deadline


async def test_a_block_within_its_time_returns_and_leaves_no_cancellation() -> None:
    async with Deadline(1.0):
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)  # a pending cancellation would be raised here
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


async def test_a_block_over_its_time_raises_timeout_error() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimeoutError):
        async with Deadline(0.05):
            await asyncio.sleep(5)
    assert loop.time() - started < 1.0
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
    await asyncio.sleep(0)  # the task is usable afterwards


async def test_a_cancellation_from_elsewhere_passes_through() -> None:
    entered = asyncio.Event()

    async def guarded() -> None:
        async with Deadline(5.0):
            entered.set()
            await asyncio.sleep(5)

    task = asyncio.create_task(guarded())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_an_outer_cancellation_racing_the_expiry_stays_a_cancellation() -> None:
    async def guarded() -> None:
        async with Deadline(0.01):
            await asyncio.sleep(5)

    task = asyncio.create_task(guarded())
    await asyncio.sleep(0.01)
    task.cancel()  # both land while the block waits
    with pytest.raises(asyncio.CancelledError):
        await task


async def _inner_expires_inside_outer() -> None:
    async with Deadline(5.0):
        async with Deadline(0.02):
            await asyncio.sleep(5)
        pytest.fail("the inner deadline should have raised")


async def test_nested_deadlines_each_raise_their_own() -> None:
    with pytest.raises(TimeoutError):
        await _inner_expires_inside_outer()
    inner_only = False
    async with Deadline(5.0):
        try:
            async with Deadline(0.02):
                await asyncio.sleep(5)
        except TimeoutError:
            inner_only = True
        await asyncio.sleep(0.01)
    assert inner_only
