"""The chat example's app: its schema, tenant claims over HTTP, and a subscription over WS.

The WebSocket test serves the app with uvicorn on a free port (the ``served`` fixture of
``conftest.py``) and speaks graphql-transport-ws with the ``websockets`` client, the way the
page does.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from examples.chat.app import TENANT_HEADER, USER_HEADER
from examples.chat.database import seed_uuid
from examples.chat.schema import printable_schema

ACME = str(seed_uuid("organisation", "acme"))
GLOBEX = str(seed_uuid("organisation", "globex"))
ALICE = str(seed_uuid("user", "acme", "alice"))
BOB = str(seed_uuid("user", "acme", "bob"))
DAVE = str(seed_uuid("user", "globex", "dave"))
GENERAL = str(seed_uuid("room", "acme", "general"))

POST = """
mutation($room: String!, $body: String!) {
  postMessage(input: {room: $room, body: $body}) { status id errors { field code } }
}
"""
MESSAGE_ADDED = """
subscription($room: UUID!) {
  messageAdded(where: {roomId: {eq: $room}}) { id number body author { identifier } }
}
"""


async def _graphql(
    host: str, query: str, tenant: str | None, user: str | None, **variables: Any
) -> dict[str, Any]:
    headers = {}
    if tenant is not None:
        headers[TENANT_HEADER] = tenant
    if user is not None:
        headers[USER_HEADER] = user
    async with httpx.AsyncClient(base_url=f"http://{host}") as client:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def test_the_schema_has_the_documented_fields() -> None:
    sdl = printable_schema().print_schema()
    for field in (
        "messageAdded(where: MessageWhereInput = null): Message!",
        "typingChanged(where: TypingWhereInput = null): Typing!",
        "roomChanged(where: RoomWhereInput = null): Room!",
        "postMessage(input: PostMessageInput!): PostMessagePayload!",
        "setTyping(input: SetTypingInput!): SetTypingPayload!",
        "joinRoom(input: JoinRoomInput!): JoinRoomPayload!",
        "createRoom(input: CreateRoomInput!): CreateRoomPayload!",
        "room(id: UUID = null, identifier: String = null): Room",
    ):
        assert field in sdl, field
    assert "roomId: UUIDFilter" in sdl


async def test_the_page_and_the_directory_are_served(served: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{served}") as client:
        page = await client.get("/")
        directory = await client.get("/organisations.json")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'id="messages"' in page.text and "graphql-transport-ws" in page.text
    assert [o["identifier"] for o in directory.json()] == ["acme", "globex"]


async def test_http_mutations_run_as_the_user_of_the_tenant(served: str) -> None:
    rooms = "{ rooms { identifier } }"
    acme = await _graphql(served, rooms, ACME, None)
    globex = await _graphql(served, rooms, GLOBEX, None)
    assert {r["identifier"] for r in acme["data"]["rooms"]} == {"general", "random"}
    assert {r["identifier"] for r in globex["data"]["rooms"]} == {"general", "ops"}
    assert await _graphql(served, rooms, None, None) == {"data": {"rooms": []}}
    refused = await _graphql(served, POST, ACME, ALICE, room="ops", body="hi")
    assert refused["data"]["postMessage"]["status"] == "NOT_FOUND"
    blank = await _graphql(served, POST, ACME, ALICE, room="general", body="  ")
    assert blank["data"]["postMessage"]["errors"] == [{"field": "body", "code": "required"}]
    nobody = await _graphql(served, POST, ACME, DAVE, room="general", body="hi")
    assert nobody["data"]["postMessage"]["status"] == "FORBIDDEN"
    malformed = await _graphql(served, POST, ACME, "alice", room="general", body="hi")
    assert malformed["errors"][0]["extensions"]["code"] == "INVALID_CLAIMS"


async def test_a_subscriber_receives_its_tenants_new_messages_only(served: str) -> None:
    url = f"ws://{served}/graphql"

    async def subscriber(tenant: str, user: str) -> Any:
        connection = await websockets.connect(url, subprotocols=["graphql-transport-ws"])
        init = {"type": "connection_init", "payload": {"tenantId": tenant, "userId": user}}
        await connection.send(json.dumps(init))
        assert json.loads(await connection.recv()) == {"type": "connection_ack"}
        payload = {"query": MESSAGE_ADDED, "variables": {"room": GENERAL}}
        await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        return connection

    bob = await subscriber(ACME, BOB)
    dave = await subscriber(GLOBEX, DAVE)  # same room id in the filter: RLS still hides it
    try:
        await asyncio.sleep(0.3)  # let the subscriptions start
        posted = await _graphql(served, POST, ACME, ALICE, room="general", body="live <b>1</b>")
        assert posted["data"]["postMessage"]["status"] == "SUCCESS"
        async with asyncio.timeout(5):
            event = json.loads(await bob.recv())
        assert event["type"] == "next" and event["id"] == "1"
        message = event["payload"]["data"]["messageAdded"]
        assert message["id"] == posted["data"]["postMessage"]["id"]
        assert (message["body"], message["author"]) == ("live <b>1</b>", {"identifier": "alice"})
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await dave.recv()
    finally:
        await bob.close()
        await dave.close()
