"""Verified tokens end to end: a served app, row-level security, HTTP, SSE and WebSocket.

Two tenants' notes live in one table whose policy shows the tenant in ``app.tenant_id``; the
token's ``org_id`` claim sets it, and its ``role`` claim picks the database role through an
allow-list (``member`` or ``admin``; only ``admin`` may read ``tv_secret``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import jwt
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.requests import HTTPConnection
from tests.conftest import temporary_database
from tests.subscriptions.support import (
    TENANT_A,
    TENANT_B,
    Note,
    close_code,
    initialised,
    load,
    note_added,
    receive,
    send,
    serving,
    subscribe,
    write_note,
)
from websockets.asyncio.client import ClientConnection, connect

import fraiseql
from fraiseql import Info, JWTAuth
from fraiseql.types.scalars import UUID

MEMBER = "fraiseql_auth_member"
ADMIN = "fraiseql_auth_admin"
ISSUER = "https://idp.test/"
AUDIENCE = "notes-api"
KEY = ec.generate_private_key(ec.SECP256R1())

SQL = f"""
DO $$ BEGIN
    CREATE ROLE {MEMBER} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN
    CREATE ROLE {ADMIN} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
GRANT USAGE ON SCHEMA public TO {MEMBER}, {ADMIN};
GRANT SELECT ON tv_note TO {MEMBER}, {ADMIN};
CREATE TABLE tv_secret (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, data jsonb NOT NULL);
ALTER TABLE tv_secret ENABLE ROW LEVEL SECURITY;
ALTER TABLE tv_secret FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON tv_secret
    USING (tenant_id::text = current_setting('app.tenant_id', true));
GRANT SELECT ON tv_secret TO {ADMIN};
INSERT INTO tv_secret VALUES
    (gen_random_uuid(), '{TENANT_A}', '{{"label": "secret of A"}}'),
    (gen_random_uuid(), '{TENANT_B}', '{{"label": "secret of B"}}');
"""


@fraiseql.type(sql_source="tv_secret")
class Secret:
    """What only admins may read."""

    id: UUID
    label: str


@fraiseql.query
async def notes(info: Any) -> list[Note]:
    """Every note the caller may see."""
    ...


@fraiseql.query
async def secrets(info: Any) -> list[Secret]:
    """Every secret the caller may see."""
    ...


@fraiseql.query
async def whoami(info: Info) -> str:
    """The database role, the tenant setting and what the context getter saw."""
    connection = await info.repository.session.connection()
    row = await connection.fetchval(
        "SELECT current_user || '/' || coalesce(current_setting('app.tenant_id', true), '')"
    )
    return f"{row}/{info.context['seen']}/{info.context['auth'].subject}"


def context(connection: HTTPConnection) -> dict[str, Any]:
    """The app's own context: it can read the verified caller."""
    caller = fraiseql.auth_info(connection)
    return {"seen": caller.subject if caller is not None else None}


def token(tenant: str | None, role: str | None = "member", *, ttl: int = 600, **extra: Any) -> str:
    now = int(time.time())
    claims = {"sub": f"user-{tenant}", "iss": ISSUER, "aud": AUDIENCE, "exp": now + ttl}
    if tenant is not None:
        claims["org_id"] = tenant
    if role is not None:
        claims["role"] = role
    claims.update(extra)
    return jwt.encode(claims, KEY, algorithm="ES256")


@pytest.fixture(scope="module")
async def dsn(server_dsn: str) -> AsyncIterator[str]:
    async with temporary_database(server_dsn) as database:
        await load(database)
        connection = await asyncpg.connect(database)
        try:
            await connection.execute(SQL)
            for tenant in (TENANT_A, TENANT_B):
                for title in ("one", "two"):
                    await write_note(connection, tenant, title=f"{title} of {tenant[0]}")
        finally:
            await connection.close()
        yield database


@pytest.fixture(scope="module")
def port(dsn: str) -> Iterator[int]:
    auth = JWTAuth(
        algorithms=["ES256"],
        public_key=KEY.public_key(),
        issuer=ISSUER,
        audience=AUDIENCE,
        leeway=0,
        claims={"app.tenant_id": "org_id", "app.user_id": "sub"},
        roles={"member": MEMBER, "admin": ADMIN},
    )
    app = fraiseql.create_app(
        types=[Note, Secret],
        queries=[notes, secrets, whoami],
        subscriptions=[note_added],
        database_url=dsn,
        context_getter=context,
        auth=auth,
        websocket_init_timeout=2.0,
    )
    with serving(app) as bound:
        yield bound


@pytest.fixture
async def client(port: int) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        yield http


async def post(
    http: httpx.AsyncClient, query: str, bearer: str | None, **headers: str
) -> httpx.Response:
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    return await http.post("/graphql", json={"query": query}, headers=headers)


