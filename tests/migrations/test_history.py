"""generate, up, status, down on a sample project; a failing migration changes nothing."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from tests.conftest import temporary_database
from tests.migrations.project import columns, execute, write_project

from fraiseql import migrations
from fraiseql.migrations import DestructiveChangeError, MigrationsError

CATALOG = """
SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ','
                  ORDER BY table_name, column_name)
FROM information_schema.columns
WHERE table_schema = 'public' AND table_name NOT LIKE '%confiture%'  -- Confiture's own tables
"""


async def test_generate_up_status_down_round_trip(server_dsn: str, tmp_path: Path) -> None:
    schema = write_project(tmp_path)
    history = tmp_path / "db" / "migrations"
    async with temporary_database(server_dsn) as dsn:
        built = migrations.build(dsn, schema, migrations_dir=history)
        assert built.files == 2 and built.migrations_marked == ()
        assert await columns(dsn) == ["pk_note", "title"]
        assert migrations.status(dsn, history) == []

        # The declared schema gains a column: generate the migration from the live database.
        write_project(tmp_path, extra=",\n    body TEXT NOT NULL DEFAULT ''")
        assert [i.kind for i in migrations.diff(dsn, schema_dir=schema).items] == ["missing_column"]
        up_file, down_file = migrations.generate(
            "add_note_body", history, database_url=dsn, schema_dir=schema
        )
        assert up_file.name.endswith("_add_note_body.up.sql")
        # the declared side is pg_dump's text of the tree: its default reads ''::text
        assert "ADD COLUMN body TEXT NOT NULL DEFAULT CAST('' AS text)" in up_file.read_text()
        assert "DROP COLUMN body" in down_file.read_text()
        version = up_file.name.split("_", 1)[0]

        [pending] = migrations.status(dsn, history)
        assert (pending.version, pending.name, pending.status) == (
            version,
            "add_note_body",
            "pending",
        )

        assert migrations.up(dsn, history) == [version]
        assert await columns(dsn) == ["pk_note", "title", "body"]
        [applied] = migrations.status(dsn, history)
        assert applied.status == "applied" and applied.applied_at is not None
        assert migrations.diff(dsn, schema_dir=schema).in_sync
        assert migrations.up(dsn, history) == []  # nothing pending

        assert migrations.down(dsn, history) == [version]
        assert await columns(dsn) == ["pk_note", "title"]
        assert migrations.status(dsn, history)[0].status == "pending"

        # A build from scratch of the new tree records the migration as applied.
        rebuilt = migrations.build(dsn, schema, migrations_dir=history, drop_schemas=True)
        assert rebuilt.migrations_marked == (version,)
        assert await columns(dsn) == ["pk_note", "title", "body"]
        assert migrations.status(dsn, history)[0].status == "applied"


async def test_a_migration_failing_halfway_changes_nothing(server_dsn: str, tmp_path: Path) -> None:
    schema = write_project(tmp_path)
    history = tmp_path / "db" / "migrations"
    async with temporary_database(server_dsn) as dsn:
        migrations.build(dsn, schema, migrations_dir=history)
        await execute(dsn, "INSERT INTO tb_note (title) VALUES ('kept')")
        up_file, _ = migrations.generate("half_done", history)  # empty pair, written by hand
        up_file.write_text(
            "ALTER TABLE tb_note ADD COLUMN body text;\n"
            "UPDATE tb_note SET title = 'changed';\n"
            "CREATE TABLE tb_half (x integer);\n"
            "SELECT 1 / 0;  -- fails after three statements\n"
        )
        connection = await asyncpg.connect(dsn)
        try:
            before = await connection.fetchval(CATALOG)
            with pytest.raises(MigrationsError, match="division by zero"):
                migrations.up(dsn, history)
            assert await connection.fetchval(CATALOG) == before
            assert await connection.fetchval("SELECT to_regclass('tb_half')") is None
            assert await connection.fetchval("SELECT title FROM tb_note") == "kept"
        finally:
            await connection.close()
        assert [s.status for s in migrations.status(dsn, history)] == ["pending"]


async def test_generate_refuses_a_conflicting_name_and_bad_names(tmp_path: Path) -> None:
    history = tmp_path / "migrations"
    migrations.generate("add_thing", history, version="20240101000000")
    with pytest.raises(MigrationsError, match="a migration named 'add_thing' exists already"):
        migrations.generate("add_thing", history)
    for bad in ("Add-Thing", "../escape", ""):
        with pytest.raises(MigrationsError, match="invalid migration name"):
            migrations.generate(bad, history)
    assert sorted(p.name for p in history.iterdir()) == [
        "20240101000000_add_thing.down.sql",
        "20240101000000_add_thing.up.sql",
    ]


async def test_generate_refuses_a_destructive_migration(server_dsn: str, tmp_path: Path) -> None:
    schema = write_project(tmp_path, extra=",\n    body text")
    history = tmp_path / "db" / "migrations"
    async with temporary_database(server_dsn) as dsn:
        migrations.build(dsn, schema, migrations_dir=history)
        write_project(tmp_path)  # body removed from the declared schema
        with pytest.raises(DestructiveChangeError) as refused:
            migrations.generate("drop_body", history, database_url=dsn, schema_dir=schema)
        assert any("body" in change for change in refused.value.changes)
        assert not history.exists() or not list(history.glob("*drop_body*"))

        up_file, _ = migrations.generate(
            "drop_body", history, database_url=dsn, schema_dir=schema, allow_destructive=True
        )
        assert "DROP COLUMN body" in up_file.read_text()
        migrations.up(dsn, history)
        assert await columns(dsn) == ["pk_note", "title"]


async def test_nothing_to_generate(server_dsn: str, tmp_path: Path) -> None:
    schema = write_project(tmp_path, function=False)
    async with temporary_database(server_dsn) as dsn:
        migrations.build(dsn, schema, migrations_dir=tmp_path / "m")
        with pytest.raises(MigrationsError, match="nothing to generate"):
            migrations.generate("noop", tmp_path / "m", database_url=dsn, schema_dir=schema)


def test_bad_database_url_and_missing_schema_dir(tmp_path: Path) -> None:
    with pytest.raises(MigrationsError, match="postgresql://"):
        migrations.status("mysql://nope", tmp_path)
    with pytest.raises(MigrationsError, match="no schema directory"):
        migrations.build("postgresql://127.0.0.1/x", tmp_path / "absent")
