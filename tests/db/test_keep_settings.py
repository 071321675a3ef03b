"""Settings kept on pooled sessions (``keep_settings``): fewer round trips, never another
request's settings.

The notes read model of ``tests/subscriptions/support.py``: a policy shows a role only the notes
of the tenant in ``app.tenant_id``, requests run as its app role. Each test counts the
statements every request runs and compares every answer with a schema that sets its settings
transaction-locally (the default).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from tests.conftest import temporary_database
from tests.subscriptions.support import APP_ROLE, TENANT_A, TENANT_B, Note, load, note, write_note

import fraiseql
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.db.session import RequestSession
from fraiseql.db.session_state import changes, covering, remember

NOTES = "query($id: UUID) { note(id: $id) { id title } }"


@fraiseql.query
async def notes(info: fraiseql.Info) -> list[Note]:
    """Every note the request may see."""
    ...


@fraiseql.query
async def settings_seen(info: fraiseql.Info) -> str:
    """What the request's transaction runs with: role, tenant, user."""
    connection = await info.repository.session.connection()
    row = await connection.fetchrow(
        "SELECT current_user AS role, current_setting('app.tenant_id', true) AS tenant, "
        "current_setting('app.user_id', true) AS user_id"
    )
    return f"{row['role']}|{row['tenant'] or ''}|{row['user_id'] or ''}"


def claims(context: dict[str, Any]) -> dict[str, Any]:
    """The tenant always; the user only when the request names one."""
    found = {"app.tenant_id": context.get("tenant_id")}
    if context.get("user_id"):
        found["app.user_id"] = context["user_id"]
    return found


def role(context: dict[str, Any]) -> str | None:
    """A request may ask to run as the login role's app role or by default."""
    return context.get("role")


class Counted:
    """A schema on its own pool, counting the statements it runs."""

    def __init__(self, dsn: str, *, keep: bool, size: int = 1) -> None:
        self.database = Database(
            PoolSettings(dsn=dsn, min_size=1, max_size=size, keep_settings=keep),
            observe_statements=True,
        )
        self.statements: list[str] = []
        self.database.statement_observers.append(self.statements.append)
        self.schema = fraiseql.Schema(
            types=[Note],
            queries=[note, notes, settings_seen],
            database=self.database,
            session=fraiseql.SessionSettings(claims=claims, role=APP_ROLE, role_from=role),
        )

    async def ask(self, query: str, **context: Any) -> tuple[Any, int]:
        """The answer and how many statements it took."""
        before = len(self.statements)
        answer = await self.schema.run(query, context=context)
        return answer, len(self.statements) - before


@pytest.fixture(scope="module")
async def notes_dsn(server_dsn: str) -> AsyncIterator[str]:
    """A database with two tenants' notes."""
    async with temporary_database(server_dsn) as dsn:
        await load(dsn)
        connection = await asyncpg.connect(dsn)
        try:
            for n in range(3):
                await write_note(connection, TENANT_A, title=f"a{n}", notify=False)
                await write_note(connection, TENANT_B, title=f"b{n}", notify=False)
        finally:
            await connection.close()
        yield dsn


async def _opened(counted: Counted) -> Counted:
    await counted.schema.open()
    return counted


def test_only_what_differs_is_set_and_what_is_missing_is_reset() -> None:
    kept = {"role": "app", "app.tenant_id": "a", "app.user_id": "u"}
    wanted = [("role", "app"), ("app.tenant_id", "b")]
    assert changes(kept, wanted, 30_000) == [("app.tenant_id", "b"), ("app.user_id", "")]
    assert covering(kept, wanted, 30_000) == [*wanted, ("app.user_id", "")]
    assert changes(kept, [], 30_000) == [
        ("role", "none"),
        ("app.tenant_id", ""),
        ("app.user_id", ""),
    ]
    remember(kept, changes(kept, wanted, 30_000), 30_000)
    assert kept == {"role": "app", "app.tenant_id": "b"}
    kept["statement_timeout"] = "50"
    remember(kept, [("statement_timeout", "30000")], 30_000)
    assert "statement_timeout" not in kept


async def test_a_tenants_second_read_is_one_statement(notes_dsn: str) -> None:
    kept = await _opened(Counted(notes_dsn, keep=True))
    plain = await _opened(Counted(notes_dsn, keep=False))
    try:
        for tenant, expected in ((TENANT_A, 2), (TENANT_A, 1), (TENANT_B, 2), (TENANT_B, 1)):
            answer, statements = await kept.ask("{ notes { title } }", tenant_id=tenant)
            assert statements == expected, kept.statements[-statements:]
            assert answer == (await plain.ask("{ notes { title } }", tenant_id=tenant))[0]
            assert {n["title"][0] for n in answer["data"]["notes"]} == {
                TENANT_A: {"a"},
                TENANT_B: {"b"},
            }[tenant]
        # The default: BEGIN, set_config, the read, COMMIT every time.
        assert (await plain.ask("{ notes { title } }", tenant_id=TENANT_A))[1] == 4
        # No tenant: the kept one is reset, the policy shows nothing.
        answer, statements = await kept.ask("{ notes { title } }")
        assert (answer, statements) == ({"data": {"notes": []}}, 2)
    finally:
        await kept.schema.close()
        await plain.schema.close()


