"""``fraiseql migrate build|generate|up|down|status|diff``: migrations with fraiseql-confiture.

Needs the ``migrations`` extra (``pip install 'fraiseql[migrations]'``); the work is done by
:mod:`fraiseql.migrations`, a thin layer over Confiture's API. Every command takes
``--database-url`` (default ``$FRAISEQL_DATABASE_URL``), ``--schema-dir`` (``db/schema``) and
``--migrations-dir`` (``db/migrations``) where they apply.

Exit status:

- 0: done; for ``diff``, the database matches the declared schema;
- 1: ``diff`` found differences (listed), none of them destructive or ``--allow-destructive``;
- 2: an error: bad input (a migration name already used, a schema that cannot be turned into
  DDL, a missing directory), a database that cannot be reached, a migration or build that
  failed (either leaves the database as it was), Confiture not installed;
- 3: refused: the change would drop a table, column or function (and their data) and
  ``--allow-destructive`` was not given. Nothing was written or applied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from fraiseql.migrations import (
    DestructiveChangeError,
    MigrationsError,
    MigrationsUnavailableError,
)

__all__ = ["EXIT_DIFFERENCES", "EXIT_ERROR", "EXIT_REFUSED", "migrate_app"]

EXIT_DIFFERENCES = 1
EXIT_ERROR = 2
EXIT_REFUSED = 3

migrate_app = typer.Typer(
    help="Build databases and run migrations with fraiseql-confiture (the migrations extra).",
    no_args_is_help=True,
)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="FRAISEQL_DATABASE_URL",
        help="PostgreSQL URL (default: $FRAISEQL_DATABASE_URL).",
    ),
]
SchemaDir = Annotated[
    Path, typer.Option("--schema-dir", help="The declared schema: Confiture's db/schema/ tree.")
]
MigrationsDir = Annotated[
    Path, typer.Option("--migrations-dir", help="The migration files (<version>_<name>.up.sql).")
]
AllowDestructive = Annotated[
    bool,
    typer.Option(
        "--allow-destructive", help="Accept changes that drop tables, columns or functions."
    ),
]


def _fail(error: BaseException) -> typer.Exit:
    code = EXIT_REFUSED if isinstance(error, DestructiveChangeError) else EXIT_ERROR
    label = "refused" if code == EXIT_REFUSED else "error"
    typer.echo(f"{label}: {error}", err=True)
    if isinstance(error, DestructiveChangeError):
        for change in error.changes:
            typer.echo(f"  would drop: {change}", err=True)
    return typer.Exit(code)


def _url(database_url: str | None) -> str:
    if not database_url:
        typer.echo("error: no database: pass --database-url or set FRAISEQL_DATABASE_URL", err=True)
        raise typer.Exit(EXIT_ERROR)
    return database_url


def _run(action: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return action(*args, **kwargs)
    except (MigrationsError, MigrationsUnavailableError) as error:
        raise _fail(error) from None


@migrate_app.command("build")
def build_command(
    database_url: DatabaseUrl = None,
    schema_dir: SchemaDir = Path("db/schema"),
    migrations_dir: MigrationsDir = Path("db/migrations"),
    drop_schemas: Annotated[
        bool,
        typer.Option(
            "--drop-schemas", help="First drop every user schema of the database, and its data."
        ),
    ] = False,
) -> None:
    """Build the database from the schema tree in one transaction; mark the migrations applied.

    A file that fails leaves the database as it was (with --drop-schemas too); the error names
    the file and the line.
    """
    from fraiseql.migrations import build

    result = _run(
        build,
        _url(database_url),
        schema_dir,
        migrations_dir=migrations_dir,
        drop_schemas=drop_schemas,
    )
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(
        f"built {schema_dir}: {result.files} files, {result.statements} statements"
        f" in {result.seconds:.3f} s (one transaction);"
        f" {len(result.migrations_marked)} migrations marked applied"
    )


@migrate_app.command("generate")
def generate_command(
    name: Annotated[str, typer.Argument(help="The migration's name, in snake_case.")],
    database_url: DatabaseUrl = None,
    schema_dir: SchemaDir = Path("db/schema"),
    migrations_dir: MigrationsDir = Path("db/migrations"),
    empty: Annotated[
        bool,
        typer.Option("--empty", help="Write an empty .up.sql/.down.sql pair to fill in by hand."),
    ] = False,
    allow_destructive: AllowDestructive = False,
) -> None:
    """Write a migration: from the live database to the schema tree, or empty with --empty.

    The tree is built in a scratch database on the same server (the role needs CREATEDB) and
    both databases are compared as pg_dump prints them.
    """
    from fraiseql.migrations import generate

    url = None if empty else _url(database_url)
    paths = _run(
        generate,
        name,
        migrations_dir,
        database_url=url,
        schema_dir=schema_dir,
        allow_destructive=allow_destructive,
    )
    for path in paths:
        typer.echo(f"wrote {path}")


@migrate_app.command("up")
def up_command(
    database_url: DatabaseUrl = None,
    migrations_dir: MigrationsDir = Path("db/migrations"),
    target: Annotated[
        str | None, typer.Option(help="Apply up to this version (default: all pending).")
    ] = None,
    allow_destructive: AllowDestructive = False,
) -> None:
    """Apply the pending migrations, each in one transaction."""
    from fraiseql.migrations import up

    applied = _run(
        up, _url(database_url), migrations_dir, target=target, allow_destructive=allow_destructive
    )
    typer.echo(f"applied {len(applied)} migration(s)" + "".join(f"\n  {v}" for v in applied))


@migrate_app.command("down")
def down_command(
    database_url: DatabaseUrl = None,
    migrations_dir: MigrationsDir = Path("db/migrations"),
    steps: Annotated[int, typer.Option(min=1, help="How many migrations to roll back.")] = 1,
) -> None:
    """Roll back the last applied migrations (their .down.sql), each in one transaction."""
    from fraiseql.migrations import down

    rolled = _run(down, _url(database_url), migrations_dir, steps=steps)
    typer.echo(f"rolled back {len(rolled)} migration(s)" + "".join(f"\n  {v}" for v in rolled))


@migrate_app.command("status")
def status_command(
    database_url: DatabaseUrl = None,
    migrations_dir: MigrationsDir = Path("db/migrations"),
) -> None:
    """List the migrations: applied (with when) or pending."""
    from fraiseql.migrations import status

    states = _run(status, _url(database_url), migrations_dir)
    if not states:
        typer.echo(f"no migrations in {migrations_dir}")
    for state in states:
        when = f"  {state.applied_at:%Y-%m-%d %H:%M:%S %Z}" if state.applied_at else ""
        typer.echo(f"{state.status:<8} {state.version}  {state.name}{when}")


@migrate_app.command("diff")
def diff_command(
    database_url: DatabaseUrl = None,
    schema_dir: SchemaDir = Path("db/schema"),
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            help="Declare the schema as a FraiseQL Schema ('module:attribute'): its generated "
            "DDL (fraiseql generate ddl) instead of --schema-dir.",
        ),
    ] = None,
    allow_destructive: AllowDestructive = False,
) -> None:
    """Compare the live database with the declared schema; list what differs.

    Exits 0 when they match, 1 on differences, 3 when bringing the database to the declared
    schema would drop a table, column or function and --allow-destructive was not given.
    """
    from fraiseql.migrations import diff, refuse_destructive

    url = _url(database_url)
    if target is not None:
        from fraiseql.cli.target import load_schema

        try:
            schema = load_schema(target)
        except typer.BadParameter:
            raise
        except Exception as error:  # SchemaDefinitionError: an unsupported Python type...
            typer.echo(f"error: {target}: {error}", err=True)
            raise typer.Exit(EXIT_ERROR) from None
        # A type the DDL generator cannot write (two types on one table, a field named like a
        # key column) is a MigrationsError naming it: exit 2.
        report = _run(diff, url, schema=schema)
    else:
        report = _run(diff, url, schema_dir=schema_dir)
    for item in report.items:
        mark = " (destructive)" if item.destructive else ""
        typer.echo(f"{item.kind:<20} {item.object}{mark}: {item.message}")
    if report.in_sync:
        typer.echo(f"in sync with {report.source} ({report.tables_checked} tables checked)")
        return
    _run(refuse_destructive, report, allow_destructive=allow_destructive)
    typer.echo(f"{len(report.items)} difference(s) with {report.source}")
    raise typer.Exit(EXIT_DIFFERENCES)
