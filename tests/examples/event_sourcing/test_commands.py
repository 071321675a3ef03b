"""The commands of the event-sourcing example, called as SQL functions: what they append, what
they refuse, and that a refusal writes nothing."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson
import pytest
from examples.event_sourcing.database import CONTRACT_FILE, contract_file_text
from examples.event_sourcing.seed import SCRIPT, seed_uuid

from .conftest import command, new_identifier, open_account


async def _counts(connection: asyncpg.Connection) -> tuple[int, int, str]:
    events = await connection.fetchval("SELECT count(*) FROM tb_event")
    streams = await connection.fetchval("SELECT count(*) FROM tb_stream")
    accounts = await connection.fetchval(
        "SELECT string_agg(data::text, ',' ORDER BY id) FROM tv_account"
    )
    return events, streams, accounts


async def _account(connection: asyncpg.Connection, identifier: str) -> dict[str, Any]:
    row = await connection.fetchrow(
        "SELECT version, data FROM tv_account WHERE identifier = $1", identifier
    )
    assert row is not None
    return {"version": row["version"], **orjson.loads(row["data"])}


def test_the_generated_contract_file_is_current() -> None:
    assert CONTRACT_FILE.read_text(encoding="utf-8") == contract_file_text()


async def test_the_seed_ran_every_command(connection: asyncpg.Connection) -> None:
    assert await connection.fetchval("SELECT count(*) FROM tb_event") == len(SCRIPT)
    dave = await connection.fetchrow(
        "SELECT version, data->>'balance' AS balance, data->>'owner' AS owner"
        " FROM tv_account WHERE id = $1",
        seed_uuid("dave-business"),
    )
    assert dave["version"] == 13
    assert dave["balance"] == "500000053.99"
    assert dave["owner"] == "Robert'); DROP TABLE tb_event; --"


async def test_a_command_appends_one_event_and_projects_it(
    connection: asyncpg.Connection,
) -> None:
    identifier = await open_account(connection)
    result = await command(
        connection, "fn_deposit", {"account": identifier, "amount": "10.5", "expected_version": 1}
    )
    assert result["status"] == "success"
    events = await connection.fetch(
        "SELECT e.version, e.event_type, e.payload::text, e.actor FROM tb_event e"
        " JOIN tb_stream s ON s.pk_stream = e.fk_stream WHERE s.identifier = $1"
        " ORDER BY e.version",
        identifier,
    )
    assert [tuple(e) for e in events] == [
        (
            1,
            "AccountOpened",
            f'{{"owner": "Test Owner", "currency": "EUR", "identifier": "{identifier}"}}',
            "tester",
        ),
        (2, "MoneyDeposited", '{"amount": "10.50"}', "tester"),
    ]
    account = await _account(connection, identifier)
    assert account["version"] == 2 and account["balance"] == "10.50"
    assert account["status"] == "open" and account["deposit_count"] == 1
    assert str(result["id"]) == account["id"]


async def test_refusals_answer_with_a_status_and_write_nothing(
    connection: asyncpg.Connection,
) -> None:
    identifier = await open_account(connection, deposit="100.00")
    closed = await open_account(connection)
    assert (await command(connection, "fn_close_account", {"account": closed}))[
        "status"
    ] == "success"
    before = await _counts(connection)
    cases: list[tuple[str, dict[str, Any], str, str | None, str | None]] = [
        # (function, input, status, field, code)
        (
            "fn_withdraw",
            {"account": identifier, "amount": "100.01"},
            "validation_error",
            "amount",
            "insufficient_funds",
        ),
        (
            "fn_deposit",
            {"account": identifier, "amount": "1", "expected_version": 1},
            "conflict",
            "expected_version",
            "stale_version",
        ),
        (
            "fn_deposit",
            {"account": closed, "amount": "1"},
            "validation_error",
            "account",
            "account_closed",
        ),
        (
            "fn_withdraw",
            {"account": closed, "amount": "1"},
            "validation_error",
            "account",
            "account_closed",
        ),
        (
            "fn_close_account",
            {"account": identifier},
            "validation_error",
            "account",
            "balance_not_zero",
        ),
        (
            "fn_deposit",
            {"account": "nobody-here", "amount": "1"},
            "not_found",
            "account",
            "not_found",
        ),
        (
            "fn_deposit",
            {"account": str(seed_uuid("nobody")), "amount": "1"},
            "not_found",
            "account",
            "not_found",
        ),
        ("fn_deposit", {"amount": "1"}, "validation_error", "account", "required"),
        (
            "fn_deposit",
            {"account": identifier, "amount": "-5"},
            "validation_error",
            "amount",
            "not_positive",
        ),
        (
            "fn_deposit",
            {"account": identifier, "amount": 0},
            "validation_error",
            "amount",
            "not_positive",
        ),
        (
            "fn_deposit",
            {"account": identifier, "amount": "1e30"},
            "validation_error",
            "amount",
            "too_large",
        ),
        (
            "fn_deposit",
            {"account": identifier, "amount": "1000000000.01"},
            "validation_error",
            "amount",
            "too_large",
        ),
        (
            "fn_deposit",
            {"account": identifier, "amount": "9" * 2000},
            "validation_error",
            "amount",
            "too_large",
        ),
        (
            "fn_deposit",
            {"account": identifier, "amount": "1e999999"},
            "validation_error",
            "amount",
            "invalid",
        ),
        (
            "fn_deposit",
            {"account": identifier, "amount": "NaN"},
            "validation_error",
            "amount",
            "invalid",
        ),
        (
            "fn_deposit",
            {"account": identifier, "amount": "Infinity"},
            "validation_error",
            "amount",
            "invalid",
        ),
        (
            "fn_deposit",
            {"account": identifier, "amount": "ten"},
            "validation_error",
            "amount",
            "invalid",
        ),
        (
            "fn_deposit",
            {"account": identifier, "amount": [1]},
            "validation_error",
            "amount",
            "invalid",
        ),
        ("fn_deposit", {"account": identifier}, "validation_error", "amount", "required"),
        (
            "fn_deposit",
            {"account": identifier, "amount": "0.001"},
            "validation_error",
            "amount",
            "scale",
        ),
        (
            "fn_deposit",
            {"account": identifier, "amount": "1", "expected_version": -1},
            "validation_error",
            "expected_version",
            "invalid",
        ),
        (
            "fn_deposit",
            {"account": identifier, "amount": "1", "expected_version": "2"},
            "validation_error",
            "expected_version",
            "invalid",
        ),
        (
            "fn_open_account",
            {"identifier": identifier, "owner": "Again"},
            "conflict",
            "identifier",
            "taken",
        ),
        (
            "fn_open_account",
            {"identifier": "Bad Name", "owner": "X"},
            "validation_error",
            "identifier",
            "invalid",
        ),
        (
            "fn_open_account",
            {"identifier": str(seed_uuid("x")), "owner": "X"},
            "validation_error",
            "identifier",
            "invalid",
        ),
        (
            "fn_open_account",
            {"identifier": new_identifier(), "owner": "  "},
            "validation_error",
            "owner",
            "required",
        ),
        (
            "fn_open_account",
            {"identifier": new_identifier(), "owner": "O" * 201},
            "validation_error",
            "owner",
            "too_long",
        ),
        (
            "fn_open_account",
            {"identifier": new_identifier(), "owner": "X", "currency": "eur"},
            "validation_error",
            "currency",
            "invalid",
        ),
        (
            "fn_open_account",
            {"identifier": new_identifier(), "owner": "X", "id": str(seed_uuid("alice-checking"))},
            "conflict",
            "id",
            "taken",
        ),
    ]
    for function, arguments, status, field, code in cases:
        result = await command(connection, function, arguments)
        assert result["status"] == status, (function, arguments, result)
        assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, code)], result
        assert result["message"]
    assert await _counts(connection) == before
    account = await _account(connection, identifier)
    assert account["balance"] == "100.00" and account["version"] == 2


async def test_a_command_without_an_actor_is_forbidden(connection: asyncpg.Connection) -> None:
    identifier = await open_account(connection)
    before = await _counts(connection)
    for function, arguments in [
        ("fn_deposit", {"account": identifier, "amount": "1"}),
        ("fn_open_account", {"identifier": new_identifier(), "owner": "X"}),
    ]:
        result = await command(connection, function, arguments, actor=None)
        assert result["status"] == "forbidden"
    assert await _counts(connection) == before


async def test_closing_twice_is_a_noop(connection: asyncpg.Connection) -> None:
    identifier = await open_account(connection)
    assert (await command(connection, "fn_close_account", {"account": identifier}))[
        "status"
    ] == "success"
    before = await _counts(connection)
    again = await command(connection, "fn_close_account", {"account": identifier})
    assert again["status"] == "noop"
    assert await _counts(connection) == before


async def test_the_store_refuses_updates_and_deletes_to_everyone(
    connection: asyncpg.Connection,
) -> None:
    for statement in (
        "UPDATE tb_event SET actor = 'someone else'",
        "DELETE FROM tb_event",
        "TRUNCATE tb_event CASCADE",
        "UPDATE tb_stream SET identifier = 'x'",
        "DELETE FROM tb_stream",
    ):
        with pytest.raises(asyncpg.PostgresError, match="append-only") as raised:
            await connection.execute(statement)
        assert raised.value.sqlstate == "EV001"
    async with connection.transaction():
        await connection.execute("SET LOCAL ROLE events_app")
        for statement in ("UPDATE tb_event SET actor = 'x'", "DELETE FROM tb_event"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with connection.transaction():
                    await connection.execute(statement)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with connection.transaction():
                await connection.execute("SELECT fn_catch_up('account')")
    assert await connection.fetchval("SELECT count(*) FROM tb_event WHERE actor = 'x'") == 0


async def test_the_app_role_can_run_every_command(connection: asyncpg.Connection) -> None:
    identifier = new_identifier()
    async with connection.transaction():
        await connection.execute("SET LOCAL ROLE events_app")
        await connection.execute("SELECT set_config('app.actor', 'role-test', true)")
        steps = (
            [
                ("fn_open_account", f'{{"identifier": "{identifier}", "owner": "R"}}'),
            ]
            + [("fn_deposit", f'{{"account": "{identifier}", "amount": "2"}}')] * 5
            + [
                ("fn_withdraw", f'{{"account": "{identifier}", "amount": "10"}}'),
                ("fn_close_account", f'{{"account": "{identifier}"}}'),
            ]
        )
        for function, arguments in steps:
            status = await connection.fetchval(
                f"SELECT status FROM {function}($1::jsonb)", arguments
            )
            assert status == "success", function
        snapshots = await connection.fetchval(
            "SELECT count(*) FROM tb_snapshot sn JOIN tb_stream s ON s.pk_stream = sn.fk_stream"
            " WHERE s.identifier = $1",
            identifier,
        )
        assert snapshots == 1  # version 5
