"""``fraiseql generate ddl TARGET``: write the DDL of a schema's types as a ``db/schema/`` tree.

The files come from :func:`fraiseql.codegen.generate_ddl` (the schema model only, no database).
``--check`` writes nothing and exits 1 when the files on disk differ from what would be
generated (for CI); 0 when they match.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fraiseql.cli.target import load_schema
from fraiseql.codegen import DDLDefinitionError, TenantOptions, check_ddl, write_ddl

generate_app = typer.Typer(help="Generate code from a schema's declarations.", no_args_is_help=True)


def _indexes(values: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for value in values:
        type_name, _, path = value.partition(".")
        if not type_name or not path:
            raise typer.BadParameter(
                f"--index takes Type.field (such as Post.status), not {value!r}"
            )
        found.setdefault(type_name, []).append(path)
    return found


@generate_app.command("ddl")
def ddl_command(
    target: Annotated[str, typer.Argument(help="The schema as 'module:attribute'.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="The schema directory Confiture builds from.")
    ] = Path("db/schema"),
    tenant: Annotated[
        str | None,
        typer.Option(help="Turn on tenancy with RLS: the tenant's write table (tb_organisation)."),
    ] = None,
    tenant_setting: Annotated[
        str, typer.Option(help="The claim the policies compare with.")
    ] = "app.tenant_id",
    tenant_role: Annotated[
        str | None, typer.Option(help="The role requests run as (granted, and created).")
    ] = "app",
    tenant_column: Annotated[
        str, typer.Option(help="The tenant column of the tv_* read models.")
    ] = "tenant_id",
    create_role: Annotated[
        bool, typer.Option("--create-role/--no-create-role", help="Write CREATE ROLE.")
    ] = True,
    index: Annotated[
        list[str] | None,
        typer.Option(help="An expression index on a read model, as Type.field (repeatable)."),
    ] = None,
    auto_indexes: Annotated[
        bool,
        typer.Option(
            "--auto-indexes/--no-auto-indexes",
            help="Index the DateTime fields of the types a root query can order.",
        ),
    ] = True,
    contract: Annotated[
        bool,
        typer.Option("--contract/--no-contract", help="Write CONTRACT_SQL into 00_common."),
    ] = True,
    upserts: Annotated[
        bool,
        typer.Option("--upserts/--no-upserts", help="Also write fn_upsert_<entity> functions."),
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if the files differ.")
    ] = False,
) -> None:
    """Write tb_* tables, tv_* read models, views, functions and policies for the schema."""
    schema = load_schema(target)
    options = (
        TenantOptions(
            table=tenant,
            setting=tenant_setting,
            role=tenant_role,
            column=tenant_column,
            create_role=create_role,
        )
        if tenant is not None
        else None
    )
    settings = {
        "tenant": options,
        "indexes": _indexes(index or []),
        "auto_indexes": auto_indexes,
        "contract": contract,
        "upserts": upserts,
    }
    try:
        if check:
            problems = check_ddl(out, schema, **settings)
            for problem in problems:
                typer.echo(problem)
            if problems:
                typer.echo(f"{out} is not what 'fraiseql generate ddl' writes: generate again")
                raise typer.Exit(1)
            typer.echo(f"{out} is up to date")
            return
        changed = write_ddl(out, schema, **settings)
    except DDLDefinitionError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(2) from None
    for path in changed:
        typer.echo(f"{'wrote' if path.exists() else 'removed'} {path}")
    typer.echo(f"{len(changed)} file{'' if len(changed) == 1 else 's'} changed under {out}")
