"""The rules of graphql-transport-ws: each bad message gets the protocol's close code."""

from __future__ import annotations

import asyncio
import base64
import os
from typing import Any

import orjson
import pytest
from tests.subscriptions.support import (
    TENANT_A,
    close_code,
    eventually,
    initialised,
    receive,
    send,
    subscribe,
    ws_client,
)

FOREVER = "subscription { noteChanged { id } }"


def hub(app: Any) -> Any:
    return app.state.fraiseql_schema.events


async def test_without_the_subprotocol_the_socket_is_closed_with_4406(port: int) -> None:
    async with ws_client(port, subprotocols=["graphql-ws"]) as websocket:
        assert await close_code(websocket) == (4406, "Subprotocol not acceptable")


async def test_subscribe_before_init_closes_with_4401(port: int) -> None:
    async with ws_client(port) as websocket:
        await subscribe(websocket, "1", FOREVER)
        assert await close_code(websocket) == (4401, "Unauthorized")


async def test_no_init_in_time_closes_with_4408(port: int) -> None:
    async with ws_client(port) as websocket:
        await send(websocket, {"type": "ping"})  # pings are answered before init...
        assert await receive(websocket) == {"type": "pong"}
        code, _ = await close_code(websocket, within=3)  # ...but do not count as one
        assert code == 4408


async def test_a_second_init_closes_with_4429(port: int) -> None:
    async with ws_client(port) as websocket:
        await initialised(websocket)
        await send(websocket, {"type": "connection_init"})
        assert (await close_code(websocket))[0] == 4429


async def test_a_duplicate_operation_id_closes_with_4409(port: int, notes_app: Any) -> None:
    async with ws_client(port) as websocket:
        await initialised(websocket, {"tenantId": TENANT_A})
        await subscribe(websocket, "same", FOREVER)
        await subscribe(websocket, "same", FOREVER)
        code, reason = await close_code(websocket)
        assert code == 4409 and "same" in reason
    await eventually(lambda: hub(notes_app).subscriptions == 0)


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        '{"no": "type"}',
        '{"type": "start", "id": "1"}',  # the legacy protocol's message
        '{"type": 42}',
        '{"type": "connection_init", "payload": "text"}',
        '{"type": "subscribe", "payload": {"query": "{ a }"}}',
        b"\xff\xfe binary garbage",
    ],
)
async def test_a_malformed_message_closes_with_4400(port: int, frame: str | bytes) -> None:
    async with ws_client(port) as websocket:
        if "subscribe" in str(frame):  # a subscribe without id: wrong only once initialised
            await initialised(websocket)
        await websocket.send(frame)
        assert (await close_code(websocket))[0] == 4400


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "text",
        {"query": 5},
        {"query": "{ a }", "variables": [1]},
        {"query": "{ a }", "operationName": 1},
        {"query": "{ a }", "extensions": "x"},
    ],
)
async def test_a_malformed_subscribe_payload_closes_with_4400(port: int, payload: Any) -> None:
    async with ws_client(port) as websocket:
        await initialised(websocket)
        await send(websocket, {"id": "1", "type": "subscribe", "payload": payload})
        assert (await close_code(websocket))[0] == 4400


async def test_a_huge_message_closes_with_1009(port: int) -> None:
    async with ws_client(port) as websocket:
        await initialised(websocket)
        query = "subscription { countdown(start: 1) }" + " " * (1 << 20)
        await subscribe(websocket, "1", query)
        assert (await close_code(websocket))[0] == 1009


async def test_a_refusing_context_getter_closes_with_4403(port: int) -> None:
    async with ws_client(port) as websocket:
        await send(websocket, {"type": "connection_init", "payload": {"refuse": True}})
        assert (await close_code(websocket))[0] == 4403


async def test_operations_over_the_cap_get_an_error_and_the_others_keep_running(
    port: int, notes_app: Any
) -> None:
    async with ws_client(port) as websocket:
        await initialised(websocket, {"tenantId": TENANT_A})
        for number in range(5):  # the cap of the test app
            await subscribe(websocket, str(number), FOREVER)
        await subscribe(websocket, "over", FOREVER)
        refused = await receive(websocket)
        assert refused["id"] == "over" and refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
        await eventually(lambda: hub(notes_app).subscriptions >= 5)
        await send(websocket, {"id": "0", "type": "complete"})
        await eventually(lambda: hub(notes_app).subscriptions == 4)
        await subscribe(websocket, "now fits", FOREVER)
        await eventually(lambda: hub(notes_app).subscriptions == 5)
    await eventually(lambda: hub(notes_app).subscriptions == 0)


