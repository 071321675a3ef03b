"""``fraiseql generate migration NAME``: a Confiture migration from db/schema to the types.

The declared schema is what ``fraiseql generate ddl`` writes for the project's types
(``--target``, default ``<package>.schema:schema``), beside the hand-written files of
``db/schema/``. The migration takes the current state there:

- by default the current state is ``db/schema/`` as it is (the types were changed, the DDL
  not yet generated): it is built in a scratch database on ``--database-url``'s server
  (created and dropped here; the URL's own database is not touched);
- with ``--from-database`` it is the live database at ``--database-url``.

The work is :func:`fraiseql.migrations.generate` (the one behind ``fraiseql migrate
generate``: Confiture's differ between two ``pg_dump`` texts, its SQL generator, its refusal
of destructive changes unless ``--allow-destructive``), aimed at a temporary tree holding the
declared schema. A ``v_tv_*`` view the migration redefines is followed by its
``fn_sync_tv_*()``, both ways, so the read models' documents follow. Then ``db/schema/`` is
written from the types (``--no-write-ddl`` leaves it), so ``make test``'s check passes.
Exit status as ``fraiseql migrate``: 0 written, 2 an error, 3 refused as destructive.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import asyncpg
import typer

from fraiseql.cli.migrate import (
    EXIT_ERROR,
    AllowDestructive,
    DatabaseUrl,
    MigrationsDir,
    SchemaDir,
    _fail,
    _url,
)
from fraiseql.cli.project import ProjectError, find_project
from fraiseql.codegen import DDLDefinitionError, generate_ddl, write_ddl
from fraiseql.codegen.ddl import GENERATED_MARK
from fraiseql.db.locate import with_database
from fraiseql.migrations import MigrationsError, MigrationsUnavailableError

_VIEW = re.compile(r"^CREATE (?:OR REPLACE )?VIEW (?:public\.)?v_tv_(\w+)", re.MULTILINE)
_BLOCKED_BY_VIEWS = re.compile(r"\b(?:DROP|ALTER) COLUMN\b")


def declared_tree(schema_dir: Path, files: dict[str, str], into: Path) -> Path:
    """``into`` holding the generated ``files`` and the hand-written files of ``schema_dir``."""
    if schema_dir.is_dir():
        for path in sorted(schema_dir.rglob("*.sql")):
            with path.open(encoding="utf-8") as handle:
                generated = handle.readline().startswith(GENERATED_MARK)
            if not generated:
                target = into / path.relative_to(schema_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    for relative, text in files.items():
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return into


async def _admin(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A new empty database on ``server_url``'s server, dropped afterwards."""
    name = f"fraiseql_migration_{secrets.token_hex(6)}"
    try:
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise MigrationsError(f"cannot create a scratch database: {error}") from error
    try:
        yield with_database(server_url, name)
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def follow_views(paths: list[Path]) -> None:
    """Keep the ``v_tv_*`` views a migration redefines, and their read models, in step.

    A view depending on a column blocks dropping or retyping it, and Confiture's order puts
    such a change before the view's new definition: the views are dropped first (the same
    migration creates them again, in the same transaction). After the new definitions,
    ``fn_sync_tv_<entity>()`` recomputes each read model from its view.
    """
    for path in paths:
        text = path.read_text(encoding="utf-8")
        entities = sorted(set(_VIEW.findall(text)))
        if not entities:
            continue
        if _BLOCKED_BY_VIEWS.search(text):
            drops = "".join(f"DROP VIEW IF EXISTS v_tv_{entity};\n" for entity in entities)
            lines = text.splitlines(keepends=True)
            first = next(
                (i for i, line in enumerate(lines) if line.startswith("-- confiture:tier")),
                next(
                    i for i, line in enumerate(lines) if line.strip() and not line.startswith("--")
                ),
            )
            note = "-- The views are created again below; a column they read changes (FraiseQL).\n"
            lines.insert(first, note + drops + "\n")
            text = "".join(lines)
        calls = "".join(f"SELECT fn_sync_tv_{entity}();\n" for entity in entities)
        resync = f"-- The read models follow their redefined views (FraiseQL).\n{calls}"
        path.write_text(text.rstrip("\n") + "\n\n" + resync, encoding="utf-8")


def migration_command(
    name: Annotated[str, typer.Argument(help="The migration's name, in snake_case.")],
    database_url: DatabaseUrl = None,
    target: Annotated[
        str | None,
        typer.Option(help="The schema as 'module:attribute' (default: <package>.schema:schema)."),
    ] = None,
    schema_dir: SchemaDir = Path("db/schema"),
    migrations_dir: MigrationsDir = Path("db/migrations"),
    from_database: Annotated[
        bool,
        typer.Option(
            "--from-database", help="From the live database at --database-url, not db/schema."
        ),
    ] = False,
    write: Annotated[
        bool,
        typer.Option("--write-ddl/--no-write-ddl", help="Then write db/schema from the types."),
    ] = True,
    allow_destructive: AllowDestructive = False,
) -> None:
    """Write a migration from db/schema (or the live database) to what the types declare."""
    from fraiseql.cli.generate_model import load_project_schema
    from fraiseql.cli.target import load_schema
    from fraiseql.migrations import generate

    url = _url(database_url)
    try:
        if target is None:
            schema = load_project_schema(find_project(Path()))
        else:
            schema = load_schema(target)
        files = generate_ddl(schema)
    except (ProjectError, DDLDefinitionError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    try:
        with tempfile.TemporaryDirectory(prefix="fraiseql-declared-") as temporary:
            declared = declared_tree(schema_dir, files, Path(temporary))
            if from_database:
                paths = generate(
                    name,
                    migrations_dir,
                    database_url=url,
                    schema_dir=declared,
                    allow_destructive=allow_destructive,
                )
            else:
                from fraiseql.migrations import build

                with scratch_database(url) as current, tempfile.TemporaryDirectory() as none:
                    build(current, schema_dir, migrations_dir=none)
                    paths = generate(
                        name,
                        migrations_dir,
                        database_url=current,
                        schema_dir=declared,
                        allow_destructive=allow_destructive,
                    )
    except (MigrationsError, MigrationsUnavailableError) as error:
        raise _fail(error) from None
    follow_views(paths)
    for path in paths:
        typer.echo(f"wrote {path}")
    if write:
        changed = write_ddl(schema_dir, schema)
        typer.echo(f"{len(changed)} file{'' if len(changed) == 1 else 's'} of {schema_dir} written")
