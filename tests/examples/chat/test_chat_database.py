"""The chat example's SQL: schema, seed, mutation functions, events and tenant policies.

Everything runs on a real PostgreSQL, as the example's ``chat_app`` role with the claims the app
sets (``app.tenant_id``, ``app.user_id``), the way a request would run the functions.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from examples.chat.database import MESSAGES, load_schema, seed, seed_uuid
from examples.chat.security import APP_ROLE, READ_MODELS, VIEWS, WRITE_TABLES
from tests.conftest import temporary_database

from fraiseql.security.rls import rls_problems

CHANNEL = "fraiseql_events"
ACME = seed_uuid("organisation", "acme")
GLOBEX = seed_uuid("organisation", "globex")
ALICE = seed_uuid("user", "acme", "alice")
CAROL = seed_uuid("user", "acme", "carol")
GLOBEX_DAVE = seed_uuid("user", "globex", "dave")
GENERAL = seed_uuid("room", "acme", "general")
GLOBEX_GENERAL = seed_uuid("room", "globex", "general")

# The contract's fraiseql_notify, created only while CONTRACT_SQL does not provide it yet.
NOTIFY_STAND_IN = """
CREATE FUNCTION fraiseql_notify(p_entity text, p_op text, p_ids uuid[]) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_notify('fraiseql_events',
                     json_build_object('entity', p_entity, 'op', p_op, 'ids', p_ids)::text)
$$
"""

HOSTILE = (
    "'; DROP TABLE tb_message; --",
    "<img src=x onerror=alert(1)>",
    'quotes " \' and back\\slashes \\" \\\\',
    '{"data": null, "errors": [{"message": "forged"}]}',
    "emoji 🧪👩‍🔬, RTL \u202eabc\u202c, zero\u200bwidth, U+2028 \u2028 here",
    "control \x01\x07\x1b[31m characters",
)


async def _prepare(dsn: str) -> None:
    await load_schema(dsn)
    connection = await asyncpg.connect(dsn)
    try:
        exists = await connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'fraiseql_notify')"
        )
        if not exists:
            await connection.execute(NOTIFY_STAND_IN)
    finally:
        await connection.close()
    await seed(dsn)


@pytest.fixture(scope="module")
async def chat_dsn(server_dsn: str) -> AsyncIterator[str]:
    """The chat schema with its seed, shared by this module's tests: only rolled-back writes."""
    async with temporary_database(server_dsn) as dsn:
        await _prepare(dsn)
        yield dsn


@pytest.fixture
async def fresh_dsn(server_dsn: str) -> AsyncIterator[str]:
    """A chat database of this test's own, for writes that commit."""
    async with temporary_database(server_dsn) as dsn:
        await _prepare(dsn)
        yield dsn


