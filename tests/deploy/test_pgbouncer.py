"""FraiseQL through a real PgBouncer in transaction mode (docs/deployment/PGBOUNCER.md).

Each test starts PgBouncer (the Debian package's binary) on a free port of 127.0.0.1 in front
of the test server, with a small server pool so that client connections share server
connections, and stops it at the end. What is shown:

- asyncpg's statement cache (named prepared statements) breaks without PgBouncer's tracking of
  prepared statements (before 1.21, or ``max_prepared_statements = 0``), and
  ``PoolSettings(statement_cache_size=0)`` fixes it; with tracking (1.21+) the cache works;
- FraiseQL's pool sends ``statement_timeout`` as a startup parameter, which PgBouncer refuses
  unless ``ignore_startup_parameters`` names it; the per-request ``SET LOCAL`` one still works;
- queries, mutations and tenant claims under RLS, with two tenants' requests interleaved on
  shared server connections: no claim or row crosses from one tenant to the other;
- LISTEN through PgBouncer hears nothing; with ``FRAISEQL_LISTEN_DATABASE_URL`` pointing at
  PostgreSQL the subscriptions work while the pool goes through PgBouncer.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from examples.blog.app import TENANT_HEADER, context, tenant_claims
from examples.blog.database import load_schema, seed
from examples.blog.schema import MUTATIONS, QUERIES, TYPES
from examples.blog.security import APP_ROLE
from tests.conftest import temporary_database
from tests.subscriptions import support as notes

import fraiseql
from fraiseql import Info, SessionSettings
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.schema.schema import LISTEN_URL_ENV

from . import pgbouncer
from .pgbouncer import TRACKS_PREPARED_STATEMENTS, Bouncer


@pytest.fixture
def bouncer(pgbouncer_binary: str, server_dsn: str) -> Iterator[Bouncer]:
    """PgBouncer, transaction mode, one server connection per database and user."""
    with pgbouncer.running(pgbouncer_binary, server_dsn, pool_size=1) as running:
        yield running


def _untracked(version: tuple[int, int]) -> dict[str, str]:
    # From 1.21 on, tracking exists (and may be on by default): turn it off to show the failure.
    return {"max_prepared_statements": "0"} if version >= TRACKS_PREPARED_STATEMENTS else {}


async def _run_on_two_servers(dsn: str, **options: Any) -> list[int]:
    """One client runs a statement twice, on two server connections in turn.

    The first run gets the only server connection; another client then holds it inside a
    transaction, so PgBouncer gives the second run a new server connection.
    """
    client, holder = [await asyncpg.connect(dsn, **options) for _ in range(2)]
    try:
        first = await client.fetchval("SELECT 1 + $1::int", 1)
        async with holder.transaction():
            await holder.fetchval("SELECT 1")
            second = await client.fetchval("SELECT 1 + $1::int", 2)
        return [first, second]
    finally:
        for connection in (client, holder):
            await connection.close()


async def test_the_statement_cache_breaks_without_prepared_statement_tracking(
    pgbouncer_binary: str, server_dsn: str
) -> None:
    settings = _untracked(pgbouncer.version(pgbouncer_binary))
    running = pgbouncer.running(pgbouncer_binary, server_dsn, pool_size=2, settings=settings)
    # asyncpg's default: the statement is prepared as __asyncpg_stmt_N__ on the first server
    # connection, and the second run binds that name where it does not exist.
    with running as pb, pytest.raises(asyncpg.InvalidSQLStatementNameError, match="not exist"):
        await _run_on_two_servers(pb.dsn)


async def test_statement_cache_size_zero_works_in_transaction_mode(
    pgbouncer_binary: str, server_dsn: str
) -> None:
    settings = _untracked(pgbouncer.version(pgbouncer_binary))
    with pgbouncer.running(pgbouncer_binary, server_dsn, pool_size=2, settings=settings) as pb:
        # Unnamed statements, parsed again with every execution: nothing to find on a server.
        assert await _run_on_two_servers(pb.dsn, statement_cache_size=0) == [2, 3]
        clients = [await asyncpg.connect(pb.dsn, statement_cache_size=0) for _ in range(4)]
        try:

            async def work(connection: asyncpg.Connection, offset: int) -> list[int]:
                values = []
                for i in range(30):
                    if i % 2:
                        async with connection.transaction():
                            values.append(
                                await connection.fetchval("SELECT $1::int + 1", i + offset)
                            )
                    else:
                        values.append(await connection.fetchval("SELECT $1::int + 1", i + offset))
                return values

            results = await asyncio.gather(*(work(c, 100 * n) for n, c in enumerate(clients)))
            assert results == [[i + 100 * n + 1 for i in range(30)] for n in range(4)]
        finally:
            for connection in clients:
                await connection.close()


async def test_tracked_prepared_statements_keep_the_cache_working(
    pgbouncer_binary: str, server_dsn: str
) -> None:
    version = pgbouncer.version(pgbouncer_binary)
    if version < TRACKS_PREPARED_STATEMENTS:
        pytest.skip(
            f"PgBouncer {version[0]}.{version[1]} has no max_prepared_statements (1.21+); "
            "Debian 12 ships 1.18"
        )
    settings = {"max_prepared_statements": "100"}
    with pgbouncer.running(pgbouncer_binary, server_dsn, pool_size=2, settings=settings) as pb:
        # PgBouncer prepares the client's statement again on the second server connection.
        assert await _run_on_two_servers(pb.dsn) == [2, 3]


async def test_pgbouncer_refuses_the_pools_statement_timeout_unless_ignored(
    pgbouncer_binary: str, server_dsn: str
) -> None:
    with pgbouncer.running(
        pgbouncer_binary, server_dsn, settings={"ignore_startup_parameters": ""}
    ) as pb:
        database = Database(PoolSettings(dsn=pb.dsn, statement_cache_size=0, min_size=1))
        with pytest.raises(asyncpg.ProtocolViolationError, match="statement_timeout"):
            await database.open()
        await database.close()


@fraiseql.query
async def request_settings(info: Info) -> str:
    """The tenant, role and statement timeout the request's transaction runs with."""
    connection = await info.repository.session.connection()
    row = await connection.fetchrow(
        "SELECT current_setting('app.tenant_id', true) AS tenant, current_user AS role, "
        "current_setting('statement_timeout') AS timeout, pg_backend_pid() AS pid"
    )
    return f"{row['tenant']}|{row['role']}|{row['timeout']}|{row['pid']}"


