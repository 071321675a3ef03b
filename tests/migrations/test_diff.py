"""diff: a live database against the declared schema (a tree, or a Schema's generated DDL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import temporary_database
from tests.migrations.project import execute, write_project

import fraiseql
from fraiseql import Schema, migrations
from fraiseql.codegen import write_ddl
from fraiseql.migrations import DestructiveChangeError, MigrationsError
from fraiseql.types.scalars import UUID


@fraiseql.type(sql_source="tv_thing")
class Thing:
    id: UUID
    identifier: str
    name: str


@fraiseql.query
async def things(info) -> list[Thing]:
    return []


async def test_an_extra_column_is_reported_and_its_repair_refused(
    server_dsn: str, tmp_path: Path
) -> None:
    schema = write_project(tmp_path)
    async with temporary_database(server_dsn) as dsn:
        migrations.build(dsn, schema, migrations_dir=tmp_path / "m")
        assert migrations.diff(dsn, schema_dir=schema).in_sync
        await execute(dsn, "ALTER TABLE tb_note ADD COLUMN extra text")
        report = migrations.diff(dsn, schema_dir=schema)
        [item] = report.items
        assert (item.kind, item.object, item.destructive) == (
            "extra_column",
            "public.tb_note.extra",
            True,
        )
        with pytest.raises(DestructiveChangeError, match=r"extra_column: public\.tb_note\.extra"):
            migrations.refuse_destructive(report)
        migrations.refuse_destructive(report, allow_destructive=True)  # accepted with the flag


async def test_missing_and_extra_objects(server_dsn: str, tmp_path: Path) -> None:
    schema = write_project(tmp_path)
    async with temporary_database(server_dsn) as dsn:
        migrations.build(dsn, schema, migrations_dir=tmp_path / "m")
        await execute(dsn, "DROP FUNCTION fn_note_count(); CREATE TABLE tb_stray (x int)")
        kinds = {(i.kind, i.destructive) for i in migrations.diff(dsn, schema_dir=schema).items}
        assert kinds == {("missing_routine", False), ("extra_table", True)}


async def test_diff_against_a_schema_generated_ddl(server_dsn: str, tmp_path: Path) -> None:
    declared = Schema(types=[Thing], queries=[things])
    async with temporary_database(server_dsn) as dsn:
        write_ddl(tmp_path / "schema", declared)
        migrations.build(dsn, tmp_path / "schema", migrations_dir=tmp_path / "m")
        assert migrations.diff(dsn, schema=declared).in_sync
        await execute(dsn, "ALTER TABLE tb_thing DROP COLUMN name CASCADE")
        kinds = {i.kind for i in migrations.diff(dsn, schema=declared).items}
        assert "missing_column" in kinds


async def test_a_schema_that_cannot_be_written_as_ddl(server_dsn: str) -> None:
    @fraiseql.type(sql_source="tv_thing")
    class OtherThing:
        id: UUID
        title: str

    async with temporary_database(server_dsn) as dsn:
        conflicting = Schema(types=[Thing, OtherThing], queries=[things])
        with pytest.raises(MigrationsError, match="tb_thing"):
            migrations.diff(dsn, schema=conflicting)


def test_diff_needs_one_declared_schema(tmp_path: Path) -> None:
    with pytest.raises(MigrationsError, match="not both"):
        migrations.diff("postgresql://127.0.0.1/x")
