"""The LISTEN connection: it survives losing its backend, and drops what is not an event."""

from __future__ import annotations

from typing import Any

import asyncpg
from tests.subscriptions.support import (
    TENANT_A,
    eventually,
    initialised,
    receive,
    subscribe,
    write_note,
    ws_client,
)

CHANGED = "subscription { noteChanged { title } }"


def schema_of(app: Any) -> Any:
    return app.state.fraiseql_schema


async def test_a_lost_listener_reconnects_and_subscribers_hear_they_missed_events(
    port: int, notes_app: Any, writer: asyncpg.Connection
) -> None:
    listener = schema_of(notes_app).listener
    async with ws_client(port) as websocket:
        await initialised(websocket, {"tenantId": TENANT_A})
        await subscribe(websocket, "1", CHANGED)
        await eventually(lambda: schema_of(notes_app).events.subscriptions >= 1)
        before = listener.reconnections
        pid = listener.backend_pid
        assert await writer.fetchval("SELECT pg_terminate_backend($1)", pid)
        missed = await receive(websocket, within=10)
        assert missed == {
            "id": "1",
            "type": "next",
            "payload": {"extensions": {"fraiseql": {"missedEvents": True}}},
        }
        assert listener.reconnections == before + 1
        assert listener.backend_pid not in (None, pid)
        await write_note(writer, TENANT_A, title="after the cut")
        assert (await receive(websocket))["payload"]["data"]["noteChanged"]["title"] == (
            "after the cut"
        )


async def test_notifications_that_are_not_events_are_dropped(
    port: int, notes_app: Any, writer: asyncpg.Connection
) -> None:
    listener = schema_of(notes_app).listener
    async with ws_client(port) as websocket:
        await initialised(websocket, {"tenantId": TENANT_A})
        await subscribe(websocket, "1", CHANGED)
        await eventually(lambda: schema_of(notes_app).events.subscriptions >= 1)
        malformed = listener.malformed
        for payload in (
            "not json",
            '{"entity": "note", "op": "insert", "ids": ["not-a-uuid"]}',
            '{"entity": "note", "op": "truncate", "ids": []}',
            '{"entity": "note; DROP TABLE tv_note", "op": "insert", "ids": []}',
            '{"entity": "note", "op": "insert", "ids": "x"}',
        ):
            await writer.execute("SELECT pg_notify('fraiseql_events', $1)", payload)
        await eventually(lambda: listener.malformed == malformed + 5)
        await write_note(writer, TENANT_A, title="still listening")
        assert (await receive(websocket))["payload"]["data"]["noteChanged"]["title"] == (
            "still listening"
        )
