"""GraphQL over Server-Sent Events (distinct connections mode) against the served app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import orjson
from tests.subscriptions.support import TENANT_A, TENANT_B, eventually, write_note

STREAM = {"accept": "text/event-stream"}


async def _events(response: httpx.Response) -> AsyncIterator[tuple[str, str]]:
    event, data = "", []
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
        elif line == "" and event:
            yield event, "\n".join(data)
            event, data = "", []


async def _all(port: int, **request: Any) -> list[tuple[str, Any]]:
    async with (
        httpx.AsyncClient(timeout=5) as client,
        client.stream(
            request.pop("method", "POST"), f"http://127.0.0.1:{port}/graphql", **request
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return [
            (event, orjson.loads(data) if data else None) async for event, data in _events(response)
        ]


async def test_a_subscription_streams_events_of_the_callers_tenant(
    port: int, notes_app: Any, writer: asyncpg.Connection
) -> None:
    hub = notes_app.state.fraiseql_schema.events
    query = {"query": "subscription { noteChanged { title } }"}
    async with (
        httpx.AsyncClient(timeout=5) as client,
        client.stream(
            "POST",
            f"http://127.0.0.1:{port}/graphql",
            json=query,
            headers={**STREAM, "x-tenant-id": TENANT_B},
        ) as response,
    ):
        assert response.headers["cache-control"] == "no-cache"
        events = _events(response)
        await eventually(lambda: hub.subscriptions >= 1)
        await write_note(writer, TENANT_A, title="not for B")
        await write_note(writer, TENANT_B, title="for B")
        event, data = await asyncio.wait_for(anext(events), 5)
        assert event == "next"
        assert orjson.loads(data) == {"data": {"noteChanged": {"title": "for B"}}}
    await eventually(lambda: hub.subscriptions == 0)  # closing the stream ended it


async def test_a_query_is_one_next_then_complete(port: int) -> None:
    events = await _all(port, json={"query": "{ __typename }"}, headers=STREAM)
    assert events == [("next", {"data": {"__typename": "Query"}}), ("complete", None)]


async def test_a_custom_subscription_streams_then_completes_over_get(port: int) -> None:
    events = await _all(
        port,
        method="GET",
        params={"query": "subscription { countdown(start: 2) }"},
        headers=STREAM,
    )
    assert events == [
        ("next", {"data": {"countdown": 2}}),
        ("next", {"data": {"countdown": 1}}),
        ("complete", None),
    ]


async def test_errors_before_execution_come_as_a_next_event(port: int) -> None:
    events = await _all(port, json={"query": "subscription { nope }"}, headers=STREAM)
    assert [event for event, _ in events] == ["next", "complete"]
    assert events[0][1]["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_bad_bodies_are_refused_before_any_stream(port: int) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.post(
            f"http://127.0.0.1:{port}/graphql",
            content=b"{not json",
            headers={**STREAM, "content-type": "application/json"},
        )
    assert response.status_code == 400
    assert orjson.loads(response.content)["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
