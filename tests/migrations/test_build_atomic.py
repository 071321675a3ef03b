"""``build`` runs the whole tree in one transaction: a broken file leaves the database as it was."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from tests.conftest import temporary_database
from typer.testing import CliRunner

from fraiseql import migrations
from fraiseql.cli.main import app
from fraiseql.cli.migrate import EXIT_ERROR
from fraiseql.migrations import MigrationsError

CATALOG = """
SELECT coalesce(string_agg(n.nspname || '.' || c.relname || ':' || c.relkind::text, ','
                           ORDER BY n.nspname, c.relname), '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
"""

OBJECTS = """
SELECT array(
    SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'type ' || typname FROM pg_type WHERE typnamespace = 'public'::regnamespace
        AND typtype IN ('e', 'd', 'c') AND typrelid = 0
    UNION ALL
    SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%'
        AND nspname NOT IN ('public', 'information_schema')
    ORDER BY 1)
"""


def _broken_tree(root: Path) -> Path:
    """Three files; the third fails on its second statement, after one that works."""
    schema = root / "broken" / "schema"
    (schema / "10_tables").mkdir(parents=True)
    (schema / "10_tables" / "01_tb_author.sql").write_text(
        "CREATE TABLE tb_author (pk_author integer PRIMARY KEY, name text NOT NULL);\n"
        "INSERT INTO tb_author VALUES (1, 'first');\n"
    )
    (schema / "10_tables" / "02_types.sql").write_text(
        "CREATE SCHEMA reporting;\nCREATE TYPE article_state AS ENUM ('draft', 'published');\n"
        "CREATE FUNCTION fn_author_count() RETURNS bigint LANGUAGE sql"
        " AS $$ SELECT count(*) FROM tb_author $$;\n"
    )
    (schema / "30_views").mkdir()
    (schema / "30_views" / "03_views.sql").write_text(
        "-- the author list\n"
        "CREATE VIEW v_author AS SELECT pk_author, name FROM tb_author;\n"
        "\n"
        "CREATE VIEW v_article AS SELECT * FROM tb_article;  -- no such table\n"
    )
    return schema


async def _state(dsn: str) -> tuple[str, list[str], list[str]]:
    connection = await asyncpg.connect(dsn)
    try:
        catalog = await connection.fetchval(CATALOG)
        objects = list(await connection.fetchval(OBJECTS))
        rows = []
        if await connection.fetchval("SELECT to_regclass('public.tb_keep')") is not None:
            rows = [r[0] for r in await connection.fetch("SELECT note FROM tb_keep ORDER BY 1")]
        return catalog, objects, rows
    finally:
        await connection.close()


async def test_a_broken_third_file_leaves_an_existing_database_unchanged(
    server_dsn: str, tmp_path: Path
) -> None:
    kept = tmp_path / "kept" / "schema" / "10_tables"
    kept.mkdir(parents=True)
    (kept / "01_tb_keep.sql").write_text("CREATE TABLE tb_keep (note text PRIMARY KEY);\n")
    broken = _broken_tree(tmp_path)
    history = tmp_path / "db" / "migrations"
    async with temporary_database(server_dsn) as dsn:
        migrations.build(dsn, kept.parent, migrations_dir=history)
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("INSERT INTO tb_keep VALUES ('a'), ('b')")
        finally:
            await connection.close()
        before = await _state(dsn)
        assert "public.tb_keep:r" in before[0] and before[2] == ["a", "b"]

        for drop_schemas in (False, True):
            with pytest.raises(MigrationsError) as failed:
                migrations.build(dsn, broken, migrations_dir=history, drop_schemas=drop_schemas)
            message = str(failed.value)
            assert f"{broken / '30_views' / '03_views.sql'}, line 4: " in message, message
            assert 'relation "tb_article" does not exist' in message
            assert "nothing was built" in message
            # tables, rows, types, functions and schemas: as they were (the drop too)
            assert await _state(dsn) == before

        result = CliRunner().invoke(
            app,
            ["migrate", "build", "--database-url", dsn, "--schema-dir", str(broken),
             "--migrations-dir", str(history)],
        )  # fmt: skip
        assert result.exit_code == EXIT_ERROR, result.output
        assert "03_views.sql, line 4" in result.output
        assert await _state(dsn) == before


async def test_a_broken_tree_leaves_an_empty_database_empty(
    server_dsn: str, tmp_path: Path
) -> None:
    broken = _broken_tree(tmp_path)
    history = tmp_path / "db" / "migrations"
    history.mkdir(parents=True)
    (history / "20240101000000_first.up.sql").write_text("SELECT 1;\n")
    (history / "20240101000000_first.down.sql").write_text("SELECT 1;\n")
    async with temporary_database(server_dsn) as dsn:
        empty = await _state(dsn)
        assert empty == ("", [], [])
        with pytest.raises(MigrationsError, match=r"03_views\.sql, line 4: "):
            migrations.build(dsn, broken, migrations_dir=history)
        assert await _state(dsn) == empty  # not even Confiture's ledger

        # Fixed, the same tree builds, with the migration recorded.
        (broken / "30_views" / "03_views.sql").write_text(
            "CREATE VIEW v_author AS SELECT pk_author, name FROM tb_author;\n"
        )
        result = migrations.build(dsn, broken, migrations_dir=history)
        assert (result.files, result.statements) == (3, 6)
        assert result.migrations_marked == ("20240101000000",)
        catalog, objects, _ = await _state(dsn)
        assert "public.v_author:v" in catalog and "public.tb_confiture:r" in catalog
        assert objects == ["function fn_author_count", "schema reporting", "type article_state"]


async def test_a_migration_that_cannot_load_fails_before_anything_runs(
    server_dsn: str, tmp_path: Path
) -> None:
    kept = tmp_path / "schema" / "10_tables"
    kept.mkdir(parents=True)
    (kept / "01_tb_keep.sql").write_text("CREATE TABLE tb_keep (note text PRIMARY KEY);\n")
    history = tmp_path / "migrations"
    history.mkdir()
    (history / "20240101000000_no_down.up.sql").write_text("SELECT 1;\n")  # no .down.sql
    async with temporary_database(server_dsn) as dsn:
        with pytest.raises(MigrationsError, match=r"no matching \.down\.sql"):
            migrations.build(dsn, kept.parent, migrations_dir=history)
        assert await _state(dsn) == ("", [], [])


async def test_concurrently_is_refused_with_a_hint_and_extensions_warn(
    server_dsn: str, tmp_path: Path
) -> None:
    schema = tmp_path / "schema" / "10_tables"
    schema.mkdir(parents=True)
    (schema / "01_tb_keep.sql").write_text(
        "CREATE EXTENSION IF NOT EXISTS fraiseql_no_such_extension;\n"
        "CREATE TABLE tb_keep (note text PRIMARY KEY);\n"
        "CREATE INDEX CONCURRENTLY tb_keep_note_idx ON tb_keep (lower(note));\n"
    )
    async with temporary_database(server_dsn) as dsn:
        with pytest.raises(MigrationsError, match="without CONCURRENTLY") as failed:
            migrations.build(dsn, schema.parent, migrations_dir=tmp_path / "m")
        assert "01_tb_keep.sql, line 3" in str(failed.value)
        assert await _state(dsn) == ("", [], [])

        (schema / "01_tb_keep.sql").write_text(
            "CREATE EXTENSION IF NOT EXISTS fraiseql_no_such_extension;\n"
            "CREATE TABLE tb_keep (note text PRIMARY KEY);\n"
        )
        result = migrations.build(dsn, schema.parent, migrations_dir=tmp_path / "m")
        [warning] = result.warnings
        assert "fraiseql_no_such_extension" in warning and "01_tb_keep.sql" in warning
        assert "public.tb_keep:r" in (await _state(dsn))[0]
