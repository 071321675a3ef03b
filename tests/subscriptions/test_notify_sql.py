"""``fraiseql_notify``: ids only, split to fit PostgreSQL's payload limit, bad input refused."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import orjson
import pytest

from fraiseql.subscriptions.events import EVENTS_CHANNEL, MAX_PAYLOAD_BYTES, parse_event


async def _heard(writer: asyncpg.Connection, dsn: str, statement: str, *args: object) -> list[str]:
    listener = await asyncpg.connect(dsn)
    heard: list[str] = []
    try:
        await listener.add_listener(EVENTS_CHANNEL, lambda *a: heard.append(a[3]))
        await writer.execute(statement, *args)
        await writer.execute("SELECT 1")
        await asyncio.sleep(0.2)
        return heard
    finally:
        await listener.close()


async def test_many_ids_are_split_into_payloads_that_fit(
    writer: asyncpg.Connection, notes_dsn: str
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(400)]
    heard = await _heard(writer, notes_dsn, "SELECT fraiseql_notify('note', 'update', $1)", ids)
    assert len(heard) == 3
    assert all(len(payload.encode()) < MAX_PAYLOAD_BYTES for payload in heard)
    events = [parse_event(payload) for payload in heard]
    assert [event.ids for event in events if event] and sum(
        len(event.ids) for event in events if event
    ) == 400
    assert [i for event in events if event for i in event.ids] == ids
    assert orjson.loads(heard[0]).keys() == {"entity", "op", "ids", "at"}


async def test_no_ids_send_nothing(writer: asyncpg.Connection, notes_dsn: str) -> None:
    assert await _heard(writer, notes_dsn, "SELECT fraiseql_notify('note', 'insert', '{}')") == []


@pytest.mark.parametrize(
    ("entity", "op"),
    [
        ("note", "truncate"),
        ("note", None),
        ("no te", "insert"),
        ("x" * 64, "insert"),
        (None, "insert"),
    ],
)
async def test_a_bad_entity_or_op_is_refused(
    writer: asyncpg.Connection, entity: str | None, op: str | None
) -> None:
    with pytest.raises(asyncpg.InvalidParameterValueError):
        await writer.execute("SELECT fraiseql_notify($1, $2, ARRAY[gen_random_uuid()])", entity, op)


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "null",
        "[]",
        '{"entity": "note", "op": "insert"}',
        '{"entity": "note", "op": "insert", "ids": [1]}',
        '{"entity": 1, "op": "insert", "ids": []}',
        '{"entity": "note", "op": "insert", "ids": []}' + " " * MAX_PAYLOAD_BYTES,
    ],
)
def test_what_is_not_an_event_parses_to_none(payload: str) -> None:
    assert parse_event(payload) is None


def test_an_event_parses_with_normalised_ids() -> None:
    upper = str(uuid.uuid4()).upper()
    event = parse_event(orjson.dumps({"entity": "note", "op": "delete", "ids": [upper]}).decode())
    assert event is not None and event.ids == (upper.lower(),) and event.op == "delete"
