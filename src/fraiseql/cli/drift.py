"""``fraiseql drift TARGET``: compare every read model of a schema with its defining view.

Each type whose ``sql_source`` is a ``tv_<entity>`` table is checked with
:func:`fraiseql.db.sync.check_drift` against ``v_tv_<entity>`` (in the same schema). The
columns compared are those the table and the view share, besides ``id``. Exit status: 0 when
every read model matches, 1 when some rows drifted (their ids are listed), 2 when a read model
cannot be checked (its table or view is missing) or the database cannot be reached.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import asyncpg
import typer

from fraiseql.cli.target import load_schema
from fraiseql.db.sync import Drift, ReadModel, check_drift
from fraiseql.schema.schema import Schema
from fraiseql.sql.identifiers import quote_qualified

_SHARED_COLUMNS = """
SELECT t.attname
FROM pg_attribute t
WHERE t.attrelid = to_regclass($1) AND t.attnum > 0 AND NOT t.attisdropped AND t.attname <> 'id'
  AND EXISTS (SELECT 1 FROM pg_attribute v
              WHERE v.attrelid = to_regclass($2) AND v.attname = t.attname
                AND v.attnum > 0 AND NOT v.attisdropped)
ORDER BY t.attnum
"""


class UncheckableError(Exception):
    """A read model that cannot be compared (a missing table or view)."""


def read_models(schema: Schema) -> list[ReadModel]:
    """The ``tv_*`` read models behind the schema's types, each once, by table name."""
    found: dict[str, ReadModel] = {}
    for model in schema.model.types.values():
        source = model.definition.sql_source
        if not source:
            continue
        prefix, _, name = source.rpartition(".")
        if not name.startswith("tv_") or source in found:
            continue
        entity = name[3:]
        qualifier = f"{prefix}." if prefix else ""
        found[source] = ReadModel(
            entity,
            table=source,
            view=f"{qualifier}v_tv_{entity}",
            source=f"{qualifier}tb_{entity}",
        )
    return [found[source] for source in sorted(found)]


async def _check(connection: asyncpg.Connection, model: ReadModel, limit: int) -> Drift:
    table, view = quote_qualified(model.table), quote_qualified(model.view)
    has_table = await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", table)
    has_view = await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", view)
    if not has_table:
        raise UncheckableError(f"there is no table {model.table}")
    if not has_view:
        raise UncheckableError(f"there is no view {model.view} defining it")
    columns = [row[0] for row in await connection.fetch(_SHARED_COLUMNS, table, view)]
    if not columns:
        raise UncheckableError(f"{model.table} and {model.view} share no column besides id")
    model = ReadModel(
        model.entity,
        table=model.table,
        view=model.view,
        source=model.source,
        columns=tuple(columns),
    )
    return await check_drift(connection, model, limit=limit)


async def _run(schema: Schema, database_url: str, limit: int) -> int:
    try:
        connection = await asyncpg.connect(database_url)
    except (OSError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        typer.echo(f"cannot connect to the database: {error}", err=True)
        return 2
    worst = 0
    try:
        for model in read_models(schema):
            try:
                drift = await _check(connection, model, limit)
            except UncheckableError as problem:
                typer.echo(f"{model.table}: not checked: {problem}")
                worst = 2
                continue
            if drift.clean:
                typer.echo(f"{model.table}: no drift")
                continue
            worst = max(worst, 1)
            count = len(drift.missing) + len(drift.stale) + len(drift.extra)
            typer.echo(f"{model.table}: {count} drifted row{'' if count == 1 else 's'}")
            for kind, ids in (
                ("missing", drift.missing),
                ("stale", drift.stale),
                ("extra", drift.extra),
            ):
                for entity_id in ids:
                    typer.echo(f"  {kind} {entity_id}")
    finally:
        await connection.close()
    return worst


def drift_command(
    target: Annotated[str, typer.Argument(help="The schema as 'module:attribute'.")],
    database_url: Annotated[
        str,
        typer.Option(
            "--database-url",
            "-d",
            envvar="FRAISEQL_DATABASE_URL",
            help="PostgreSQL URL (default: $FRAISEQL_DATABASE_URL).",
        ),
    ],
    limit: Annotated[
        int, typer.Option(min=1, help="List at most this many ids per kind of drift.")
    ] = 100,
) -> None:
    """Check that every tv_* read model of the schema matches its v_tv_* view.

    Lists the ids of missing, stale and extra rows; exits 1 when any row drifted, 2 when a read
    model cannot be checked.
    """
    schema = load_schema(target)
    raise typer.Exit(asyncio.run(_run(schema, database_url, limit)))
