"""Build a database from a ``db/schema/`` tree, with Confiture, in one transaction.

Confiture's ``SchemaBuilder`` concatenates the tree's ``.sql`` files in build order; its
``Migrator.rebuild`` would run the result statement by statement in autocommit, so a file
failing halfway would leave the files before it built. :func:`build` runs the same statements
(Confiture's lexer splits them, its ``strip_transaction_wrappers`` removes ``BEGIN``/``COMMIT``
lines) in one transaction on Confiture's session connection, and only then lets Confiture
create its ledger and record every migration of the migrations directory as applied (the tree
is the schema after all of them). A failed statement rolls everything back, ``drop_schemas``
included: the database is left as it was.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fraiseql.migrations import _confiture
from fraiseql.migrations.errors import MigrationsError

__all__ = ["BuildResult", "build", "schema_files"]

# The separator Confiture's builder writes before each file with the default
# ``block_comment`` style (the in-memory environment of _confiture uses it); the file's
# text starts right after it.
_FILE_SEPARATOR = re.compile(r"^/\* =+\n \* File: (?P<path>[^\n]+)\n \* =+ \*/\n\n", re.MULTILINE)

_IN_TRANSACTION_SQLSTATE = "25001"  # active_sql_transaction: CREATE INDEX CONCURRENTLY, ...


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What :func:`build` did."""

    files: int
    statements: int
    seconds: float
    migrations_marked: tuple[str, ...]
    schemas_dropped: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def schema_files(schema_dir: str | Path) -> list[Path]:
    """The files Confiture builds from ``schema_dir``, in build order."""
    builder_module = _confiture.module("confiture.core.builder")
    env = _confiture.environment("postgresql://localhost/unused", schema_dir)
    return list(builder_module.SchemaBuilder(env).find_sql_files())


@dataclass(frozen=True, slots=True)
class _Statement:
    """One statement of the built DDL and where it was written."""

    sql: str
    first_line: str  # its first line of code (without the comments before it)
    file: Path
    line: int


def _statements(ddl: str, schema_dir: Path) -> list[_Statement]:
    """The statements of Confiture's built DDL, each with its file and line."""
    lexer = _confiture.module("confiture.core.sql_lexer")
    sql_utils = _confiture.module("confiture.core.sql_utils")
    text = str(sql_utils.strip_transaction_wrappers(ddl))
    separators = list(_FILE_SEPARATOR.finditer(text))
    starts = [match.end() for match in separators]
    statements = []
    for span in lexer.statement_spans(text):
        raw = text[span]
        code = str(lexer.strip_comments(raw)).strip()
        if not code or code == ";":
            continue
        # The statement's first code line, found from the span (leading comments belong to it).
        first_line = code.splitlines()[0]
        position = text.find(first_line, span.start)
        index = bisect_right(starts, position) - 1
        if index < 0:
            file, line = schema_dir, 0  # before the first file: Confiture's own header
        else:
            file = schema_dir / separators[index].group("path")
            line = text.count("\n", starts[index], position) + 1
        statements.append(_Statement(raw.strip(), first_line, file, line))
    return statements


def _failure(statement: _Statement, error: Any) -> MigrationsError:
    message = str(error).strip() or type(error).__name__
    where = f"{statement.file}, line {statement.line}" if statement.line else str(statement.file)
    text = (
        f"{where}: {message}\n  in: {statement.first_line[:120]}"
        "\n  nothing was built (one transaction)"
    )
    if getattr(error, "sqlstate", None) == _IN_TRANSACTION_SQLSTATE:
        text += (
            "\n  hint: the build runs in one transaction; write this statement without"
            " CONCURRENTLY in db/schema (a non-transactional migration can use it)"
        )
    wrapped = MigrationsError(text)
    wrapped.__cause__ = error
    return wrapped


def _run(connection: Any, statements: list[_Statement], drop_schemas: bool) -> tuple[Any, ...]:
    """Drop (if asked) and run ``statements`` in the connection's open transaction."""
    psycopg = _confiture.module("psycopg")
    pgsql = _confiture.module("psycopg.sql")
    live_catalog = _confiture.module("confiture.core.live_catalog")
    dropped: list[str] = []
    warnings: list[str] = []
    with connection.cursor() as cursor:
        if drop_schemas:
            dropped = list(live_catalog.user_schemas(connection))
            for name in dropped:
                cursor.execute(pgsql.SQL("DROP SCHEMA {} CASCADE").format(pgsql.Identifier(name)))
            cursor.execute("CREATE SCHEMA IF NOT EXISTS public")
        for statement in statements:
            if statement.first_line.upper().startswith("CREATE EXTENSION"):
                # As Confiture's rebuild: an extension that cannot be created is a warning.
                # A savepoint keeps the transaction usable after it.
                try:
                    with connection.transaction():
                        cursor.execute(statement.sql)
                except psycopg.Error as error:
                    warnings.append(f"{statement.file}: CREATE EXTENSION warning: {error}")
                continue
            try:
                cursor.execute(statement.sql)
            except psycopg.Error as error:
                raise _failure(statement, error) from error
    return tuple(dropped), tuple(warnings)


def build(
    database_url: str,
    schema_dir: str | Path = "db/schema",
    *,
    migrations_dir: str | Path = "db/migrations",
    drop_schemas: bool = False,
) -> BuildResult:
    """Build the database at ``database_url`` from the files of ``schema_dir``, atomically.

    Every statement of the tree runs in one transaction: a statement that fails (an object
    that already exists, a syntax error) raises :class:`MigrationsError` naming its file and
    line, and leaves the database as it was. ``drop_schemas`` first drops every user schema
    of that database (``public`` included, then recreated), in the same transaction: the data
    is lost only if the build succeeds. The migrations of ``migrations_dir`` are loaded before
    anything runs and recorded as applied by Confiture after the schema is committed.
    Statements PostgreSQL refuses in a transaction (``CREATE INDEX CONCURRENTLY``) fail the
    build: a fresh schema does not need them.
    """
    started = time.perf_counter()
    builder_module = _confiture.module("confiture.core.builder")
    directory = Path(schema_dir)
    try:
        builder = builder_module.SchemaBuilder(_confiture.environment(database_url, directory))
        files = len(builder.categorize_sql_files()[0])
        statements = _statements(builder.build(schema_only=True), directory)
    except MigrationsError:
        raise
    except Exception as error:  # SchemaError: an unreadable file, an unclosed comment
        raise _confiture.wrap_errors(error) from error
    try:
        with _confiture.session(database_url, migrations_dir, schema_dir) as session:
            for path in session.migrator.find_migration_files(Path(migrations_dir)):
                session.migration_loader(path)  # a broken migration fails before anything runs
            connection = session.connection
            connection.rollback()
            connection.autocommit = False
            try:
                dropped, warnings = _run(connection, statements, drop_schemas)
            except BaseException:
                connection.rollback()
                raise
            # Confiture's initialize() commits the schema with its ledger table; reinit
            # records the migrations.
            marked = session.reinit()
    except MigrationsError:
        raise
    except Exception as error:  # Confiture's MigrationError, psycopg's errors
        raise _confiture.wrap_errors(error) from error
    return BuildResult(
        files=files,
        statements=len(statements),
        seconds=time.perf_counter() - started,
        migrations_marked=tuple(m.version for m in marked.migrations_marked),
        schemas_dropped=dropped,
        warnings=warnings,
    )
