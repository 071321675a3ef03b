"""Build a database from scratch from a ``db/schema/`` tree, with Confiture.

Confiture's ``SchemaBuilder`` concatenates the tree's ``.sql`` files in path order and its
``rebuild`` applies the result, creates the tracking table and records every migration of the
migrations directory as applied (the tree is the schema after all of them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from fraiseql.migrations import _confiture
from fraiseql.migrations.errors import MigrationsError

__all__ = ["BuildResult", "build", "schema_files"]


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What :func:`build` did."""

    files: int
    statements: int
    seconds: float
    migrations_marked: tuple[str, ...]
    schemas_dropped: tuple[str, ...]


def schema_files(schema_dir: str | Path) -> list[Path]:
    """The files Confiture builds from ``schema_dir``, in build order."""
    builder_module = _confiture.module("confiture.core.builder")
    env = _confiture.environment("postgresql://localhost/unused", schema_dir)
    return list(builder_module.SchemaBuilder(env).find_sql_files())


def build(
    database_url: str,
    schema_dir: str | Path = "db/schema",
    *,
    migrations_dir: str | Path = "db/migrations",
    drop_schemas: bool = False,
) -> BuildResult:
    """Build the database at ``database_url`` from the files of ``schema_dir``.

    ``drop_schemas`` first drops every user schema of that database (``public`` included, then
    recreated): everything in it is lost. Without it the database should be empty; a statement
    that fails (an object that already exists) raises :class:`MigrationsError`. The statements
    run one by one outside a transaction (Confiture's choice, so ``CREATE INDEX CONCURRENTLY``
    works): a failed build leaves what ran before it, rebuild with ``drop_schemas``.
    """
    started = time.perf_counter()
    files = len(schema_files(schema_dir))
    try:
        with _confiture.session(database_url, migrations_dir, schema_dir) as migrator:
            result = migrator.rebuild(drop_schemas=drop_schemas)
    except MigrationsError:
        raise
    except Exception as error:  # Confiture's RebuildError, psycopg's errors
        raise _confiture.wrap_errors(error) from error
    if not result.success:
        raise MigrationsError(result.error or "the build failed")
    return BuildResult(
        files=files,
        statements=result.ddl_statements_executed,
        seconds=time.perf_counter() - started,
        migrations_marked=tuple(m.version for m in result.migrations_marked),
        schemas_dropped=tuple(result.schemas_dropped),
    )
