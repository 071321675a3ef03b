"""``fraiseql migrate``: the commands and their exit codes (0 done, 1 differences, 2 error,
3 refused)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from tests.conftest import temporary_database
from tests.migrations.project import columns, execute, write_project
from typer.testing import CliRunner

from fraiseql.cli.main import app
from fraiseql.cli.migrate import EXIT_DIFFERENCES, EXIT_ERROR, EXIT_REFUSED


def _run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["migrate", *map(str, args)])
    return result.exit_code, result.output


async def test_the_commands_and_their_exit_codes(server_dsn: str, tmp_path: Path) -> None:
    schema = write_project(tmp_path)
    history = tmp_path / "db" / "migrations"
    dirs = ("--schema-dir", schema, "--migrations-dir", history)
    async with temporary_database(server_dsn) as dsn:
        code, out = _run("build", "--database-url", dsn, *dirs)
        assert code == 0 and "2 files" in out, out
        code, out = _run("build", "--database-url", dsn, *dirs)  # not empty: tb_note exists
        assert code == EXIT_ERROR and "already exists" in out, out
        assert _run("build", "--database-url", dsn, *dirs, "--drop-schemas")[0] == 0

        code, out = _run("diff", "--database-url", dsn, "--schema-dir", schema)
        assert code == 0 and "in sync" in out, out

        write_project(tmp_path, extra=",\n    body text")
        code, out = _run("diff", "--database-url", dsn, "--schema-dir", schema)
        assert code == EXIT_DIFFERENCES and "missing_column" in out, out
        code, out = _run("generate", "add_body", "--database-url", dsn, *dirs)
        assert code == 0 and "add_body.up.sql" in out, out
        code, out = _run("generate", "add_body", "--empty", "--migrations-dir", history)
        assert code == EXIT_ERROR and "exists already" in out, out
        code, out = _run("status", "--database-url", dsn, "--migrations-dir", history)
        assert code == 0 and "pending" in out and "add_body" in out, out
        code, out = _run("up", "--database-url", dsn, "--migrations-dir", history)
        assert code == 0 and "applied 1 migration" in out, out
        assert await columns(dsn) == ["pk_note", "title", "body"]
        code, out = _run("status", "--database-url", dsn, "--migrations-dir", history)
        assert "applied" in out, out
        code, out = _run("down", "--database-url", dsn, "--migrations-dir", history)
        assert code == 0 and "rolled back 1 migration" in out, out
        assert await columns(dsn) == ["pk_note", "title"]

        # Destructive: the live database has a column the declared schema has not.
        write_project(tmp_path)
        await execute(dsn, "ALTER TABLE tb_note ADD COLUMN legacy text")
        code, out = _run("diff", "--database-url", dsn, "--schema-dir", schema)
        assert code == EXIT_REFUSED and "would drop: extra_column: public.tb_note.legacy" in out
        code, out = _run(
            "diff", "--database-url", dsn, "--schema-dir", schema, "--allow-destructive"
        )
        assert code == EXIT_DIFFERENCES and "extra_column" in out, out
        code, out = _run("generate", "drop_legacy", "--database-url", dsn, *dirs)
        assert code == EXIT_REFUSED and "legacy" in out, out
        assert not list(history.glob("*drop_legacy*"))
        code, out = _run(
            "generate", "drop_legacy", "--database-url", dsn, *dirs, "--allow-destructive"
        )
        assert code == 0, out
        code, out = _run("up", "--database-url", dsn, "--migrations-dir", history)
        assert code == 0, out
        assert "legacy" not in await columns(dsn)


def test_errors_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRAISEQL_DATABASE_URL", raising=False)
    code, out = _run("status", "--migrations-dir", tmp_path)
    assert code == EXIT_ERROR and "no database" in out
    code, out = _run(
        "build", "--database-url", "postgresql://127.0.0.1:1/x", "--schema-dir", tmp_path / "no"
    )
    assert code == EXIT_ERROR and "no schema directory" in out
    code, out = _run(
        "up", "--database-url", "postgresql://127.0.0.1:1/x", "--migrations-dir", tmp_path
    )
    assert code == EXIT_ERROR, out
    code, out = _run("generate", "Bad-Name", "--empty", "--migrations-dir", tmp_path)
    assert code == EXIT_ERROR and "invalid migration name" in out


async def test_diff_of_an_unsupported_python_type(
    server_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bad_types.py").write_text(
        textwrap.dedent(
            """
            import fraiseql
            from fraiseql import Schema
            from fraiseql.types.scalars import UUID

            @fraiseql.type(sql_source="tv_gadget")
            class Gadget:
                id: UUID
                value: complex

            @fraiseql.query
            async def gadgets(info) -> list[Gadget]:
                return []

            schema = Schema(types=[Gadget], queries=[gadgets])
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    async with temporary_database(server_dsn) as dsn:
        code, out = _run("diff", "--database-url", dsn, "--target", "bad_types:schema")
    assert code == EXIT_ERROR and "complex" in out, out