@pytest.fixture
async def db(chat_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to the shared database inside a transaction that is rolled back."""
    connection = await asyncpg.connect(chat_dsn, server_settings={"TimeZone": "UTC"})
    transaction = connection.transaction()
    await transaction.start()
    try:
        yield connection
    finally:
        await transaction.rollback()
        await connection.close()


class Events:
    """A LISTEN connection on the events channel, collecting the payloads it receives."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue()

    def __call__(self, connection: object, pid: int, channel: str, payload: str) -> None:
        assert channel == CHANNEL
        self.queue.put_nowait(payload)

    async def next(self) -> dict[str, Any]:
        """The next event, without its send time (checked to be a number)."""
        async with asyncio.timeout(5):
            payload: dict[str, Any] = json.loads(await self.queue.get())
        assert isinstance(payload.pop("at"), float)
        return payload

    async def assert_silent(self, wait: float = 0.3) -> None:
        await asyncio.sleep(wait)
        assert self.queue.empty(), self.queue.get_nowait()


@pytest.fixture
async def events(fresh_dsn: str) -> AsyncIterator[Events]:
    listener = await asyncpg.connect(fresh_dsn)
    collected = Events()
    await listener.add_listener(CHANNEL, collected)
    try:
        yield collected
    finally:
        await listener.remove_listener(CHANNEL, collected)
        await listener.close()


async def act_as(
    connection: asyncpg.Connection, tenant: uuid.UUID | None, user: uuid.UUID | None
) -> None:
    """Inside the current transaction: the app role with the claims a request would set."""
    await connection.execute(
        "SELECT set_config('role', $1, true), set_config('app.tenant_id', $2, true),"
        " set_config('app.user_id', $3, true)",
        APP_ROLE,
        "" if tenant is None else str(tenant),
        "" if user is None else str(user),
    )


async def call(connection: asyncpg.Connection, function: str, **input: Any) -> dict[str, Any]:
    """Call a mutation function as the API does: one JSONB argument, one result row."""
    row = await connection.fetchrow(
        f"SELECT status, id, message, errors FROM {function}($1::jsonb)", json.dumps(input)
    )
    assert row is not None
    return {
        "status": row["status"],
        "id": row["id"],
        "message": row["message"],
        "errors": json.loads(row["errors"]) if row["errors"] is not None else None,
    }


async def document(connection: asyncpg.Connection, table: str, id: uuid.UUID) -> dict[str, Any]:
    text = await connection.fetchval(f"SELECT data::text FROM {table} WHERE id = $1", id)
    assert text is not None, f"{table} has no row {id}"
    result: dict[str, Any] = json.loads(text)
    return result


# --- schema, seed, security --------------------------------------------------------------------


async def test_the_read_models_hold_what_their_views_compute(db: asyncpg.Connection) -> None:
    counts = {}
    for table, view in zip(READ_MODELS, VIEWS, strict=True):
        differences = await db.fetchval(
            f"SELECT count(*) FROM {table} t FULL JOIN {view} v USING (id)"
            " WHERE (t.identifier, t.tenant_id, t.data)"
            " IS DISTINCT FROM (v.identifier, v.tenant_id, v.data)"
        )
        assert differences == 0, table
        counts[table] = await db.fetchval(f"SELECT count(*) FROM {table}")
    assert counts == {
        "tv_organisation": 2,
        "tv_user": 6,
        "tv_room": 4,
        "tv_message": len(MESSAGES),
        "tv_typing": 0,
    }
    bodies = await db.fetch("SELECT data->>'body' AS body FROM tv_message")
    assert {row["body"] for row in bodies} == {message[3] for message in MESSAGES}


async def test_the_seed_is_deterministic(db: asyncpg.Connection) -> None:
    general = await document(db, "tv_room", GENERAL)
    assert general["identifier"] == "general"
    assert [m["identifier"] for m in general["members"]] == ["alice", "bob", "carol"]
    assert general["member_count"] == 3
    first = await document(db, "tv_message", seed_uuid("message", "acme", "general", "1"))
    assert first == {
        "id": str(seed_uuid("message", "acme", "general", "1")),
        "identifier": "general-1",
        "number": 1,
        "body": "Good morning, everyone!",
        "created_at": first["created_at"],
        "room_id": str(GENERAL),
        "room": {"id": str(GENERAL), "identifier": "general", "name": "General"},
        "author": {"id": str(ALICE), "identifier": "alice", "name": "Alice Smith"},
    }
    assert first["created_at"].endswith("+00:00")


async def test_the_role_is_confined_on_every_table(db: asyncpg.Connection) -> None:
    assert await rls_problems(db, [*WRITE_TABLES, *READ_MODELS], APP_ROLE) == []
    views = await db.fetch(
        "SELECT relname, reloptions FROM pg_class WHERE relkind = 'v' AND relname LIKE 'v_tv_%'"
    )
    assert {row["relname"] for row in views} == set(VIEWS)
    assert all("security_invoker=true" in (row["reloptions"] or []) for row in views)
    owns = await db.fetchval("SELECT count(*) FROM pg_class WHERE relowner = $1::regrole", APP_ROLE)
    assert owns == 0


@pytest.mark.parametrize("tenant", [ACME, GLOBEX])
async def test_a_tenant_sees_its_own_rows_only(db: asyncpg.Connection, tenant: uuid.UUID) -> None:
    expected = {}
    for table in READ_MODELS:
        expected[table] = await db.fetchval(
            f"SELECT count(*) FROM {table} WHERE tenant_id = $1", tenant
        )
    await act_as(db, tenant, None)
    for table in READ_MODELS:
        rows = await db.fetch(f"SELECT tenant_id FROM {table}")
        assert {row["tenant_id"] for row in rows} <= {tenant}, table
        assert len(rows) == expected[table], table
    other = GLOBEX if tenant == ACME else ACME
    assert await db.fetchval("SELECT count(*) FROM tv_message WHERE tenant_id = $1", other) == 0
    organisations = await db.fetch("SELECT id FROM tb_organisation")
    assert [row["id"] for row in organisations] == [tenant]


async def test_without_a_tenant_claim_the_role_sees_nothing(db: asyncpg.Connection) -> None:
    await act_as(db, None, ALICE)
    for table in (*WRITE_TABLES, *READ_MODELS):
        assert await db.fetchval(f"SELECT count(*) FROM {table}") == 0, table
    refused = await call(db, "fn_post_message", room="general", body="hello?")
    assert refused["status"] == "forbidden"
    assert refused["errors"][0]["code"] == "unauthenticated"


# --- post_message ------------------------------------------------------------------------------


async def test_post_message_writes_syncs_and_notifies_at_commit(
    fresh_dsn: str, events: Events
) -> None:
    connection = await asyncpg.connect(fresh_dsn, server_settings={"TimeZone": "UTC"})
    try:
        async with connection.transaction():
            await act_as(connection, ACME, ALICE)
            result = await call(connection, "fn_post_message", room="general", body="Hello, chat")
            assert result["status"] == "success", result
            message_id = result["id"]
            row = await connection.fetchrow(
                "SELECT m.number, m.identifier, m.body, u.id AS author, r.id AS room"
                " FROM tb_message m JOIN tb_user u ON u.pk_user = m.fk_user"
                " JOIN tb_room r ON r.pk_room = m.fk_room WHERE m.id = $1",
                message_id,
            )
            assert dict(row) == {
                "number": 6,
                "identifier": "general-6",
                "body": "Hello, chat",
                "author": ALICE,
                "room": GENERAL,
            }
            synced = await document(connection, "tv_message", message_id)
            assert synced["body"] == "Hello, chat"
            assert synced["room_id"] == str(GENERAL)
            assert synced["number"] == 6
            assert synced["author"]["id"] == str(ALICE)
            tenant = await connection.fetchval(
                "SELECT tenant_id FROM tv_message WHERE id = $1", message_id
            )
            assert tenant == ACME
            await events.assert_silent()  # nothing before COMMIT
        assert await events.next() == {
            "entity": "message",
            "op": "insert",
            "ids": [str(message_id)],
        }
        await events.assert_silent()  # and exactly one notification
    finally:
        await connection.close()


async def test_a_rolled_back_post_notifies_nobody(fresh_dsn: str, events: Events) -> None:
    connection = await asyncpg.connect(fresh_dsn)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await act_as(connection, ACME, ALICE)
        undone = await call(connection, "fn_post_message", room="general", body="never sent")
        assert undone["status"] == "success"
        await transaction.rollback()
        async with connection.transaction():
            await act_as(connection, ACME, ALICE)
            kept = await call(connection, "fn_post_message", room="general", body="sent")
        # The first (and only) event is the committed post's: the rolled-back one sent nothing.
        assert await events.next() == {
            "entity": "message",
            "op": "insert",
            "ids": [str(kept["id"])],
        }
        await events.assert_silent()
        count = await connection.fetchval(
            "SELECT count(*) FROM tb_message WHERE id = $1", undone["id"]
        )
        assert count == 0
    finally:
        await connection.close()


async def test_messages_are_numbered_in_their_room(db: asyncpg.Connection) -> None:
    await act_as(db, ACME, ALICE)
    first = await call(db, "fn_post_message", room=str(GENERAL), body="one")
    second = await call(db, "fn_post_message", room="general", body="two")
    elsewhere = await call(db, "fn_post_message", room="random", body="three")
    numbers = [
        (await document(db, "tv_message", result["id"]))["identifier"]
        for result in (first, second, elsewhere)
    ]
    assert numbers == ["general-6", "general-7", "random-4"]


@pytest.mark.parametrize("body", HOSTILE)
async def test_hostile_bodies_are_stored_as_given(db: asyncpg.Connection, body: str) -> None:
    await act_as(db, ACME, ALICE)
    result = await call(db, "fn_post_message", room="general", body=body)
    assert result["status"] == "success"
    assert (await document(db, "tv_message", result["id"]))["body"] == body


async def test_posting_into_another_tenants_room_is_not_found(db: asyncpg.Connection) -> None:
    before = await db.fetchval("SELECT count(*) FROM tb_message")
    await act_as(db, ACME, ALICE)
    for room in (str(GLOBEX_GENERAL), "ops"):
        refused = await call(db, "fn_post_message", room=room, body="hi from acme")
        assert refused == {
            "status": "not_found",
            "id": None,
            "message": "No such room.",
            "errors": [{"field": "room", "message": "No such room.", "code": "not_found"}],
        }
    # A user of the other tenant cannot act in this one either: it is nobody here.
    await act_as(db, ACME, GLOBEX_DAVE)
    refused = await call(db, "fn_post_message", room="general", body="hi from globex")
    assert refused["status"] == "forbidden"
    assert refused["errors"][0]["code"] == "unauthenticated"
    await db.execute("RESET ROLE")
    assert await db.fetchval("SELECT count(*) FROM tb_message") == before


@pytest.mark.parametrize(
    ("user", "room", "body", "status", "field", "code"),
    [
        (ALICE, "general", "", "validation_error", "body", "required"),
        (ALICE, "general", " \n\t ", "validation_error", "body", "required"),
        (ALICE, "general", None, "validation_error", "body", "required"),
        (ALICE, "general", "x" * 4001, "validation_error", "body", "too_long"),
        (ALICE, "no-such-room", "hello", "not_found", "room", "not_found"),
        (ALICE, str(uuid.UUID(int=1)), "hello", "not_found", "room", "not_found"),
        (ALICE, None, "hello", "not_found", "room", "not_found"),
        (CAROL, "random", "hello", "forbidden", "room", "not_a_member"),
        (None, "general", "hello", "forbidden", None, "unauthenticated"),
    ],
)
async def test_bad_posts_are_refused(
    db: asyncpg.Connection,
    user: uuid.UUID | None,
    room: str | None,
    body: str | None,
    status: str,
    field: str | None,
    code: str,
) -> None:
    await act_as(db, ACME, user)
    before = await db.fetchval("SELECT count(*) FROM tb_message")
    refused = await call(db, "fn_post_message", room=room, body=body)
    assert refused["status"] == status
    assert refused["id"] is None
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [(field, code)]
    assert await db.fetchval("SELECT count(*) FROM tb_message") == before


async def test_a_body_of_4000_characters_is_accepted(db: asyncpg.Connection) -> None:
    await act_as(db, ACME, ALICE)
    result = await call(db, "fn_post_message", room="general", body="é" * 4000)
    assert result["status"] == "success"


# --- rooms and typing --------------------------------------------------------------------------


async def test_create_and_join_rooms(db: asyncpg.Connection) -> None:
    await act_as(db, ACME, ALICE)
    created = await call(db, "fn_create_room", identifier="design", name="Design", topic="Pixels")
    assert created["status"] == "success"
    room = await document(db, "tv_room", created["id"])
    assert (room["identifier"], room["name"], room["topic"]) == ("design", "Design", "Pixels")
    assert room["created_by"]["id"] == str(ALICE)
    assert [m["id"] for m in room["members"]] == [str(ALICE)]
    duplicate = await call(db, "fn_create_room", identifier="design", name="Again")
    assert (duplicate["status"], duplicate["id"]) == ("conflict", created["id"])
    invalid = await call(db, "fn_create_room", identifier="Not A Slug", name="Bad")
    assert (invalid["status"], invalid["errors"][0]["field"]) == ("validation_error", "identifier")
    # Room identifiers are unique per organisation: globex may have its own "design".
    await act_as(db, GLOBEX, GLOBEX_DAVE)
    theirs = await call(db, "fn_create_room", identifier="design", name="Globex design")
    assert theirs["status"] == "success" and theirs["id"] != created["id"]
    await act_as(db, ACME, CAROL)
    refused = await call(db, "fn_post_message", room="design", body="may I?")
    assert refused["status"] == "forbidden"
    joined = await call(db, "fn_join_room", room="design")
    assert (joined["status"], joined["id"]) == ("success", created["id"])
    assert (await document(db, "tv_room", created["id"]))["member_count"] == 2
    again = await call(db, "fn_join_room", room="design")
    assert again["status"] == "noop"
    posted = await call(db, "fn_post_message", room="design", body="thanks")
    assert posted["status"] == "success"
    missing = await call(db, "fn_join_room", room=str(GLOBEX_GENERAL))
    assert missing["status"] == "not_found"


async def test_set_typing_upserts_and_notifies(fresh_dsn: str, events: Events) -> None:
    connection = await asyncpg.connect(fresh_dsn, server_settings={"TimeZone": "UTC"})
    results = []
    try:
        for typing in (True, True, False, False):
            async with connection.transaction():
                await act_as(connection, ACME, ALICE)
                results.append(
                    await call(connection, "fn_set_typing", room="general", typing=typing)
                )
        assert [r["status"] for r in results] == ["success", "success", "success", "noop"]
        typing_id = results[0]["id"]
        assert all(r["id"] == typing_id for r in results)
        ops = [await events.next() for _ in range(3)]
        assert ops == [
            {"entity": "typing", "op": op, "ids": [str(typing_id)]}
            for op in ("insert", "update", "update")
        ]
        await events.assert_silent()  # the noop sent nothing
        row = await document(connection, "tv_typing", typing_id)
        assert row["room_id"] == str(GENERAL)
        assert row["user"] == {"id": str(ALICE), "identifier": "alice", "name": "Alice Smith"}
        stopped = await connection.fetchval(
            "SELECT fraiseql_timestamptz(data->>'expires_at') <= now() FROM tv_typing WHERE id = $1",
            typing_id,
        )
        assert stopped is True
        count = await connection.fetchval("SELECT count(*) FROM tb_typing")
        assert count == 1
    finally:
        await connection.close()


async def test_typing_needs_membership(db: asyncpg.Connection) -> None:
    await act_as(db, ACME, CAROL)
    refused = await call(db, "fn_set_typing", room="random")
    assert (refused["status"], refused["errors"][0]["code"]) == ("forbidden", "not_a_member")
    result = await call(db, "fn_set_typing", room="general")  # typing defaults to true
    assert result["status"] == "success"
    active = await db.fetchval(
        "SELECT fraiseql_timestamptz(data->>'expires_at') > now() FROM tv_typing WHERE id = $1",
        result["id"],
    )
    assert active is True