def titles(body: dict[str, Any]) -> list[str]:
    return sorted(note["title"] for note in body["data"]["notes"])


# --- HTTP ----------------------------------------------------------------------------------


async def test_http_each_tenant_sees_its_own_rows(client: httpx.AsyncClient) -> None:
    a = await post(client, "{ notes { title } }", token(TENANT_A))
    b = await post(client, "{ notes { title } }", token(TENANT_B))
    assert a.status_code == b.status_code == 200
    assert titles(a.json()) == ["one of a", "two of a"]
    assert titles(b.json()) == ["one of b", "two of b"]
    who = await post(client, "{ whoami }", token(TENANT_A))
    assert who.json() == {
        "data": {"whoami": f"{MEMBER}/{TENANT_A}/user-{TENANT_A}/user-{TENANT_A}"}
    }


async def test_http_a_member_cannot_act_as_admin(client: httpx.AsyncClient) -> None:
    member = await post(client, "{ secrets { label } }", token(TENANT_A), **{"X-Role": "admin"})
    assert member.json()["data"] is None or member.json()["data"]["secrets"] is None
    assert member.json()["errors"]
    admin = await post(client, "{ secrets { label } }", token(TENANT_A, "admin"))
    assert admin.json() == {"data": {"secrets": [{"label": "secret of A"}]}}
    who = await post(client, "{ whoami }", token(TENANT_B, "admin"))
    assert who.json()["data"]["whoami"].startswith(f"{ADMIN}/{TENANT_B}/")
    for role in (ADMIN, "postgres", "superuser", ["root"]):
        refused = await post(client, "{ whoami }", token(TENANT_A, role))  # type: ignore[arg-type]
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]


async def test_http_refusals(client: httpx.AsyncClient) -> None:
    missing = await post(client, "{ notes { title } }", None)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in missing.json()
    expired = await post(client, "{ notes { title } }", token(TENANT_A, ttl=-5))
    assert expired.status_code == 401
    assert expired.headers["www-authenticate"] == (
        'Bearer error="invalid_token", error_description="the token has expired"'
    )
    assert expired.json() == {
        "errors": [{"message": "the token has expired", "extensions": {"code": "UNAUTHENTICATED"}}]
    }
    forged = jwt.encode(
        {"org_id": TENANT_B, "role": "admin", "exp": int(time.time()) + 60}, "x" * 64, "HS256"
    )
    assert (await post(client, "{ notes { title } }", forged)).status_code == 401
    get = await client.get("/graphql", params={"query": "{ notes { title } }"})
    assert get.status_code == 401
    # Authentication comes before the document is even parsed.
    assert (await post(client, "{ nope", None)).status_code == 401
    # The GraphiQL page is static: served without a token.
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "<html" in page.text.lower()