CREATE = """
mutation($input: CreatePostInput!) {
  createPost(input: $input) { status errors { field code } post { identifier author { identifier } } }
}
"""


@pytest.fixture(scope="module")
async def blog(server_dsn: str) -> AsyncIterator[dict[str, Any]]:
    """A small blog database with its tenancy; the posts and an author of each organisation."""
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=2, users=8, posts=60, comments_per_post=0)
        connection = await asyncpg.connect(dsn)
        try:
            posts = await connection.fetch(
                "SELECT tenant_id::text AS t, id::text AS id FROM tv_post"
            )
            authors = await connection.fetch(
                "SELECT DISTINCT ON (o.id) o.id::text AS t, u.identifier FROM tb_user u "
                "JOIN tb_organisation o ON o.pk_organisation = u.fk_organisation "
                "ORDER BY o.id, u.pk_user"
            )
        finally:
            await connection.close()
        tenants: dict[str, set[str]] = {}
        for row in posts:
            tenants.setdefault(row["t"], set()).add(row["id"])
        assert len(tenants) == 2
        yield {
            "dsn": dsn,
            "posts": tenants,
            "authors": {row["t"]: row["identifier"] for row in authors},
        }


@pytest.fixture
async def client(
    pgbouncer_binary: str, blog: dict[str, Any]
) -> AsyncIterator[tuple[httpx.AsyncClient, Bouncer]]:
    """The blog app, tenancy on, its pool (8 connections) through PgBouncer (2 server ones)."""
    with pgbouncer.running(pgbouncer_binary, blog["dsn"], pool_size=2) as pb:
        database = Database(
            PoolSettings(
                dsn=pb.dsn, min_size=8, max_size=8, statement_cache_size=0, acquire_timeout=20
            )
        )
        app = fraiseql.create_app(
            types=TYPES,
            queries=[*QUERIES, request_settings],
            mutations=MUTATIONS,
            database=database,
            context_getter=context,
            session=SessionSettings(claims=tenant_claims, role=APP_ROLE, statement_timeout_ms=4321),
            require_rls=True,
        )
        schema = app.state.fraiseql_schema
        await schema.open()  # the require_rls check runs through PgBouncer too
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield http, pb
        finally:
            await schema.close()


