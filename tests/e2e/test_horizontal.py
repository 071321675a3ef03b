"""Several stateless app processes on one database behave as one API.

Two uvicorn processes serve the chat example (``tests/e2e/horizontal_app.py``), as a load
balancer's two backends would. Nothing is shared between them but PostgreSQL:

- a subscriber on either process hears a message posted through the other (the events travel by
  NOTIFY, not through the process that wrote);
- each process parses and caches documents for itself, and both answer the same document the
  same bytes;
- the error store is one table: the same failure in both processes is one entry whose
  occurrences add up.

The response cache across processes is tested in ``tests/cache/test_replicas.py``, a rolling
deploy with old and new processes serving in ``tests/migrations/test_zero_downtime.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import websockets
from examples.chat.app import TENANT_HEADER, USER_HEADER
from examples.chat.database import seed_uuid
from tests.conftest import temporary_database
from tests.examples.chat.test_chat_database import _prepare
from tests.processes import AppProcess

ACME = str(seed_uuid("organisation", "acme"))
ALICE = str(seed_uuid("user", "acme", "alice"))
BOB = str(seed_uuid("user", "acme", "bob"))
GENERAL = str(seed_uuid("room", "acme", "general"))
HEADERS = {TENANT_HEADER: ACME, USER_HEADER: ALICE}

POST = """
mutation($body: String!) {
  postMessage(input: {room: "general", body: $body}) { status id }
}
"""
MESSAGE_ADDED = """
subscription($room: UUID!) { messageAdded(where: {roomId: {eq: $room}}) { id body } }
"""
ROOMS = "{ rooms(orderBy: {identifier: ASC}) { identifier name } }"


@pytest.fixture(scope="module")
async def processes(
    server_dsn: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[list[AppProcess]]:
    """Two processes of the app on one seeded chat database."""
    async with temporary_database(server_dsn) as dsn:
        await _prepare(dsn)
        logs = tmp_path_factory.mktemp("horizontal")
        env = {"FRAISEQL_DATABASE_URL": dsn}
        started = [AppProcess(name, "tests.e2e.horizontal_app:create", env, logs) for name in "AB"]
        try:
            await asyncio.gather(*(process.ready() for process in started))
            yield started
        finally:
            await asyncio.gather(*(process.close() for process in started))


async def _post(process: AppProcess, query: str, **variables: Any) -> dict[str, Any]:
    response = await process.client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=HEADERS
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _subscriber(process: AppProcess, user: str) -> Any:
    connection = await websockets.connect(
        f"ws://127.0.0.1:{process.port}/graphql", subprotocols=["graphql-transport-ws"]
    )
    init = {"type": "connection_init", "payload": {"tenantId": ACME, "userId": user}}
    await connection.send(json.dumps(init))
    assert json.loads(await connection.recv()) == {"type": "connection_ack"}
    payload = {"query": MESSAGE_ADDED, "variables": {"room": GENERAL}}
    await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return connection


async def test_the_processes_are_distinct(processes: list[AppProcess]) -> None:
    pids = {(await _post(process, "{ worker }"))["data"]["worker"] for process in processes}
    assert len(pids) == 2


async def test_a_message_posted_through_one_reaches_subscribers_of_both(
    processes: list[AppProcess],
) -> None:
    a, b = processes
    on_a, on_b = await _subscriber(a, BOB), await _subscriber(b, BOB)
    try:
        await asyncio.sleep(0.3)  # let both subscriptions start
        for writer, body in ((b, "written through B"), (a, "written through A")):
            posted = await _post(writer, POST, body=body)
            assert posted["data"]["postMessage"]["status"] == "SUCCESS", posted
            for connection in (on_a, on_b):
                async with asyncio.timeout(5):
                    event = json.loads(await connection.recv())
                assert event["type"] == "next", event
                assert event["payload"]["data"]["messageAdded"]["body"] == body
    finally:
        await on_a.close()
        await on_b.close()


async def test_each_process_caches_documents_and_answers_the_same_bytes(
    processes: list[AppProcess],
) -> None:
    bodies = set()
    for _ in range(3):  # the first request of a process parses, the next ones hit its cache
        for process in processes:
            response = await process.client.post("/graphql", json={"query": ROOMS}, headers=HEADERS)
            bodies.add(response.content)
    assert len(bodies) == 1
    assert b'"identifier":"general"' in bodies.pop()


async def test_one_failure_in_both_processes_is_one_error_entry(
    processes: list[AppProcess],
) -> None:
    a, b = processes
    for process, times in ((a, 3), (b, 2)):
        for _ in range(times):
            body = await _post(process, "{ broken }")
            assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
            assert "deliberate" not in json.dumps(body)  # masked for the client
    connection = await asyncpg.connect(a.env["FRAISEQL_DATABASE_URL"])
    try:
        deadline = time.monotonic() + 10
        rows: list[asyncpg.Record] = []
        while time.monotonic() < deadline:  # each process writes its errors in the background
            with contextlib.suppress(asyncpg.UndefinedTableError):  # created on the first write
                rows = await connection.fetch(
                    "SELECT occurrences FROM fraiseql_errors WHERE message LIKE '%deliberate%'"
                )
            if rows and rows[0]["occurrences"] >= 5:
                break
            await asyncio.sleep(0.1)
    finally:
        await connection.close()
    assert [row["occurrences"] for row in rows] == [5]
