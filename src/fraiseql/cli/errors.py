"""``fraiseql errors``: install the error table, list recorded errors, change their status."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NoReturn, TypeVar

import asyncpg
import orjson
import typer

from fraiseql.db.pool import DATABASE_URL_ENV
from fraiseql.observability.error_store import (
    STATUSES,
    install_errors_table,
    list_errors,
    set_error_status,
)

T = TypeVar("T")

errors_app = typer.Typer(help="Errors recorded in the fraiseql_errors table.", no_args_is_help=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", "-d", help=f"The database (default: ${DATABASE_URL_ENV})."),
]


def _fail(message: str) -> NoReturn:
    """Stop with ``message`` on stderr and exit status 2 (usage or environment problem)."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(2)


def _run(database_url: str | None, action: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    dsn = database_url or os.environ.get(DATABASE_URL_ENV)
    if not dsn:
        _fail(f"give --database-url or set {DATABASE_URL_ENV}")

    async def run() -> T:
        try:
            connection = await asyncpg.connect(dsn, timeout=10)
        except (OSError, asyncpg.PostgresError) as error:
            _fail(f"cannot connect to the database: {error}")
        try:
            return await action(connection)
        except asyncpg.UndefinedTableError:
            _fail("the table fraiseql_errors does not exist: run 'fraiseql errors install'")
        finally:
            await connection.close()

    return asyncio.run(run())


@errors_app.command("install")
def install_command(database_url: DatabaseOption = None) -> None:
    """Create the fraiseql_errors table (if it does not exist)."""
    _run(database_url, install_errors_table)
    typer.echo("fraiseql_errors is ready.")


@errors_app.command("list")
def list_command(
    database_url: DatabaseOption = None,
    status: Annotated[str, typer.Option(help=f"One of {', '.join(STATUSES)}, or 'all'.")] = "open",
    category: Annotated[
        str | None, typer.Option(help="user, system or unexpected (default: all).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List recorded errors, most recently seen first."""
    if status != "all" and status not in STATUSES:
        _fail(f"--status must be one of {', '.join(STATUSES)} or 'all'")
    if category is not None and category not in ("user", "system", "unexpected"):
        _fail("--category must be user, system or unexpected")

    async def fetch(connection: asyncpg.Connection) -> list[dict[str, Any]]:
        return await list_errors(
            connection, status=None if status == "all" else status, category=category, limit=limit
        )

    rows = _run(database_url, fetch)
    if as_json:
        for row in rows:
            typer.echo(orjson.dumps(row, default=str).decode())
        return
    if not rows:
        typer.echo("No errors.")
        return
    for row in rows:
        where = " ".join(
            part
            for part in (
                row["operation_name"] and f"op={row['operation_name']}",
                row["path"] and f"path={row['path']}",
                row["sqlstate"] and f"sqlstate={row['sqlstate']}",
            )
            if part
        )
        typer.echo(
            f"{row['fingerprint'][:12]}  {row['status']:<8} {row['category']:<10} "
            f"{row['occurrences']:>6}x  last {row['last_seen']:%Y-%m-%d %H:%M:%S}  "
            f"{row['code']}: {row['message'][:80]}  {where}".rstrip()
        )


def _status_command(status: str) -> Callable[..., None]:
    def command(
        fingerprint: Annotated[str, typer.Argument(help="The fingerprint, or a unique prefix.")],
        database_url: DatabaseOption = None,
    ) -> None:
        async def update(connection: asyncpg.Connection) -> bool:
            return await set_error_status(connection, fingerprint.lower(), status)

        if not _run(database_url, update):
            typer.echo(f"No error matches {fingerprint!r}.", err=True)
            raise typer.Exit(1)
        typer.echo(f"{fingerprint}: {status}")

    command.__doc__ = f"Mark an error {status}."
    return command


errors_app.command("resolve")(_status_command("resolved"))
errors_app.command("ignore")(_status_command("ignored"))
errors_app.command("reopen")(_status_command("open"))
