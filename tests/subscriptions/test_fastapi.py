"""The FastAPI router serves subscriptions too: WebSocket at the GraphQL path, and SSE."""

from __future__ import annotations

import httpx
import pytest
from tests.subscriptions.support import (
    APP_ROLE,
    SUBSCRIPTIONS,
    Note,
    claims,
    context,
    initialised,
    note,
    receive,
    serving,
    subscribe,
    ws_client,
)

import fraiseql
from fraiseql.fastapi import graphql_router, lifespan

fastapi = pytest.importorskip("fastapi")


async def test_a_router_serves_subscriptions_over_websocket_and_sse(notes_dsn: str) -> None:
    schema = fraiseql.Schema(
        types=[Note],
        queries=[note],
        subscriptions=SUBSCRIPTIONS,
        database_url=notes_dsn,
        session=fraiseql.SessionSettings(claims=claims, role=APP_ROLE),
    )
    app = fastapi.FastAPI(lifespan=lifespan(schema))
    app.include_router(graphql_router(schema, context_getter=context))
    app.state.fraiseql_schema = schema
    with serving(app) as port:
        async with ws_client(port) as websocket:
            await initialised(websocket)
            await subscribe(websocket, "1", "subscription { countdown(start: 2) }")
            assert (await receive(websocket))["payload"] == {"data": {"countdown": 2}}
            assert (await receive(websocket))["payload"] == {"data": {"countdown": 1}}
            assert await receive(websocket) == {"id": "1", "type": "complete"}
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.post(
                f"http://127.0.0.1:{port}/graphql",
                json={"query": "subscription { countdown(start: 1) }"},
                headers={"accept": "text/event-stream"},
            )
        assert response.text == (
            'event: next\ndata: {"data":{"countdown":1}}\n\nevent: complete\ndata:\n\n'
        )
