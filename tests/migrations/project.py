"""A small Confiture project for the migration tests: one table, named constraints."""

from __future__ import annotations

from pathlib import Path

import asyncpg

NOTE_TABLE = """CREATE TABLE tb_note (
    pk_note INTEGER GENERATED ALWAYS AS IDENTITY CONSTRAINT tb_note_pkey PRIMARY KEY,
    title TEXT NOT NULL CONSTRAINT tb_note_title_check CHECK (length(title) > 0){extra}
);
"""

NOTE_COUNT = """CREATE FUNCTION fn_note_count() RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM tb_note $$;
"""


def write_project(root: Path, *, extra: str = "", function: bool = True) -> Path:
    """``root/db/schema`` with tb_note (plus ``extra`` columns) and, optionally, a function."""
    schema = root / "db" / "schema"
    (schema / "10_tables").mkdir(parents=True, exist_ok=True)
    (schema / "10_tables" / "01_tb_note.sql").write_text(NOTE_TABLE.format(extra=extra))
    functions = schema / "40_functions" / "01_fn_note_count.sql"
    if function:
        functions.parent.mkdir(parents=True, exist_ok=True)
        functions.write_text(NOTE_COUNT)
    elif functions.exists():
        functions.unlink()
    return schema


async def columns(dsn: str, table: str = "tb_note") -> list[str]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
            table,
        )
        return [row[0] for row in rows]
    finally:
        await connection.close()


async def execute(dsn: str, sql: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()
