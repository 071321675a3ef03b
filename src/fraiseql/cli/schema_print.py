"""``fraiseql schema TARGET``: print the GraphQL SDL of a schema, or check it against a saved one.

``--check saved.graphql`` compares the schema with an SDL saved earlier (a release's, kept in
the repository) and exits with 1 when a client of the saved one could break: a type or field
removed, a field's type changed, an argument added without a default, nullability tightened
on an input or loosened on an output... (graphql-core's ``find_breaking_changes``). Changes
that are safe in most cases but may surprise a client (an enum value or union member added, a
default changed) are listed as warnings and do not fail the check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from graphql import GraphQLError, build_schema, find_breaking_changes, find_dangerous_changes

from fraiseql.cli.target import load_schema


def schema_command(
    target: Annotated[str, typer.Argument(help="The schema as 'module:attribute'.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
    check: Annotated[
        Path | None,
        typer.Option(
            "--check",
            help="Compare with this saved SDL; exit 1 on changes that break its clients.",
        ),
    ] = None,
) -> None:
    """Print the schema in GraphQL SDL, or check it against a saved one (for CI)."""
    schema = load_schema(target)
    if check is not None:
        raise typer.Exit(_check(schema.graphql_schema, check))
    sdl = schema.print_schema() + "\n"
    if output is None:
        typer.echo(sdl, nl=False)
    else:
        output.write_text(sdl, encoding="utf-8")


def _check(current: object, saved_path: Path) -> int:
    try:
        saved = build_schema(saved_path.read_text(encoding="utf-8"))
    except OSError as error:
        raise typer.BadParameter(f"cannot read {saved_path}: {error}") from None
    except GraphQLError as error:
        raise typer.BadParameter(f"{saved_path} is not a GraphQL schema: {error.message}") from None
    breaking = find_breaking_changes(saved, current)  # type: ignore[arg-type]
    dangerous = find_dangerous_changes(saved, current)  # type: ignore[arg-type]
    for warning in dangerous:
        typer.echo(f"warning: {warning.type.name.lower()}: {warning.description}", err=True)
    for change in breaking:
        typer.echo(f"breaking: {change.type.name.lower()}: {change.description}", err=True)
    if breaking:
        typer.echo(f"{len(breaking)} breaking change(s) against {saved_path}", err=True)
        return 1
    typer.echo(f"no breaking change against {saved_path}", err=True)
    return 0
