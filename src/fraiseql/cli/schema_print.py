"""``fraiseql schema TARGET``: print the GraphQL SDL of a schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fraiseql.cli.target import load_schema


def schema_command(
    target: Annotated[str, typer.Argument(help="The schema as 'module:attribute'.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Print the schema in GraphQL SDL (for review, diffing and client code generation)."""
    sdl = load_schema(target).print_schema() + "\n"
    if output is None:
        typer.echo(sdl, nl=False)
    else:
        output.write_text(sdl, encoding="utf-8")
