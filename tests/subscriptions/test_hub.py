"""The fan-out's own rules: bounded queues, merged reads, groups that end with their members."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fraiseql.subscriptions.events import MISSED_EVENTS_BODY, Event
from fraiseql.subscriptions.hub import EventHub, SlowConsumerError


class _Operation:
    """Stands for a started subscription: the hub reads only these attributes."""

    def __init__(self, key: Any, entity: str = "note", events: tuple[str, ...] = ("insert",)):
        self.key = key
        self.entity = entity
        self.events = events


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_subscriber_that_does_not_read_is_closed_not_buffered_forever() -> None:
    async def reader(operation: Any, ids: list[str]) -> list[bytes]:
        return [f'"{i}"'.encode() for i in ids]

    hub = EventHub(reader, max_queued=3)
    slow = hub.subscribe(_Operation("k"))  # type: ignore[arg-type]
    fast = hub.subscribe(_Operation("k"))  # type: ignore[arg-type]
    received = []
    for number in range(5):
        hub.publish(Event("note", "insert", (f"id{number}",)))
        await _settle()
        received.append(await fast.__anext__())
    assert len(received) == 5
    with pytest.raises(SlowConsumerError):
        await slow.__anext__()
    assert hub.overflows == 1 and hub.subscriptions == 1
    await fast.aclose()
    assert hub.subscriptions == 0 and hub.groups == 0


async def test_ids_that_arrive_during_a_read_are_merged_into_the_next() -> None:
    calls: list[list[str]] = []
    gate = asyncio.Event()

    async def reader(operation: Any, ids: list[str]) -> list[bytes]:
        calls.append(ids)
        await gate.wait()
        return []

    hub = EventHub(reader)
    stream = hub.subscribe(_Operation("k"))  # type: ignore[arg-type]
    hub.publish(Event("note", "insert", ("a",)))
    await _settle()
    for name in ("b", "c", "b"):
        hub.publish(Event("note", "insert", (name,)))
    gate.set()
    await _settle()
    assert calls == [["a"], ["b", "c"]]
    await stream.aclose()


async def test_a_failing_read_tells_the_group_it_missed_events() -> None:
    async def reader(operation: Any, ids: list[str]) -> list[bytes]:
        raise OSError("connection refused")

    hub = EventHub(reader)
    stream = hub.subscribe(_Operation("k"))  # type: ignore[arg-type]
    hub.publish(Event("note", "insert", ("a",)))
    assert await asyncio.wait_for(stream.__anext__(), 1) == MISSED_EVENTS_BODY
    assert hub.failed_reads == 1
    await stream.aclose()


async def test_events_of_other_entities_and_operations_are_not_read() -> None:
    calls: list[list[str]] = []

    async def reader(operation: Any, ids: list[str]) -> list[bytes]:
        calls.append(ids)
        return []

    hub = EventHub(reader)
    stream = hub.subscribe(_Operation("k"))  # type: ignore[arg-type]
    hub.publish(Event("other", "insert", ("a",)))
    hub.publish(Event("note", "delete", ("b",)))
    await _settle()
    assert calls == []
    await stream.aclose()
    await hub.close()
