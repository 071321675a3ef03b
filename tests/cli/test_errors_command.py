"""``fraiseql errors``: install the table, list what was recorded, change statuses."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator

import asyncpg
import orjson
import pytest
from tests.conftest import temporary_database
from typer.testing import CliRunner

from fraiseql.cli.main import app
from fraiseql.observability.error_store import ErrorRow, write_errors

runner = CliRunner()


@pytest.fixture
async def errors_dsn(server_dsn: str) -> AsyncIterator[str]:
    async with temporary_database(server_dsn) as dsn:
        yield dsn


def row(fingerprint: str, category: str, code: str, message: str) -> ErrorRow:
    return ErrorRow(
        fingerprint=fingerprint, category=category, code=code, message=message,
        sqlstate="42P01" if category == "system" else None, operation_name="Q",
        document_hash="abc", path="posts.0", variables={"x": "[REDACTED]"}, trace_id=None,
        error_id=None, seen=datetime.datetime.now(datetime.UTC),
    )  # fmt: skip


async def invoke(*arguments: str) -> tuple[int, str]:
    # The command runs its own event loop: give it a thread of its own.
    result = await asyncio.to_thread(runner.invoke, app, ["errors", *arguments])
    return result.exit_code, result.output


async def test_install_list_and_resolve(errors_dsn: str) -> None:
    code, output = await invoke("list", "-d", errors_dsn)
    assert code != 0 and "fraiseql errors install" in output
    code, output = await invoke("install", "-d", errors_dsn)
    assert code == 0, output
    assert (await invoke("list", "-d", errors_dsn)) == (0, "No errors.\n")
    connection = await asyncpg.connect(errors_dsn)
    try:
        await write_errors(
            connection,
            [
                row("aa" * 16, "system", "INTERNAL_SERVER_ERROR", "UndefinedTableError: x"),
                row("bb" * 16, "user", "BAD_USER_INPUT", "bad limit"),
                row("bb" * 16, "user", "BAD_USER_INPUT", "bad limit"),
            ],
        )
    finally:
        await connection.close()
    code, output = await invoke("list", "-d", errors_dsn)
    assert code == 0, output
    lines = output.splitlines()
    assert len(lines) == 2
    assert any(line.startswith("bbbbbbbbbbbb  open     user") and "2x" in line for line in lines)
    assert any("sqlstate=42P01" in line for line in lines)
    code, output = await invoke("list", "-d", errors_dsn, "--category", "system", "--json")
    [item] = [orjson.loads(line) for line in output.splitlines()]
    assert item["fingerprint"] == "aa" * 16 and item["occurrences"] == 1
    assert (await invoke("resolve", "bbbbbbbb", "-d", errors_dsn))[0] == 0
    code, output = await invoke("list", "-d", errors_dsn, "--status", "resolved")
    assert output.startswith("bbbbbbbbbbbb  resolved")
    code, output = await invoke("resolve", "cccccccc", "-d", errors_dsn)
    assert code == 1 and "No error matches" in output
    code, output = await invoke("list", "-d", errors_dsn, "--status", "bogus")
    assert code != 0 and "--status must be one of" in output


async def test_a_database_url_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRAISEQL_DATABASE_URL", raising=False)
    code, output = await invoke("list")
    assert code != 0 and "FRAISEQL_DATABASE_URL" in output
    code, output = await invoke("list", "-d", "postgresql://nobody@127.0.0.1:1/none")
    assert code != 0 and "cannot connect" in output
