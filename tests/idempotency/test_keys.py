"""Idempotency keys over HTTP against a real PostgreSQL: replay, scope, refusals, expiry, cost."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from tests.idempotency.notes import (
    CREATE,
    build_app,
    build_schema,
    client,
    note,
    post,
    until_sleeping,
)

import fraiseql
from fraiseql import Idempotency, Schema
from fraiseql.db.commands import MUTATE_SQL
from fraiseql.execution.idempotency import REPLAYED_HEADER, IdempotencyKeys

REPLAYED = REPLAYED_HEADER.lower()


@pytest.fixture(scope="module")
async def statements() -> list[str]:
    return []


@pytest.fixture(scope="module")
async def schema(notes_dsn: str, statements: list[str]) -> AsyncIterator[Schema]:
    schema = build_schema(
        notes_dsn, Idempotency(install=True, wait=2.0, purge_interval=None), observe=statements
    )
    await schema.open()
    try:
        yield schema
    finally:
        await schema.close()


@pytest.fixture(scope="module")
async def http(schema: Schema) -> AsyncIterator[httpx.AsyncClient]:
    async with client(build_app(schema)) as http:
        yield http


def _key() -> str:
    return f"key-{secrets.token_hex(8)}"


async def _calls(db: asyncpg.Connection) -> int:
    """How many times fn_create_note has been called so far (rolled-back calls included)."""
    return int(await db.fetchval("SELECT last_value FROM note_calls"))


async def _rows(db: asyncpg.Connection, identifier: str) -> list[str]:
    rows = await db.fetch("SELECT id::text FROM tb_note WHERE identifier = $1", identifier)
    return [row["id"] for row in rows]


def _code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


async def test_a_retry_gets_the_first_answer_byte_for_byte(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    key, name = _key(), _key()
    first = await post(http, note(name), key=key)
    assert first.status_code == 200
    assert REPLAYED not in first.headers
    payload = first.json()["data"]["createNote"]
    assert payload["status"] == "SUCCESS" and payload["note"]["identifier"] == name
    calls = await _calls(db)
    again = await post(http, note(name), key=key)
    assert again.status_code == 200
    assert again.headers[REPLAYED] == "true"
    assert again.content == first.content
    assert await _calls(db) == calls  # the function did not run again
    assert await _rows(db, name) == [payload["id"]]
    stored = await db.fetchval("SELECT response FROM fraiseql_idempotency WHERE key = $1", key)
    assert stored == first.content


async def test_the_key_may_come_in_the_extensions(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    key, name = _key(), _key()
    first = await post(http, note(name), extensions={"idempotencyKey": key})
    again = await post(http, note(name), key=key)  # the header names the same key
    assert again.headers[REPLAYED] == "true" and again.content == first.content
    assert len(await _rows(db, name)) == 1
    both = await post(http, note(name), key=key, extensions={"idempotencyKey": key + "x"})
    assert (both.status_code, _code(both)) == (400, "INVALID_IDEMPOTENCY_KEY")


async def test_ten_concurrent_retries_run_the_mutation_once(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    key, name = _key(), _key()
    calls = await _calls(db)
    # The first to claim the key holds it for 0.3 s; the nine others wait on its row.
    answers = await asyncio.gather(*(post(http, note(name, sleep=0.3), key=key) for _ in range(10)))
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.content for answer in answers}) == 1
    assert sorted(answer.headers.get(REPLAYED, "") for answer in answers) == [""] + ["true"] * 9
    assert await _calls(db) == calls + 1
    assert len(await _rows(db, name)) == 1


async def test_a_retry_waits_at_most_wait_seconds(notes_dsn: str, db: asyncpg.Connection) -> None:
    schema = build_schema(notes_dsn, Idempotency(install=True, wait=0.1, purge_interval=None))
    await schema.open()
    try:
        async with client(build_app(schema)) as http:
            key, name = _key(), _key()
            first = asyncio.create_task(post(http, note(name, sleep=0.6), key=key))
            await until_sleeping(db)  # the first holds the key
            busy = await post(http, note(name, sleep=0.6), key=key)
            assert (busy.status_code, _code(busy)) == (409, "IDEMPOTENCY_KEY_IN_PROGRESS")
            assert "data" not in busy.json()
            done = await first
            later = await post(http, note(name, sleep=0.6), key=key)
            assert later.headers[REPLAYED] == "true" and later.content == done.content
            assert len(await _rows(db, name)) == 1
    finally:
        await schema.close()


async def test_the_same_key_with_another_request_is_refused(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    key, name = _key(), _key()
    first = await post(http, note(name), key=key)
    calls = await _calls(db)
    other_variables = await post(http, note(name, body="changed"), key=key)
    assert (other_variables.status_code, _code(other_variables)) == (
        422,
        "IDEMPOTENCY_KEY_REUSED",
    )
    assert b"changed" not in other_variables.content and name not in other_variables.text
    other_selection = CREATE.replace("message id", "id")
    other_operation = await post(http, note(name), key=key, query=other_selection)
    assert (other_operation.status_code, _code(other_operation)) == (
        422,
        "IDEMPOTENCY_KEY_REUSED",
    )
    assert await _calls(db) == calls
    again = await post(http, note(name), key=key)
    assert again.content == first.content  # the key still answers its own request


async def test_another_tenant_with_the_same_key_runs_on_its_own(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    key, name = _key(), _key()
    calls = await _calls(db)
    acme = await post(http, note(name), key=key, tenant="acme")
    globex = await post(http, note(name), key=key, tenant="globex")
    assert REPLAYED not in acme.headers and REPLAYED not in globex.headers
    assert await _calls(db) == calls + 2
    ids = {
        acme.json()["data"]["createNote"]["id"],
        globex.json()["data"]["createNote"]["id"],
    }
    assert set(await _rows(db, name)) == ids and len(ids) == 2
    assert (await post(http, note(name), key=key, tenant="globex")).content == globex.content
    assert (await post(http, note(name), key=key, tenant="acme")).content == acme.content


async def test_an_expired_key_runs_again_and_is_purged(
    schema: Schema, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    key, name = _key(), _key()
    first = await post(http, note(name), key=key)
    await db.execute(
        "UPDATE fraiseql_idempotency SET expires_at = now() - interval '1 second' WHERE key = $1",
        key,
    )
    second = await post(http, note(name), key=key)
    assert REPLAYED not in second.headers
    assert second.json()["data"]["createNote"]["id"] != first.json()["data"]["createNote"]["id"]
    assert len(await _rows(db, name)) == 2
    assert (await post(http, note(name), key=key)).content == second.content
    # The purge deletes expired keys only.
    gone = _key()
    await post(http, note(_key()), key=gone)
    await db.execute(
        "UPDATE fraiseql_idempotency SET expires_at = now() - interval '1 second' WHERE key = $1",
        gone,
    )
    assert schema.idempotency is not None
    async with schema.database.pool.acquire() as connection:  # type: ignore[union-attr]
        assert await schema.idempotency.purge(connection) >= 1
    keys = {row["key"] for row in await db.fetch("SELECT key FROM fraiseql_idempotency")}
    assert gone not in keys and key in keys


@pytest.mark.parametrize(
    "key",
    ["", "k" * 256, "tab\there", "caf\u00e9".encode().decode("latin-1"), "del\x7f"],
    ids=["empty", "too-long", "control", "non-ascii", "delete"],
)
async def test_a_malformed_key_is_a_400(
    http: httpx.AsyncClient, db: asyncpg.Connection, key: str
) -> None:
    calls = await _calls(db)
    headers = {"X-Tenant": "acme", "Idempotency-Key": key.encode("latin-1")}
    response = await http.post(
        "/graphql", json={"query": CREATE, "variables": note(_key())}, headers=headers
    )
    assert (response.status_code, _code(response)) == (400, "INVALID_IDEMPOTENCY_KEY")
    assert await _calls(db) == calls


async def test_a_key_of_255_printable_characters_is_accepted(http: httpx.AsyncClient) -> None:
    key = ("~ !" + secrets.token_hex(8)) * 20
    key = key[:255]
    first = await post(http, note(_key()), key=key)
    assert first.status_code == 200 and "errors" not in first.json()
    non_string = await post(http, note(_key()), extensions={"idempotencyKey": 42})
    assert (non_string.status_code, _code(non_string)) == (400, "INVALID_IDEMPOTENCY_KEY")


async def test_a_rolled_back_mutation_keeps_no_key(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    key = _key()
    calls = await _calls(db)
    first = await post(http, note(_key(), body=""), key=key)
    assert first.json()["data"]["createNote"]["status"] == "VALIDATION_ERROR"
    again = await post(http, note(_key(), body=""), key=key)
    assert REPLAYED not in again.headers  # nothing was written, so the retry ran again
    assert await _calls(db) == calls + 2
    assert await db.fetchval("SELECT count(*) FROM fraiseql_idempotency WHERE key = $1", key) == 0


async def test_queries_and_batches(schema: Schema, db: asyncpg.Connection) -> None:
    app = build_app(schema)
    async with client(app) as http:
        key = _key()
        query = await post(http, {}, key=key, query="{ notes { id } }")
        assert query.status_code == 200 and REPLAYED not in query.headers
        assert (
            await db.fetchval("SELECT count(*) FROM fraiseql_idempotency WHERE key = $1", key) == 0
        )
    batching = fraiseql.create_app(schema=schema, batching=True, graphiql=False)
    async with client(batching) as http:
        body = [{"query": CREATE, "variables": note(_key())}] * 2
        refused = await http.post("/graphql", json=body, headers={"Idempotency-Key": _key()})
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["extensions"]["code"] == "INVALID_IDEMPOTENCY_KEY"
        fine = await http.post("/graphql", json=body)
        assert [item["data"]["createNote"]["status"] for item in fine.json()] == ["SUCCESS"] * 2


async def test_without_a_key_the_mutation_stays_one_statement(
    schema: Schema, http: httpx.AsyncClient, notes_dsn: str, statements: list[str]
) -> None:
    statements.clear()
    response = await post(http, note(_key()))
    assert response.json()["data"]["createNote"]["status"] == "SUCCESS"
    assert statements == [MUTATE_SQL]
    # exactly what a schema without idempotency runs
    plain_statements: list[str] = []
    plain = build_schema(notes_dsn, None, observe=plain_statements)
    await plain.open()
    plain_statements.clear()  # the checks of open()
    try:
        async with client(build_app(plain)) as plain_http:
            await post(plain_http, note(_key()), key=_key())  # a key is ignored there
    finally:
        await plain.close()
    assert plain_statements == statements
    # With a key: the request transaction, the claim, the call, the read-back, the answer.
    statements.clear()
    await post(http, note(_key()), key=_key())
    kinds = [
        "claim" if "idempotency_claim" in s else "store" if "idempotency_store" in s else s
        for s in statements
    ]
    assert kinds[0] == "BEGIN;" and kinds[-1] == "COMMIT;"
    assert kinds[2] == "claim" and kinds[-2] == "store" and len(statements) == 7
    statements.clear()
    key = _key()
    await post(http, note(_key()), key=key)
    statements.clear()
    await post(http, note(_key()), key=key)  # another request: refused after the claim
    assert len(statements) == 4  # BEGIN, set_config, claim, ROLLBACK


async def test_the_install_is_concurrent_and_the_table_private(notes_dsn: str) -> None:
    connections = [await asyncpg.connect(notes_dsn) for _ in range(3)]
    role = f"fraiseql_idem_{secrets.token_hex(4)}"
    try:
        keys = IdempotencyKeys(Idempotency())
        await asyncio.gather(*(keys.install(connection) for connection in connections))
        admin = connections[0]
        await admin.execute(f'CREATE ROLE "{role}" NOLOGIN')
        transaction = admin.transaction()
        await transaction.start()
        try:
            await admin.execute(f'SET LOCAL ROLE "{role}"')
            # The role calls the functions (they run as their owner) but cannot read the table.
            row = await admin.fetchrow(
                "SELECT * FROM fraiseql_idempotency_claim('s', 'k', 'r', '1 hour', 100)"
            )
            assert row is not None and row["claimed"] is True
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await admin.fetch("SELECT * FROM fraiseql_idempotency")
        finally:
            await transaction.rollback()
    finally:
        await connections[0].execute(f'DROP ROLE IF EXISTS "{role}"')
        for connection in connections:
            await connection.close()


def test_the_options_are_checked() -> None:
    with pytest.raises(ValueError, match="ttl"):
        Idempotency(ttl=0)
    with pytest.raises(ValueError, match="wait"):
        Idempotency(wait=0)
    with pytest.raises(ValueError, match="purge_interval"):
        Idempotency(purge_interval=0)
    with pytest.raises(ValueError, match="purge_batch"):
        Idempotency(purge_batch=0)
