"""Read replicas against a real streaming replica: routing, read-your-writes, a replica lost.

The blog (tenancy on, as the demo runs) is loaded on a primary of its own; the standby copies it
by streaming replication. The primary commits with ``synchronous_commit = off``, so the standby
trails it by up to the WAL writer's delay: real lag, not a simulated one. Lag beyond that is
injected with ``pg_wal_replay_pause()`` on the standby.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from examples.blog.app import TENANT_HEADER, context, tenant_claims
from examples.blog.database import load_schema, seed
from examples.blog.schema import MUTATIONS, QUERIES, TYPES
from examples.blog.security import APP_ROLE
from prometheus_client import CollectorRegistry
from tests.db.replication import ReplicatedPair, replicated_pair

import fraiseql
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.execution.read_your_writes import LSN_COOKIE, LSN_HEADER, ReadYourWrites
from fraiseql.observability import Observability

CREATE = """
mutation($input: CreatePostInput!) {
  createPost(input: $input) { status post { identifier } }
}
"""
READ = "query($identifier: String!) { post(identifier: $identifier) { identifier } }"


@pytest.fixture(scope="module")
def pair() -> Iterator[ReplicatedPair]:
    """A primary with the blog and its standby, for this module."""
    with replicated_pair() as running:
        yield running


@pytest.fixture(scope="module")
async def blog(pair: ReplicatedPair) -> dict[str, str]:
    """The blog on the primary (and so on the standby): a tenant and one of its authors."""
    await load_schema(pair.primary_dsn)
    await seed(pair.primary_dsn, organisations=2, users=6, posts=20, comments_per_post=0)
    connection = await asyncpg.connect(pair.primary_dsn)
    try:
        row = await connection.fetchrow(
            "SELECT o.id::text AS tenant, u.identifier AS author FROM tb_user u "
            "JOIN tb_organisation o ON o.pk_organisation = u.fk_organisation "
            "ORDER BY u.pk_user LIMIT 1"  # user 1 is an admin: may write
        )
    finally:
        await connection.close()
    await _caught_up(pair)
    return {"tenant": row["tenant"], "author": row["author"]}


async def _caught_up(pair: ReplicatedPair) -> None:
    primary = await asyncpg.connect(pair.primary_dsn)
    replica = await asyncpg.connect(pair.replica_dsn)
    try:
        target = await primary.fetchval("SELECT pg_current_wal_insert_lsn()::text")
        deadline = time.monotonic() + 20
        while not await replica.fetchval(
            "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", target
        ):
            assert time.monotonic() < deadline, "the standby did not catch up"
            await asyncio.sleep(0.02)
    finally:
        await primary.close()
        await replica.close()


class Counted:
    """Statements run on the primary and on the replica."""

    def __init__(self) -> None:
        self.primary = 0
        self.replica = 0


@pytest.fixture
async def served(
    pair: ReplicatedPair, blog: dict[str, str], request: pytest.FixtureRequest
) -> AsyncIterator[tuple[httpx.AsyncClient, Any, Counted]]:
    """The blog app with the standby as its read replica, its lifespan running."""
    options: dict[str, Any] = getattr(request, "param", {})
    counted = Counted()
    primary = Database(PoolSettings(dsn=pair.primary_dsn, max_size=4), observe_statements=True)
    replica = Database(PoolSettings(dsn=pair.replica_dsn, max_size=4), observe_statements=True)
    primary.statement_observers.append(lambda sql: setattr(counted, "primary", counted.primary + 1))
    replica.statement_observers.append(lambda sql: setattr(counted, "replica", counted.replica + 1))
    app = fraiseql.create_app(
        types=TYPES,
        queries=QUERIES,
        mutations=MUTATIONS,
        database=primary,
        read_databases=[replica],
        context_getter=context,
        session=fraiseql.SessionSettings(claims=tenant_claims, role=APP_ROLE),
        **options,
    )
    schema = app.state.fraiseql_schema
    schema.replicas.poll_interval = 0.1
    schema.replicas.down_for = 0.3
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://blog") as client:
            client.headers[TENANT_HEADER] = blog["tenant"]
            yield client, schema, counted


async def _create(client: httpx.AsyncClient, author: str) -> tuple[str, httpx.Response]:
    identifier = f"replica-{uuid.uuid4().hex[:10]}"
    response = await client.post(
        "/graphql",
        json={
            "query": CREATE,
            "variables": {
                "input": {
                    "identifier": identifier,
                    "title": "Read your writes",
                    "author": author,
                    "categoryPath": "tech",
                }
            },
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["createPost"]["status"] == "SUCCESS", response.text
    return identifier, response


async def _read(
    client: httpx.AsyncClient, identifier: str, headers: dict[str, str] | None = None
) -> Any:
    response = await client.post(
        "/graphql", json={"query": READ, "variables": {"identifier": identifier}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["post"]


async def test_queries_run_on_the_replica_and_mutations_on_the_primary(
    served: tuple[httpx.AsyncClient, Any, Counted], blog: dict[str, str]
) -> None:
    client, schema, counted = served
    before = counted.primary
    response = await client.post("/graphql", json={"query": "{ posts(limit: 3) { identifier } }"})
    assert len(response.json()["data"]["posts"]) == 3
    assert counted.primary == before  # the read ran on the replica only
    assert counted.replica > 0
    assert LSN_HEADER not in response.headers  # reads hand out no position
    replica_statements = counted.replica
    _, created = await _create(client, blog["author"])
    assert counted.primary > before
    assert counted.replica == replica_statements  # the write never touched the replica
    assert created.headers[LSN_HEADER].count("/") == 1
    assert schema.replicas.counters()["replica_reads"][2] == 1


async def test_every_read_with_the_token_sees_its_write(
    served: tuple[httpx.AsyncClient, Any, Counted], blog: dict[str, str]
) -> None:
    """Twenty writes each read back at once through the replica: none missing."""
    client, schema, _ = served
    for _ in range(20):
        identifier, created = await _create(client, blog["author"])
        token = {LSN_HEADER: created.headers[LSN_HEADER]}
        assert await _read(client, identifier, token) == {"identifier": identifier}
    counters = schema.replicas.counters()
    assert counters["replica_reads"][2] + counters["primary_reads_lag"][2] == 20
    assert counters["replica_reads"][2] > 0  # the replica caught up in time for some


async def test_a_lagging_replica_sends_reads_with_the_token_to_the_primary(
    pair: ReplicatedPair, served: tuple[httpx.AsyncClient, Any, Counted], blog: dict[str, str]
) -> None:
    client, schema, _ = served
    schema.replicas.wait = 0.2
    standby = await asyncpg.connect(pair.replica_dsn)
    try:
        await standby.execute("SELECT pg_wal_replay_pause()")
        identifier, created = await _create(client, blog["author"])
        token = {LSN_HEADER: created.headers[LSN_HEADER]}
        started = time.monotonic()
        assert await _read(client, identifier, token) == {"identifier": identifier}
        waited = time.monotonic() - started
        assert 0.2 <= waited < 2, waited  # waited the bound, then read on the primary
        assert schema.replicas.counters()["primary_reads_lag"][2] == 1
        # Without the token the replica answers, from before the write: the lag is real.
        assert await _read(client, identifier) is None
    finally:
        await standby.execute("SELECT pg_wal_replay_resume()")
        await standby.close()
    deadline = time.monotonic() + 10
    while await _read(client, identifier) is None:
        assert time.monotonic() < deadline, "the standby did not resume"
        await asyncio.sleep(0.05)
    lagged = schema.replicas.counters()["primary_reads_lag"][2]
    assert await _read(client, identifier, token) == {"identifier": identifier}
    assert schema.replicas.counters()["primary_reads_lag"][2] == lagged  # the replica, now


async def test_reads_fall_back_to_the_primary_while_the_replica_is_gone(
    pair: ReplicatedPair, served: tuple[httpx.AsyncClient, Any, Counted], blog: dict[str, str]
) -> None:
    client, schema, counted = served
    await client.post("/graphql", json={"query": "{ posts(limit: 1) { identifier } }"})
    await asyncio.to_thread(pair.stop_replica)
    try:
        failures = 0
        for _ in range(10):
            response = await client.post(
                "/graphql", json={"query": "{ posts(limit: 2) { identifier } }"}
            )
            if response.status_code != 200 or "errors" in response.json():
                failures += 1
        assert failures == 0
        counters = schema.replicas.counters()
        # Each of the ten ran on the primary: after failing on the replica (before the poller
        # saw it go) or sent there at once (after).
        on_primary = counters["fallbacks"][2] + counters["primary_reads_unavailable"][2]
        assert on_primary == 10, counters
        assert counters["up"][2] == 0
    finally:
        await asyncio.to_thread(pair.start_replica)
    deadline = time.monotonic() + 15
    while schema.replicas.counters()["up"][2] == 0:
        assert time.monotonic() < deadline, "the replica was not taken back"
        await asyncio.sleep(0.05)
    before = counted.replica
    response = await client.post("/graphql", json={"query": "{ posts(limit: 2) { identifier } }"})
    assert len(response.json()["data"]["posts"]) == 2
    assert counted.replica > before  # reads went back to the replica


async def test_a_malformed_token_is_refused_before_any_statement(
    served: tuple[httpx.AsyncClient, Any, Counted],
) -> None:
    client, _, counted = served
    before = (counted.primary, counted.replica)
    for bad in ("latest", "1/2/3", "G/0", "0/" + "F" * 9, "0/1; DROP TABLE tb_post", ""):
        response = await client.post(
            "/graphql", json={"query": "{ posts(limit: 1) { id } }"}, headers={LSN_HEADER: bad}
        )
        body = response.json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", (bad, body)
        assert LSN_HEADER in body["errors"][0]["message"]
        assert "data" not in body
    assert (counted.primary, counted.replica) == before


@pytest.mark.parametrize(
    "served", [{"read_your_writes": ReadYourWrites(cookie=True, cookie_max_age=60)}], indirect=True
)
async def test_the_cookie_carries_the_token_for_browsers(
    pair: ReplicatedPair, served: tuple[httpx.AsyncClient, Any, Counted], blog: dict[str, str]
) -> None:
    client, schema, _ = served
    schema.replicas.wait = 0.2
    standby = await asyncpg.connect(pair.replica_dsn)
    try:
        await standby.execute("SELECT pg_wal_replay_pause()")
        identifier, created = await _create(client, blog["author"])
        cookie = created.headers["set-cookie"]
        assert cookie.startswith(f"{LSN_COOKIE}={created.headers[LSN_HEADER]};")
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=60" in cookie
        # httpx keeps the cookie and sends it back, as a browser does.
        assert await _read(client, identifier) == {"identifier": identifier}
        assert schema.replicas.counters()["primary_reads_lag"][2] == 1
        client.cookies.set(LSN_COOKIE, "not-a-position")
        assert await _read(client, identifier) == {"identifier": identifier}  # primary
    finally:
        await standby.execute("SELECT pg_wal_replay_resume()")
        await standby.close()


@pytest.mark.parametrize(
    "served",
    [
        {
            "observability": Observability(
                log_requests=False, metrics=True, registry=CollectorRegistry()
            )
        }
    ],
    indirect=True,
)
async def test_the_routing_is_in_the_metrics(
    served: tuple[httpx.AsyncClient, Any, Counted],
) -> None:
    client, _, _ = served
    await client.post("/graphql", json={"query": "{ posts(limit: 1) { id } }"})
    text = (await client.get("/metrics")).text
    assert "fraiseql_read_replicas_replica_reads_total 1.0" in text
    assert "fraiseql_read_replicas_up 1.0" in text
    assert "fraiseql_read_replicas_primary_reads_lag_total 0.0" in text