async def test_a_transactional_request_sees_only_its_own_settings(notes_dsn: str) -> None:
    kept = await _opened(Counted(notes_dsn, keep=True))
    try:
        await kept.ask("{ notes { id } }", tenant_id=TENANT_A, user_id="u-1")
        # A custom resolver runs in a transaction: its settings override the kept ones, and the
        # kept user is reset for it (this request names none).
        answer, _ = await kept.ask("{ settingsSeen }", tenant_id=TENANT_B)
        assert answer == {"data": {"settingsSeen": f"{APP_ROLE}|{TENANT_B}|"}}
        # The session still keeps A (transaction-local settings ended with the transaction).
        answer, statements = await kept.ask(
            "{ notes { title } }", tenant_id=TENANT_A, user_id="u-1"
        )
        assert statements == 1
        assert {n["title"][0] for n in answer["data"]["notes"]} == {"a"}
    finally:
        await kept.schema.close()


async def test_other_users_of_the_pool_get_a_clean_connection(notes_dsn: str) -> None:
    kept = await _opened(Counted(notes_dsn, keep=True))
    try:
        await kept.ask("{ notes { id } }", tenant_id=TENANT_A, user_id="u-1")
        async with kept.database.pool.acquire() as connection:
            row = await connection.fetchrow(
                "SELECT current_user AS role, session_user AS login, "
                "coalesce(current_setting('app.tenant_id', true), '') AS tenant, "
                "coalesce(current_setting('app.user_id', true), '') AS user_id"
            )
        assert (row["role"], row["tenant"], row["user_id"]) == (row["login"], "", "")
        # Cleaned, so the next request sets its settings again.
        assert (await kept.ask("{ notes { id } }", tenant_id=TENANT_A))[1] == 2
    finally:
        await kept.schema.close()


async def test_a_refused_setting_changes_nothing(notes_dsn: str) -> None:
    kept = await _opened(Counted(notes_dsn, keep=True))
    try:
        await kept.ask("{ notes { id } }", tenant_id=TENANT_A)
        answer, _ = await kept.ask("{ notes { id } }", tenant_id=TENANT_B, role="no_such_role")
        assert "errors" in answer
        answer, statements = await kept.ask("{ notes { title } }", tenant_id=TENANT_A)
        assert statements == 1  # still A, as before the refused request
        assert {n["title"][0] for n in answer["data"]["notes"]} == {"a"}
    finally:
        await kept.schema.close()


async def test_random_requests_answer_as_with_transaction_local_settings(notes_dsn: str) -> None:
    """300 requests, tenants, users and kinds drawn at random, over two pooled connections."""
    kept = await _opened(Counted(notes_dsn, keep=True, size=2))
    plain = await _opened(Counted(notes_dsn, keep=False, size=2))
    draw = random.Random(7)
    try:
        for _ in range(300):
            context: dict[str, Any] = {"tenant_id": draw.choice([TENANT_A, TENANT_B, None])}
            if draw.random() < 0.3:
                context["user_id"] = draw.choice(["u-1", "u-2"])
            query = draw.choice(["{ notes { title } }", "{ settingsSeen }", "{ notes { id } }"])
            assert (await kept.ask(query, **context))[0] == (await plain.ask(query, **context))[0]
        saved = len(plain.statements) - len(kept.statements)
        assert saved > 300  # at least one round trip saved per request on average
    finally:
        await kept.schema.close()
        await plain.schema.close()


async def test_a_session_without_settings_on_a_keeping_pool_is_reset(notes_dsn: str) -> None:
    database = Database(PoolSettings(dsn=notes_dsn, max_size=1, keep_settings=True))
    await database.open()
    try:
        async with RequestSession(
            database, transactional=False, settings=[("app.tenant_id", TENANT_A)]
        ) as session:
            connection = await session.connection()
            assert await connection.fetchval("SELECT current_setting('app.tenant_id')") == TENANT_A
        async with RequestSession(database, transactional=False, settings=[]) as session:
            connection = await session.connection()
            assert await connection.fetchval("SELECT current_setting('app.tenant_id', true)") in (
                "",
                None,
            )
    finally:
        await database.close()
