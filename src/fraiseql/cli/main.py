"""The ``fraiseql`` entry point: a Typer app with one command per module of this package."""

from __future__ import annotations

import typer

from fraiseql.cli.codegen import codegen_app
from fraiseql.cli.dev import dev_command
from fraiseql.cli.drift import drift_command
from fraiseql.cli.errors import errors_app
from fraiseql.cli.generate import generate_app
from fraiseql.cli.generate_migration import migration_command
from fraiseql.cli.generate_model import model_command
from fraiseql.cli.generate_resolver import resolver_command
from fraiseql.cli.init import init_command
from fraiseql.cli.migrate import migrate_app
from fraiseql.cli.schema_print import schema_command
from fraiseql.cli.serve import serve_command

app = typer.Typer(
    name="fraiseql",
    help="FraiseQL: a GraphQL framework for PostgreSQL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.command("schema")(schema_command)
app.command("drift")(drift_command)
app.command("serve")(serve_command)
app.command("init")(init_command)
app.command("dev")(dev_command)
app.add_typer(errors_app, name="errors")
app.add_typer(generate_app, name="generate")
generate_app.command("model")(model_command)
generate_app.command("migration")(migration_command)
generate_app.command("resolver")(resolver_command)
app.add_typer(codegen_app, name="codegen")
app.add_typer(migrate_app, name="migrate")


@app.callback()
def _commands() -> None:
    """FraiseQL: a GraphQL framework for PostgreSQL."""


def main() -> None:
    """Run the command line (the ``fraiseql`` console script)."""
    app()
