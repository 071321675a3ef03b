"""The request sessions' turns at the pool (fraiseql.db.pool.Turns): first come, first served."""

from __future__ import annotations

import asyncio

from fraiseql.db.pool import Turns


async def test_free_turns_are_taken_at_once_and_then_waited_for_in_order() -> None:
    turns = Turns(2)
    assert turns.take_now() and turns.take_now()
    assert not turns.take_now()
    order: list[int] = []

    async def wait(n: int) -> None:
        await turns.take()
        order.append(n)

    waiters = [asyncio.create_task(wait(n)) for n in range(3)]
    await asyncio.sleep(0)
    for _ in range(3):
        turns.give()
        await asyncio.sleep(0)
    await asyncio.gather(*waiters)
    assert order == [0, 1, 2]
    assert not turns.take_now()  # the three still hold theirs


async def test_a_newcomer_does_not_pass_a_waiter() -> None:
    turns = Turns(1)
    assert turns.take_now()
    waiter = asyncio.create_task(turns.take())
    await asyncio.sleep(0)
    turns.give()  # handed to the waiter, not left free
    assert not turns.take_now()
    await waiter


async def test_a_cancelled_waiter_gives_up_its_place_and_any_turn_it_was_handed() -> None:
    turns = Turns(1)
    assert turns.take_now()
    gone = asyncio.create_task(turns.take())
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.gather(gone, return_exceptions=True)
    turns.give()
    assert turns.take_now()  # the cancelled waiter did not keep it
    handed = asyncio.create_task(turns.take())
    await asyncio.sleep(0)
    turns.give()  # handed ...
    handed.cancel()  # ... and cancelled before it ran
    await asyncio.gather(handed, return_exceptions=True)
    assert turns.take_now()  # passed back
