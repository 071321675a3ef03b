"""Fixtures of the event-sourcing example's tests: a seeded database per test module."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
import pytest
from examples.event_sourcing.database import load_schema
from examples.event_sourcing.seed import seed
from tests.conftest import temporary_database

ACTOR = "tester"


@pytest.fixture(scope="module")
async def events_dsn(server_dsn: str) -> AsyncIterator[str]:
    """A database with the example's schema and seed, shared by one module's tests.

    Tests that write open accounts of their own (:func:`new_identifier`), so that they do not
    depend on each other's order.
    """
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn)
        yield dsn


@pytest.fixture
async def connection(events_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to the module's database."""
    connection = await asyncpg.connect(events_dsn)
    try:
        yield connection
    finally:
        await connection.close()


def new_identifier(prefix: str = "acct") -> str:
    """A fresh account identifier."""
    return f"{prefix}-{secrets.token_hex(4)}"


async def command(
    connection: asyncpg.Connection,
    function: str,
    arguments: dict[str, Any],
    actor: str | None = ACTOR,
) -> dict[str, Any]:
    """Run a command function in its own transaction, as the app would, with the actor claim.

    Like FraiseQL, it keeps the writes only when the status is success or noop.
    """
    transaction = connection.transaction()
    await transaction.start()
    try:
        await connection.execute("SELECT set_config('app.actor', $1, true)", actor or "")
        row = await connection.fetchrow(
            f"SELECT status, id, message, errors::text FROM {function}($1::jsonb)",
            orjson.dumps(arguments).decode(),
        )
    except BaseException:
        await transaction.rollback()
        raise
    assert row is not None
    if row["status"] in ("success", "noop"):
        await transaction.commit()
    else:
        await transaction.rollback()
    return {
        "status": row["status"],
        "id": row["id"],
        "message": row["message"],
        "errors": orjson.loads(row["errors"]),
    }


async def open_account(
    connection: asyncpg.Connection, identifier: str | None = None, deposit: str | None = None
) -> str:
    """Open an account (and deposit into it); its identifier."""
    identifier = identifier or new_identifier()
    opened = await command(
        connection, "fn_open_account", {"identifier": identifier, "owner": "Test Owner"}
    )
    assert opened["status"] == "success", opened
    if deposit is not None:
        paid = await command(connection, "fn_deposit", {"account": identifier, "amount": deposit})
        assert paid["status"] == "success", paid
    return identifier


async def dump_read_models(connection: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every tv_* row and snapshot as text, in a fixed order: what a replay must reproduce."""
    return {
        "tv_account": [
            tuple(row)
            for row in await connection.fetch(
                "SELECT id::text, identifier, version, data::text FROM tv_account ORDER BY id"
            )
        ],
        "tv_daily_activity": [
            tuple(row)
            for row in await connection.fetch(
                "SELECT id::text, identifier, data::text FROM tv_daily_activity ORDER BY id"
            )
        ],
        "tb_snapshot": [
            tuple(row)
            for row in await connection.fetch(
                "SELECT fk_stream, version, state::text FROM tb_snapshot"
                " ORDER BY fk_stream, version"
            )
        ],
    }
