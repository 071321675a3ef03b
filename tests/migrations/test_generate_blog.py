"""``generate`` on the example blog: nothing for the unchanged tree, exactly the real changes.

Both sides of the diff are ``pg_dump`` text (the tree is built in a scratch database), so the
differences PostgreSQL's rewriting would add (generated constraint names, ``::text`` casts,
deparsed expressions, function headers) cancel out.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections import Counter
from pathlib import Path

import asyncpg
import pytest
from examples.blog.database import SCHEMA_DIR, load_schema
from tests.conftest import temporary_database

from fraiseql import migrations
from fraiseql.migrations import MigrationsError, _confiture, declared_ddl, live_ddl


def _changes(live: str, declared: str) -> list[str]:
    differ = _confiture.module("confiture.core.differ")
    return [
        f"{type(c).__name__}: {c}" for c in differ.SchemaDiffer().compare(live, declared).changes
    ]


async def test_the_unchanged_blog_generates_nothing(server_dsn: str, tmp_path: Path) -> None:
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        live = live_ddl(dsn, keep_extensions=True)
        assert _changes(live, declared_ddl(SCHEMA_DIR, dsn, keep_extensions=True)) == []
        with pytest.raises(MigrationsError, match="nothing to generate"):
            migrations.generate("noop", tmp_path, database_url=dsn, schema_dir=SCHEMA_DIR)
        assert await asyncio.to_thread(lambda: list(tmp_path.iterdir())) == []
        # For the record (docs/deployment/migrations.md): the source files against the dump.
        desired = _confiture.module("confiture.core.desired_state")
        raw = _changes(live_ddl(dsn), desired.load_desired_state(str(SCHEMA_DIR)).read())
        kinds = Counter(change.split(":")[0] for change in raw)
        print(f"\nsource files against pg_dump: {len(raw)} changes, {dict(kinds)}")


async def test_the_real_changes_and_only_them(server_dsn: str, tmp_path: Path) -> None:
    tree = tmp_path / "schema"
    shutil.copytree(SCHEMA_DIR, tree)
    history = tmp_path / "migrations"
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        tables = tree / "10_tables" / "01_tables.sql"
        tables.write_text(
            tables.read_text().replace(
                "  -- optimistic locking\n",
                "  -- optimistic locking\n    subtitle        TEXT,  -- last, as ADD COLUMN puts it\n",
                1,
            )
        )
        functions = tree / "40_functions" / "02_mutations.sql"
        functions.write_text(
            functions.read_text().replace("SELECT reference ~* '^", "SELECT reference ~ '^", 1)
        )
        (tree / "00_common" / "01_extensions.sql").write_text(
            "CREATE EXTENSION IF NOT EXISTS ltree;\nCREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
        )
        changes = _changes(
            live_ddl(dsn, keep_extensions=True), declared_ddl(tree, dsn, keep_extensions=True)
        )
        assert changes == [
            "ColumnAdded: ADD COLUMN public.tb_post.subtitle",
            "ObjectAdded: ADD EXTENSION pg_trgm",
            "ObjectReplaced: REPLACE FUNCTION public.fn_is_uuid(text)",
        ], changes

        up_file, _ = migrations.generate("blog_changes", history, database_url=dsn, schema_dir=tree)
        assert "subtitle" in up_file.read_text() and "pg_trgm" in up_file.read_text()
        migrations.up(dsn, history)
        assert migrations.diff(dsn, schema_dir=tree).in_sync
        with pytest.raises(MigrationsError, match="nothing to generate"):
            migrations.generate("again", history, database_url=dsn, schema_dir=tree)


async def test_a_tree_that_does_not_build_names_its_file(server_dsn: str, tmp_path: Path) -> None:
    tree = tmp_path / "schema" / "10_tables"
    tree.mkdir(parents=True)
    (tree / "01_broken.sql").write_text("CREATE TABLE tb_x (id integer REFERENCES tb_nowhere);\n")
    async with temporary_database(server_dsn) as dsn:
        with pytest.raises(MigrationsError, match=r"does not build.*01_broken\.sql, line 1"):
            migrations.generate("x", tmp_path / "m", database_url=dsn, schema_dir=tree.parent)


async def test_without_createdb_the_error_says_so(server_dsn: str, tmp_path: Path) -> None:
    tree = tmp_path / "schema" / "10_tables"
    tree.mkdir(parents=True)
    (tree / "01_tb_x.sql").write_text("CREATE TABLE tb_x (id integer);\n")
    role = f"fraiseql_nocreatedb_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE ROLE "{role}" LOGIN NOCREATEDB')
        async with temporary_database(server_dsn) as dsn:
            as_role = dsn.replace("postgres@", f"{role}@", 1)
            assert as_role != dsn
            with pytest.raises(MigrationsError, match="needs CREATEDB") as failed:
                migrations.generate(
                    "x", tmp_path / "m", database_url=as_role, schema_dir=tree.parent
                )
            assert f"role {role} cannot create the scratch database" in str(failed.value)
    finally:
        await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        await admin.close()
