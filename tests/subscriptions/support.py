"""A small tenant-scoped read model with subscriptions, served by uvicorn, and a WS client.

``tv_note`` holds one document per note with its tenant; a policy shows a role only the notes
of the tenant in ``app.tenant_id``, and requests run as ``fraiseql_sub_app`` (no BYPASSRLS).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import orjson
import uvicorn
from starlette.requests import HTTPConnection
from websockets.asyncio.client import ClientConnection, connect

import fraiseql
from fraiseql import Where
from fraiseql.db.commands import CONTRACT_SQL
from fraiseql.types.scalars import UUID

APP_ROLE = "fraiseql_sub_app"

SQL = f"""
DO $$ BEGIN
    CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
CREATE TABLE tv_note (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, data jsonb NOT NULL);
ALTER TABLE tv_note ENABLE ROW LEVEL SECURITY;
ALTER TABLE tv_note FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON tv_note
    USING (tenant_id::text = current_setting('app.tenant_id', true));
GRANT USAGE ON SCHEMA public TO {APP_ROLE};
GRANT SELECT ON tv_note TO {APP_ROLE};
"""

TENANT_A = "aaaaaaaa-0000-4000-8000-000000000001"
TENANT_B = "bbbbbbbb-0000-4000-8000-000000000002"


@fraiseql.type(sql_source="tv_note")
class Note:
    """A note of a tenant."""

    id: UUID
    title: str
    topic: str
    likes: int


@fraiseql.query
async def note(info: Any, id: UUID | None = None, identifier: str | None = None) -> Note | None:
    """One note by id."""
    ...


@fraiseql.subscription
async def note_changed(info: Any, where: Where[Note] | None = None) -> Note:
    """The notes inserted or updated, as they are now."""
    ...


@fraiseql.subscription(on=("insert",))
async def note_added(info: Any, where: Where[Note] | None = None) -> Note:
    """The notes inserted."""
    ...


@fraiseql.subscription
async def countdown(info: Any, start: int) -> AsyncIterator[int]:
    """``start``, ``start - 1``... down to 1, a value every 10 ms."""
    for value in range(start, 0, -1):
        await asyncio.sleep(0.01)
        yield value


@fraiseql.subscription
async def tenant_echo(info: Any) -> AsyncIterator[str]:
    """The tenant the subscription runs for, once (the claims reach custom subscriptions)."""
    yield str(info.context.get("tenant_id"))


@fraiseql.subscription
async def broken(info: Any) -> AsyncIterator[int]:
    """One value, then an error with a secret in it."""
    yield 1
    raise RuntimeError("password=hunter2")


@fraiseql.subscription(requires=lambda context: context.get("admin") is True)
async def admin_notes(info: Any) -> Note:
    """Only for admins."""
    ...


SUBSCRIPTIONS = [note_changed, note_added, countdown, tenant_echo, broken, admin_notes]


async def context(connection: HTTPConnection) -> dict[str, Any]:
    """The tenant from the X-Tenant-Id header (HTTP) or the init payload (WebSocket)."""
    params = fraiseql.connection_params(connection)
    if params.get("refuse"):
        from starlette.exceptions import HTTPException

        raise HTTPException(403, "no")
    return {
        "tenant_id": connection.headers.get("x-tenant-id") or params.get("tenantId"),
        "admin": params.get("admin") is True,
    }


def claims(context: dict[str, Any]) -> dict[str, Any]:
    """The tenant claim the policy reads."""
    return {"app.tenant_id": context.get("tenant_id")}


def build_app(dsn: str, **options: Any) -> Any:
    """The notes API on ``dsn``."""
    return fraiseql.create_app(
        types=[Note],
        queries=[note],
        subscriptions=SUBSCRIPTIONS,
        database_url=dsn,
        context_getter=context,
        session=fraiseql.SessionSettings(claims=claims, role=APP_ROLE),
        **options,
    )


async def load(dsn: str) -> None:
    """Create the read model, its policy and FraiseQL's helpers in ``dsn``."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(CONTRACT_SQL)
        await connection.execute(SQL)
    finally:
        await connection.close()


async def write_note(
    connection: asyncpg.Connection,
    tenant: str,
    *,
    title: str = "hello",
    topic: str = "general",
    likes: int = 0,
    note_id: str | None = None,
    notify: bool = True,
) -> str:
    """Insert (or update) a note and tell subscriptions, as a mutation function would."""
    note_id = note_id or str(uuid.uuid4())
    document = {"id": note_id, "title": title, "topic": topic, "likes": likes}
    op = await connection.fetchval(
        "INSERT INTO tv_note VALUES ($1::uuid, $2::uuid, $3::jsonb) ON CONFLICT (id) DO UPDATE "
        "SET data = EXCLUDED.data RETURNING CASE WHEN xmax = 0 THEN 'insert' ELSE 'update' END",
        note_id,
        tenant,
        orjson.dumps(document).decode(),
    )
    if notify:
        await connection.execute("SELECT fraiseql_notify('note', $1, ARRAY[$2::uuid])", op, note_id)
    return note_id


@contextlib.contextmanager
def serving(app: Any) -> Iterator[int]:
    """``app`` under uvicorn (with its lifespan and WebSockets) on 127.0.0.1, in a thread."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started, "uvicorn did not start"
        schema = app.state.fraiseql_schema
        listener = schema.listener
        while listener is not None and listener.backend_pid is None:
            assert time.monotonic() < deadline, "the event listener did not connect"
            time.sleep(0.02)
        yield port
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


@contextlib.asynccontextmanager
async def ws_client(
    port: int,
    *,
    subprotocols: list[str] | None = None,
    max_size: int | None = 1 << 24,
    compression: str | None = "deflate",
) -> AsyncIterator[ClientConnection]:
    """A WebSocket to the GraphQL path, speaking graphql-transport-ws unless told otherwise."""
    protocols = ["graphql-transport-ws"] if subprotocols is None else subprotocols
    async with connect(
        f"ws://127.0.0.1:{port}/graphql",
        subprotocols=protocols,  # type: ignore[arg-type]
        max_size=max_size,
        compression=compression,
        open_timeout=5,
        close_timeout=2,
    ) as websocket:
        yield websocket


async def send(websocket: ClientConnection, message: dict[str, Any]) -> None:
    """Send one protocol message."""
    await websocket.send(orjson.dumps(message).decode())


async def receive(websocket: ClientConnection, within: float = 5.0) -> dict[str, Any]:
    """The next protocol message (fails after ``within`` seconds)."""
    text = await asyncio.wait_for(websocket.recv(), within)
    value = orjson.loads(text)
    assert isinstance(value, dict)
    return value


async def initialised(websocket: ClientConnection, payload: dict[str, Any] | None = None) -> None:
    """Send connection_init and check the acknowledgement."""
    await send(websocket, {"type": "connection_init", "payload": payload or {}})
    assert await receive(websocket) == {"type": "connection_ack"}


async def subscribe(
    websocket: ClientConnection,
    operation_id: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> None:
    """Start an operation."""
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    await send(websocket, {"id": operation_id, "type": "subscribe", "payload": payload})


async def close_code(websocket: ClientConnection, within: float = 5.0) -> tuple[int, str]:
    """Wait for the server to close the socket; its close code and reason."""
    with contextlib.suppress(Exception):
        while True:
            await asyncio.wait_for(websocket.recv(), within)
    assert websocket.close_code is not None, "the server did not close the socket"
    return websocket.close_code, websocket.close_reason or ""


async def eventually(predicate: Any, within: float = 5.0) -> None:
    """Wait until ``predicate()`` is true."""
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
