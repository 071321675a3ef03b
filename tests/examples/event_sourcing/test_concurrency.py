"""Optimistic concurrency on two real connections: two commands that read the same version
race to append the next one, and exactly one of them wins."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import orjson
import pytest

from .conftest import ACTOR, command, open_account


@pytest.fixture
async def second(events_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """Another connection to the module's database."""
    connection = await asyncpg.connect(events_dsn)
    try:
        yield connection
    finally:
        await connection.close()


async def _wait_until_blocked(watcher: asyncpg.Connection, pid: int) -> None:
    """Wait until backend ``pid`` waits for a lock (here: the first writer's index entry)."""
    deadline = time.monotonic() + 10
    while True:
        waiting = await watcher.fetchval(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid
        )
        if waiting:
            return
        assert time.monotonic() < deadline, "the second command never waited for the first"
        await asyncio.sleep(0.01)


async def _race(
    first: asyncpg.Connection,
    second: asyncpg.Connection,
    identifier: str,
    expected_version: int | None,
) -> tuple[str, dict[str, object]]:
    """The first command appends and holds its transaction open; the second, started then,
    reads the same version and must wait on the unique key; the first commits."""
    arguments: dict[str, object] = {"account": identifier, "amount": "30"}
    if expected_version is not None:
        arguments["expected_version"] = expected_version
    transaction = first.transaction()
    await transaction.start()
    try:
        await first.execute("SELECT set_config('app.actor', $1, true)", ACTOR)
        status = await first.fetchval(
            "SELECT status FROM fn_withdraw($1::jsonb)", orjson.dumps(arguments).decode()
        )
        racing = asyncio.ensure_future(command(second, "fn_withdraw", arguments))
        await _wait_until_blocked(first, second.get_server_pid())
    finally:
        await transaction.commit()
    return status, await racing


async def test_the_same_expected_version_lets_exactly_one_append(
    connection: asyncpg.Connection, second: asyncpg.Connection
) -> None:
    identifier = await open_account(connection, deposit="50")
    winner, loser = await _race(connection, second, identifier, expected_version=2)
    assert winner == "success"
    assert loser["status"] == "conflict"
    assert [(e["field"], e["code"]) for e in loser["errors"]] == [
        ("expected_version", "concurrent_write")
    ]
    versions = await connection.fetch(
        "SELECT e.version, e.event_type FROM tb_event e JOIN tb_stream s"
        " ON s.pk_stream = e.fk_stream WHERE s.identifier = $1 ORDER BY e.version",
        identifier,
    )
    assert [tuple(v) for v in versions] == [
        (1, "AccountOpened"),
        (2, "MoneyDeposited"),
        (3, "MoneyWithdrawn"),
    ]
    balance = await connection.fetchval(
        "SELECT data->>'balance' FROM tv_account WHERE identifier = $1", identifier
    )
    assert balance == "20.00"


async def test_without_an_expected_version_the_key_still_prevents_an_overdraft(
    connection: asyncpg.Connection, second: asyncpg.Connection
) -> None:
    # Both withdrawals of 30 from 50 pass the balance check on the state they read; without
    # the unique key both would be appended and the balance would be -10.
    identifier = await open_account(connection, deposit="50")
    winner, loser = await _race(connection, second, identifier, expected_version=None)
    assert winner == "success" and loser["status"] == "conflict"
    retried = await command(second, "fn_withdraw", {"account": identifier, "amount": "30"})
    assert retried["status"] == "validation_error"
    assert retried["errors"][0]["code"] == "insufficient_funds"
    assert (
        await connection.fetchval(
            "SELECT data->>'balance' FROM tv_account WHERE identifier = $1", identifier
        )
        == "20.00"
    )


async def test_many_concurrent_deposits_with_one_version_give_one_success(
    events_dsn: str, connection: asyncpg.Connection
) -> None:
    identifier = await open_account(connection)
    connections = [await asyncpg.connect(events_dsn) for _ in range(4)]
    try:
        results = await asyncio.gather(
            *(
                command(
                    c, "fn_deposit", {"account": identifier, "amount": "1", "expected_version": 1}
                )
                for c in connections
            )
        )
    finally:
        for c in connections:
            await c.close()
    statuses = sorted(r["status"] for r in results)
    assert statuses == ["conflict"] * 3 + ["success"]
    assert (
        await connection.fetchval(
            "SELECT version FROM tv_account WHERE identifier = $1", identifier
        )
        == 2
    )