async def test_tokens_are_never_logged_nor_echoed(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = [
        token(TENANT_A, ttl=-5),
        token(TENANT_A, "intruder"),
        token(TENANT_A, aud="someone-else"),
        token(TENANT_A) + "x",
        "not.a.token",
    ]
    for value in tokens:
        response = await post(client, "{ notes { title } }", value)
        assert response.status_code in (401, 403)
        assert value not in response.text
        assert all(value not in header for header in response.headers.values())
    good = token(TENANT_A)
    assert (await post(client, "{ notes { title } }", good)).status_code == 200
    assert "bearer token refused" in caplog.text
    for value in [*tokens, good]:
        assert value not in caplog.text


# --- SSE -----------------------------------------------------------------------------------


async def sse_events(
    http: httpx.AsyncClient, query: str, bearer: str | None, within: float = 8.0
) -> tuple[int, list[tuple[str, Any]]]:
    headers = {"Accept": "text/event-stream"}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    events: list[tuple[str, Any]] = []
    async with (
        asyncio.timeout(within),
        http.stream("POST", "/graphql", json={"query": query}, headers=headers) as response,
    ):
        if response.status_code != 200:
            return response.status_code, []
        kind = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data:"):
                data = line[5:].strip()
                events.append((kind, orjson.loads(data) if data else None))
                if kind == "complete":
                    break
    return response.status_code, events


async def test_sse_each_tenant_sees_its_own_rows(client: httpx.AsyncClient) -> None:
    for tenant, expected in (
        (TENANT_A, ["one of a", "two of a"]),
        (TENANT_B, ["one of b", "two of b"]),
    ):
        status, events = await sse_events(client, "{ notes { title } }", token(tenant))
        assert status == 200
        assert events[0][0] == "next" and titles(events[0][1]) == expected
        assert events[-1][0] == "complete"
    status, _ = await sse_events(client, "{ notes { title } }", None)
    assert status == 401


async def test_sse_subscription_ends_when_the_token_expires(client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    status, events = await sse_events(
        client, "subscription { noteAdded { title } }", token(TENANT_A, ttl=2)
    )
    assert status == 200
    assert events[-2][1]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert events[-1][0] == "complete"
    assert time.monotonic() - started < 5


# --- WebSocket -----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def ws(port: int, headers: dict[str, str] | None = None) -> AsyncIterator[ClientConnection]:
    async with connect(
        f"ws://127.0.0.1:{port}/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers=headers,
        open_timeout=5,
        close_timeout=2,
    ) as websocket:
        yield websocket


async def ws_query(websocket: ClientConnection, operation_id: str, query: str) -> dict[str, Any]:
    await subscribe(websocket, operation_id, query)
    message = await receive(websocket)
    if message["type"] == "next":
        assert await receive(websocket) == {"id": operation_id, "type": "complete"}
    return message


async def test_ws_each_tenant_sees_its_own_rows(port: int) -> None:
    async with ws(port) as a, ws(port, {"Authorization": f"Bearer {token(TENANT_B)}"}) as b:
        await initialised(a, {"authorization": f"Bearer {token(TENANT_A)}"})
        await initialised(b)  # the upgrade request's header
        assert titles((await ws_query(a, "1", "{ notes { title } }"))["payload"]) == [
            "one of a",
            "two of a",
        ]
        assert titles((await ws_query(b, "1", "{ notes { title } }"))["payload"]) == [
            "one of b",
            "two of b",
        ]
        member = await ws_query(a, "2", "{ secrets { label } }")
        assert member["payload"].get("errors")


async def test_ws_subscriptions_stay_within_their_tenant(port: int, dsn: str) -> None:
    writer = await asyncpg.connect(dsn)
    try:
        async with ws(port) as a, ws(port) as b:
            await initialised(a, {"Authorization": f"Bearer {token(TENANT_A)}"})
            await initialised(b, {"Authorization": f"Bearer {token(TENANT_B)}"})
            query = "subscription { noteAdded { title } }"
            await subscribe(a, "s", query)
            await subscribe(b, "s", query)
            await asyncio.sleep(0.3)  # let both subscriptions start
            await write_note(writer, TENANT_A, title="news of a")
            assert (await receive(a))["payload"] == {"data": {"noteAdded": {"title": "news of a"}}}
            await write_note(writer, TENANT_B, title="news of b")
            assert (await receive(b))["payload"] == {"data": {"noteAdded": {"title": "news of b"}}}
    finally:
        await writer.execute("DELETE FROM tv_note WHERE data->>'title' LIKE 'news of %'")
        await writer.close()


async def test_ws_refusals_close_with_4403(port: int) -> None:
    cases: list[dict[str, Any]] = [
        {},
        {"authorization": "Bearer not-a-token"},
        {"authorization": f"Bearer {token(TENANT_A, ttl=-5)}"},
        {"authorization": f"Bearer {token(TENANT_A, 'intruder')}"},
        {"authorization": token(TENANT_A)},  # no scheme
    ]
    for payload in cases:
        async with ws(port) as websocket:
            await send(websocket, {"type": "connection_init", "payload": payload})
            assert await close_code(websocket) == (4403, "Forbidden")


async def test_ws_an_expired_token_ends_its_operations(port: int) -> None:
    async with ws(port) as websocket:
        await initialised(websocket, {"authorization": f"Bearer {token(TENANT_A, ttl=2)}"})
        assert (await ws_query(websocket, "q", "{ notes { title } }"))["type"] == "next"
        await subscribe(websocket, "s", "subscription { noteAdded { title } }")
        ended = await receive(websocket, within=5)
        assert ended["id"] == "s" and ended["type"] == "error"
        assert ended["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        later = await ws_query(websocket, "q2", "{ notes { title } }")
        assert later == {
            "id": "q2",
            "type": "error",
            "payload": [
                {"message": "the token has expired", "extensions": {"code": "UNAUTHENTICATED"}}
            ],
        }
        # The connection stays open: a ping still gets its pong.
        await send(websocket, {"type": "ping"})
        assert await receive(websocket) == {"type": "pong"}


def test_graphql_router_authenticates_and_binds_the_session(dsn: str) -> None:
    from fraiseql.fastapi import graphql_router
    from fraiseql.security.auth import auth_role

    auth = JWTAuth(algorithms=["ES256"], public_key=KEY.public_key())
    schema = fraiseql.Schema(
        types=[Note], queries=[notes], subscriptions=[note_added], database_url=dsn
    )
    router = graphql_router(schema, auth=auth)
    handlers = [getattr(route, "app", None) for route in router.routes]
    assert any(getattr(handler, "auth", None) is auth for handler in handlers)
    session = schema.executor.session_settings
    assert session is not None and session.role_from is auth_role
