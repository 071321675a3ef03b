"""Delayed calls sharing one loop timer per delay (fraiseql.timers), as Deadline uses them."""

from __future__ import annotations

import asyncio

from fraiseql.timers import Delayed, DelayQueue, delay_queue


async def test_calls_run_in_order_once_their_delay_has_passed() -> None:
    queue = DelayQueue(0.02)
    loop = asyncio.get_running_loop()
    ran: list[tuple[int, float]] = []
    started = loop.time()
    for number in range(3):
        queue.call_later(lambda n=number: ran.append((n, loop.time())))
        await asyncio.sleep(0.005)
    assert ran == []
    await asyncio.sleep(0.06)
    assert [n for n, _ in ran] == [0, 1, 2]
    assert all(at - started >= 0.019 for _, at in ran)
    assert len(queue) == 0


async def test_a_cancelled_call_does_not_run_and_the_others_still_do() -> None:
    queue = DelayQueue(0.01)
    ran: list[str] = []
    first = queue.call_later(lambda: ran.append("first"))
    queue.call_later(lambda: ran.append("second"))
    first.cancel()
    await asyncio.sleep(0.05)
    assert ran == ["second"]


async def test_finished_calls_are_dropped_as_new_ones_come() -> None:
    queue = DelayQueue(10.0)
    for _ in range(1000):
        queue.call_later(lambda: None).cancel()
    assert len(queue) == 1  # only the latest, still pending until the next call
    queue.call_later(lambda: None)
    assert len(queue) == 1


async def test_a_call_made_from_a_callback_runs_on_a_later_tick() -> None:
    queue = DelayQueue(0.01)
    ran: list[str] = []
    queue.call_later(lambda: queue.call_later(lambda: ran.append("again")))
    await asyncio.sleep(0.015)
    assert ran == []
    await asyncio.sleep(0.03)
    assert ran == ["again"]


def test_a_queue_used_on_a_new_loop_forgets_the_old_loops_calls() -> None:
    queue = DelayQueue(5.0)
    ran: list[str] = []

    async def schedule(label: str) -> None:
        queue.call_later(lambda: ran.append(label))

    asyncio.run(schedule("old"))  # that loop closes with the call pending
    assert len(queue) == 1

    async def schedule_and_wait() -> None:
        queue.delay = 0.01
        queue.call_later(lambda: ran.append("new"))
        await asyncio.sleep(0.05)

    asyncio.run(schedule_and_wait())
    assert ran == ["new"]


def test_one_queue_per_delay_is_shared() -> None:
    assert delay_queue(0.25) is delay_queue(0.25)
    assert delay_queue(0.25) is not delay_queue(0.5)


def test_calls_forgotten_with_an_old_loop_read_as_cancelled() -> None:
    queue = DelayQueue(5.0)
    made: list[Delayed] = []

    async def schedule() -> None:
        made.append(queue.call_later(lambda: None))

    asyncio.run(schedule())
    asyncio.run(schedule())  # the first call is forgotten here
    first, second = made
    assert first.callback is None
    assert second.callback is not None