async def _graphql(
    http: httpx.AsyncClient, query: str, tenant: str, **variables: Any
) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers={TENANT_HEADER: tenant}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_interleaved_tenants_see_only_their_rows_and_claims(
    client: tuple[httpx.AsyncClient, Bouncer], blog: dict[str, Any]
) -> None:
    http, _ = client
    a, b = sorted(blog["posts"])

    async def one(i: int) -> tuple[str, set[str], str]:
        tenant = (a, b)[i % 2]
        data = await _graphql(http, "{ posts(limit: 100) { id } requestSettings }", tenant)
        return tenant, {post["id"] for post in data["posts"]}, data["requestSettings"]

    results = await asyncio.gather(*(one(i) for i in range(60)))
    pids = set()
    for tenant, seen, settings in results:
        assert seen == blog["posts"][tenant]  # all of its rows, and only those
        claimed, role, timeout, pid = settings.split("|")
        assert (claimed, role, timeout) == (tenant, APP_ROLE, "4321ms")
        pids.add(pid)
    assert len(pids) <= 2  # 60 requests, 8 client connections, at most 2 server backends


async def test_settings_do_not_outlive_the_transaction_on_the_server_connection(
    client: tuple[httpx.AsyncClient, Bouncer], blog: dict[str, Any]
) -> None:
    http, pb = client
    tenant = sorted(blog["posts"])[0]
    await _graphql(http, "{ requestSettings }", tenant)
    # A plain client of the same PgBouncer pool, outside any request transaction.
    connection = await asyncpg.connect(pb.dsn, statement_cache_size=0)
    try:
        row = await connection.fetchrow(
            "SELECT current_setting('app.tenant_id', true) AS tenant, current_user AS role, "
            "(SELECT count(*) FROM pg_prepared_statements) AS prepared"
        )
    finally:
        await connection.close()
    assert row["tenant"] in (None, "")
    assert row["role"] != APP_ROLE
    assert row["prepared"] == 0  # statement_cache_size=0: nothing named is left on the server


async def test_mutations_write_for_their_tenant_only(
    client: tuple[httpx.AsyncClient, Bouncer], blog: dict[str, Any]
) -> None:
    http, _ = client
    a, b = sorted(blog["posts"])
    base = {"title": "Through PgBouncer", "categoryPath": "tech"}

    async def create(tenant: str, author_of: str, n: int) -> dict[str, Any]:
        identifier = f"pgb-{uuid.uuid4().hex[:8]}-{n}"
        data = await _graphql(
            http,
            CREATE,
            tenant,
            input={**base, "identifier": identifier, "author": blog["authors"][author_of]},
        )
        return {"identifier": identifier, **data["createPost"]}

    own = await asyncio.gather(*(create((a, b)[n % 2], (a, b)[n % 2], n) for n in range(10)))
    for n, payload in enumerate(own):
        assert payload["status"] == "SUCCESS", payload
        assert payload["post"]["author"]["identifier"] == blog["authors"][(a, b)[n % 2]]
    # Another tenant's author is invisible to the writer: refused, nothing written.
    foreign = await create(a, b, 99)
    assert foreign["status"] == "VALIDATION_ERROR"
    assert foreign["errors"] == [{"field": "author", "code": "not_found"}]
    for n, payload in enumerate(own):
        query = f'{{ post(identifier: "{payload["identifier"]}") {{ identifier }} }}'
        mine, other = (a, b)[n % 2], (b, a)[n % 2]
        assert (await _graphql(http, query, mine))["post"] == {"identifier": payload["identifier"]}
        assert (await _graphql(http, query, other))["post"] is None