async def test_ping_gets_pong_with_its_payload_and_unknown_completes_are_ignored(
    port: int,
) -> None:
    async with ws_client(port) as websocket:
        await initialised(websocket)
        await send(websocket, {"id": "never started", "type": "complete"})
        await send(websocket, {"type": "ping", "payload": {"at": 1}})
        assert await receive(websocket) == {"type": "pong", "payload": {"at": 1}}
        await send(websocket, {"type": "pong"})
        await send(websocket, {"type": "ping"})
        assert await receive(websocket) == {"type": "pong"}


def _server_tasks(app: Any) -> int:
    """How many tasks the server's event loop holds (read from the test's thread)."""
    loop = app.state.fraiseql_schema.listener._task.get_loop()
    return len(asyncio.all_tasks(loop))


async def test_closing_the_socket_ends_its_subscriptions(port: int, notes_app: Any) -> None:
    handler_connections = _ws_handler(notes_app)
    await eventually(lambda: hub(notes_app).subscriptions == 0)
    baseline = _server_tasks(notes_app)
    async with ws_client(port) as websocket:
        await initialised(websocket, {"tenantId": TENANT_A})
        for number in range(3):
            await subscribe(websocket, str(number), FOREVER)
        await subscribe(websocket, "slow", "subscription { countdown(start: 1000) }")
        await eventually(lambda: hub(notes_app).subscriptions >= 3)
        await receive(websocket)
        assert _server_tasks(notes_app) >= baseline + 5  # 4 operations and a group's worker
    await eventually(lambda: hub(notes_app).subscriptions == 0)
    await eventually(lambda: hub(notes_app).groups == 0)
    await eventually(lambda: handler_connections.connections == 0)
    await eventually(lambda: _server_tasks(notes_app) <= baseline)  # no task left behind


def _ws_handler(app: Any) -> Any:
    for route in app.router.routes:
        if getattr(route, "name", None) == "graphql-ws":
            return route.app
    raise AssertionError("no WebSocket route")


async def test_a_subscription_over_plain_http_post_is_a_clear_error(port: int) -> None:
    import httpx

    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": FOREVER},
            headers={"accept": "application/graphql-response+json"},
        )
    assert response.status_code == 400
    error = orjson.loads(response.content)["errors"][0]
    assert error["extensions"]["code"] == "OPERATION_NOT_SUPPORTED"
    assert "WebSocket" in error["message"] and "text/event-stream" in error["message"]


async def test_many_idle_connections_are_held_and_released(port: int, notes_app: Any) -> None:
    handler = _ws_handler(notes_app)
    sockets = []
    try:
        for _ in range(300):
            context = ws_client(port)
            websocket = await context.__aenter__()
            sockets.append((context, websocket))
            # Each one initialises at once: the test app's init timeout is one second, less
            # than opening 300 sockets may take on a loaded machine.
            await send(websocket, {"type": "connection_init", "payload": {}})
        for _, websocket in sockets:
            assert await receive(websocket) == {"type": "connection_ack"}
        assert handler.connections >= 300
    finally:
        for context, _ in sockets:
            await context.__aexit__(None, None, None)
    await eventually(lambda: handler.connections == 0, within=10)


async def test_a_subscriber_that_stops_reading_is_closed_with_1013(
    notes_dsn: str, writer: Any
) -> None:
    """Its socket's buffers fill, then its queue (2 batches here): the server gives up on it."""
    from tests.subscriptions.support import build_app, serving, write_note

    app = build_app(notes_dsn, subscription_queue_size=2)
    with serving(app) as served:
        events = app.state.fraiseql_schema.events
        async with ws_client(served, max_size=None, compression=None) as websocket:
            await initialised(websocket, {"tenantId": TENANT_A})
            await subscribe(websocket, "1", "subscription { noteChanged { title } }")
            await eventually(lambda: events.subscriptions == 1)
            websocket.transport.pause_reading()  # the client no longer takes anything
            big = base64.b64encode(os.urandom(150_000)).decode()  # not compressible
            for _ in range(200):
                await write_note(writer, TENANT_A, title=big)
                if events.overflows:
                    break
            await eventually(lambda: events.overflows == 1, within=10)
            websocket.transport.resume_reading()
            code, reason = await close_code(websocket, within=10)
        assert code == 1013 and "slow" in reason.lower()
        await eventually(lambda: events.subscriptions == 0)
