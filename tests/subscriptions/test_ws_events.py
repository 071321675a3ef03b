"""Subscriptions over graphql-transport-ws against a real server, listener and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import orjson
import pytest
from tests.subscriptions.support import (
    TENANT_A,
    TENANT_B,
    eventually,
    initialised,
    receive,
    send,
    subscribe,
    write_note,
    ws_client,
)

CHANGED = "subscription($w: NoteWhereInput) { noteChanged(where: $w) { id title likes } }"


def hub(app: Any) -> Any:
    return app.state.fraiseql_schema.events


async def test_an_event_reaches_the_subscriber_as_the_row_reads_now(
    port: int, notes_app: Any, writer: asyncpg.Connection
) -> None:
    async with ws_client(port) as websocket:
        await initialised(websocket, {"tenantId": TENANT_A})
        await subscribe(websocket, "1", CHANGED)
        await eventually(lambda: hub(notes_app).subscriptions >= 1)
        note_id = await write_note(writer, TENANT_A, title="first")
        message = await receive(websocket)
        assert message == {
            "id": "1",
            "type": "next",
            "payload": {"data": {"noteChanged": {"id": note_id, "title": "first", "likes": 0}}},
        }
        await write_note(writer, TENANT_A, title="again", likes=3, note_id=note_id)
        again = await receive(websocket)
        assert again["payload"]["data"]["noteChanged"]["likes"] == 3
        await send(websocket, {"id": "1", "type": "complete"})
        await eventually(lambda: hub(notes_app).subscriptions == 0)
        await write_note(writer, TENANT_A, title="after complete")
        await send(websocket, {"type": "ping"})
        assert await receive(websocket) == {"type": "pong"}  # and no next for the old id


async def test_another_tenant_receives_nothing_of_a_row_it_cannot_query(
    port: int, notes_app: Any, writer: asyncpg.Connection
) -> None:
    async with ws_client(port) as a, ws_client(port) as b, ws_client(port) as nobody:
        await initialised(a, {"tenantId": TENANT_A})
        await initialised(b, {"tenantId": TENANT_B})
        await initialised(nobody)
        for websocket in (a, b, nobody):
            await subscribe(websocket, "s", CHANGED)
        await eventually(lambda: hub(notes_app).subscriptions >= 3)
        of_a = await write_note(writer, TENANT_A, title="secret of A")
        of_b = await write_note(writer, TENANT_B, title="of B")
        assert (await receive(a))["payload"]["data"]["noteChanged"]["id"] == of_a
        # B's first frame is its own row: the row of A was never sent to it.
        assert (await receive(b))["payload"]["data"]["noteChanged"]["id"] == of_b
        await send(nobody, {"type": "ping"})
        assert await receive(nobody) == {"type": "pong"}  # no claims: no rows at all
        assert "secret" not in str(await _drain(b))


async def _drain(websocket: Any) -> list[Any]:
    frames = []
    try:
        while True:
            frames.append(await asyncio.wait_for(websocket.recv(), 0.3))
    except TimeoutError:
        return frames


async def test_subscribers_asking_the_same_share_one_read_per_event(
    port: int, notes_app: Any, writer: asyncpg.Connection
) -> None:
    async with ws_client(port) as first, ws_client(port) as second:
        await initialised(first, {"tenantId": TENANT_A})
        await initialised(second, {"tenantId": TENANT_A})
        for websocket in (first, second):
            for operation_id in ("x", "y"):
                await subscribe(websocket, operation_id, CHANGED)
        await eventually(lambda: hub(notes_app).subscriptions >= 4)
        assert hub(notes_app).groups == 1
        reads = hub(notes_app).reads
        note_id = await write_note(writer, TENANT_A)
        for websocket in (first, second):
            ids = sorted([(await receive(websocket))["id"] for _ in range(2)])
            assert ids == ["x", "y"]
        assert hub(notes_app).reads == reads + 1
        assert note_id


async def test_where_and_the_operation_filter_events(
    port: int, notes_app: Any, writer: asyncpg.Connection
) -> None:
    added = 'subscription { noteAdded(where: {topic: {eq: "news"}}) { title } }'
    async with ws_client(port) as websocket:
        await initialised(websocket, {"tenantId": TENANT_A})
        await subscribe(websocket, "n", added)
        await eventually(lambda: hub(notes_app).subscriptions >= 1)
        await write_note(writer, TENANT_A, title="gossip", topic="chat")
        news = await write_note(writer, TENANT_A, title="news 1", topic="news")
        first = await receive(websocket)
        # (Read after the event, the row is as it is then: had the edit below come first, the
        # insert's frame would carry the edited title. Hence waiting for it here.)
        assert first["payload"]["data"]["noteAdded"]["title"] == "news 1"
        await write_note(writer, TENANT_A, title="news 1 edited", topic="news", note_id=news)
        await write_note(writer, TENANT_A, title="news 2", topic="news")
        second = await receive(websocket)
        assert second["payload"]["data"]["noteAdded"]["title"] == "news 2"  # no chat, no update


async def test_an_event_for_several_ids_is_one_read_of_all(
    port: int, notes_app: Any, writer: asyncpg.Connection
) -> None:
    async with ws_client(port) as websocket:
        await initialised(websocket, {"tenantId": TENANT_B})
        await subscribe(websocket, "m", CHANGED)
        await eventually(lambda: hub(notes_app).subscriptions >= 1)
        ids = [await write_note(writer, TENANT_B, notify=False) for _ in range(3)]
        await writer.execute("SELECT fraiseql_notify('note', 'update', $1::uuid[])", ids)
        got = {(await receive(websocket))["payload"]["data"]["noteChanged"]["id"] for _ in ids}
        assert got == set(ids)


async def test_a_rolled_back_write_notifies_nobody(
    port: int, notes_app: Any, writer: asyncpg.Connection
) -> None:
    async with ws_client(port) as websocket:
        await initialised(websocket, {"tenantId": TENANT_A})
        await subscribe(websocket, "r", CHANGED)
        await eventually(lambda: hub(notes_app).subscriptions >= 1)
        transaction = writer.transaction()
        await transaction.start()
        await write_note(writer, TENANT_A, title="never")
        await transaction.rollback()
        kept = await write_note(writer, TENANT_A, title="kept")
        message = await receive(websocket)
        assert message["payload"]["data"]["noteChanged"]["id"] == kept


async def test_a_custom_subscription_streams_its_values_then_completes(port: int) -> None:
    async with ws_client(port) as websocket:
        await initialised(websocket, {"tenantId": TENANT_A})
        await subscribe(websocket, "c", "subscription { countdown(start: 3) }")
        values = [(await receive(websocket))["payload"]["data"]["countdown"] for _ in range(3)]
        assert values == [3, 2, 1]
        assert await receive(websocket) == {"id": "c", "type": "complete"}
        await subscribe(websocket, "t", "subscription { tenantEcho }")
        echo = await receive(websocket)
        assert echo["payload"] == {"data": {"tenantEcho": TENANT_A}}


async def test_a_failing_custom_subscription_ends_with_a_masked_error(port: int) -> None:
    async with ws_client(port) as websocket:
        await initialised(websocket)
        await subscribe(websocket, "b", "subscription { broken }")
        assert (await receive(websocket))["payload"] == {"data": {"broken": 1}}
        failed = await receive(websocket)
        text = orjson.dumps(failed).decode()
        assert failed["type"] == "next" and "hunter2" not in text
        assert failed["payload"]["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert await receive(websocket) == {"id": "b", "type": "complete"}


async def test_queries_run_over_the_socket_too(port: int, writer: asyncpg.Connection) -> None:
    note_id = await write_note(writer, TENANT_A, title="by query", notify=False)
    async with ws_client(port) as websocket:
        await initialised(websocket, {"tenantId": TENANT_A})
        await subscribe(
            websocket, "q", "query($id: UUID) { note(id: $id) { title } }", {"id": note_id}
        )
        assert await receive(websocket) == {
            "id": "q",
            "type": "next",
            "payload": {"data": {"note": {"title": "by query"}}},
        }
        assert await receive(websocket) == {"id": "q", "type": "complete"}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("subscription { noteChanged { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ('subscription { noteChanged(where: {likes: {gt: "x"}}) { id } }', None),
        ("subscription { countdown(start: 1) countdown2: countdown(start: 2) }", None),
        ("subscription {", None),
        ("subscription { adminNotes { id } }", "FORBIDDEN"),
        ("subscription($n: Int!) { countdown(start: $n) }", "BAD_USER_INPUT"),
    ],
)
async def test_an_operation_that_cannot_start_gets_an_error_message(
    port: int, query: str, code: str | None
) -> None:
    async with ws_client(port) as websocket:
        await initialised(websocket)
        await subscribe(websocket, "e", query)
        message = await receive(websocket)
        assert message["type"] == "error" and message["id"] == "e"
        assert message["payload"] and all("message" in error for error in message["payload"])
        if code is not None:
            assert message["payload"][0]["extensions"]["code"] == code
        await send(websocket, {"type": "ping"})
        assert await receive(websocket) == {"type": "pong"}  # the connection lives on