async def test_listen_through_pgbouncer_hears_nothing(bouncer: Bouncer, server_dsn: str) -> None:
    heard: list[str] = []
    listening = await asyncpg.connect(bouncer.dsn, statement_cache_size=0)
    direct = await asyncpg.connect(server_dsn)
    try:
        await listening.add_listener("fraiseql_pgb_test", lambda *args: heard.append(args[-1]))
        for n in range(3):
            await direct.execute(f"NOTIFY fraiseql_pgb_test, 'event {n}'")
            await listening.fetchval("SELECT 1")  # the client is active on the same backend
        await asyncio.sleep(0.5)
    finally:
        await listening.close()
        await direct.close()
    assert heard == []
    # PgBouncer drops a notification that reaches a server connection no client is linked to
    # ("got packet 'A' from server when not linked" in its log), and the LISTEN stays on that
    # server connection: the next client of the pool finds itself listening.
    other = await asyncpg.connect(bouncer.dsn, statement_cache_size=0)
    try:
        channels = await other.fetchval("SELECT array(SELECT pg_listening_channels())")
    finally:
        await other.close()
    assert channels == ["fraiseql_pgb_test"]


@pytest.fixture
async def notes_dsn(server_dsn: str) -> AsyncIterator[str]:
    """The subscription tests' notes database (tests/subscriptions/support.py)."""
    async with temporary_database(server_dsn) as dsn:
        await notes.load(dsn)
        yield dsn


async def test_subscriptions_listen_directly_while_the_pool_goes_through_pgbouncer(
    pgbouncer_binary: str, notes_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pgbouncer.running(pgbouncer_binary, notes_dsn, pool_size=2) as pb:
        monkeypatch.setenv(LISTEN_URL_ENV, notes_dsn)  # read when the schema is built
        database = Database(PoolSettings(dsn=pb.dsn, statement_cache_size=0))
        app = fraiseql.create_app(
            types=[notes.Note],
            queries=[notes.note],
            subscriptions=notes.SUBSCRIPTIONS,
            database=database,
            context_getter=notes.context,
            session=SessionSettings(claims=notes.claims, role=notes.APP_ROLE),
        )
        schema = app.state.fraiseql_schema
        assert schema.listener.dsn == notes_dsn
        writer = await asyncpg.connect(notes_dsn)
        try:
            with notes.serving(app) as port:
                # The listener's session is on PostgreSQL itself, the pool's on PgBouncer.
                assert schema.listener.connection._addr[1] == urlsplit(notes_dsn).port
                async with database.pool.acquire() as pooled:
                    assert pooled._addr[1] == pb.port
                async with notes.ws_client(port) as websocket:
                    await notes.initialised(websocket, {"tenantId": notes.TENANT_A})
                    await notes.subscribe(websocket, "1", "subscription { noteChanged { title } }")
                    await notes.eventually(lambda: schema.events.subscriptions >= 1)
                    await notes.write_note(writer, notes.TENANT_B, title="not for A")
                    await notes.write_note(writer, notes.TENANT_A, title="through the listener")
                    event = await notes.receive(websocket, within=10)
                    # The re-read ran through PgBouncer, with A's claims: B's note never came.
                    assert event["payload"]["data"]["noteChanged"]["title"] == (
                        "through the listener"
                    )
        finally:
            await writer.close()
