"""The schema as ``pg_dump`` prints it: of a live database, and of a declared tree.

Confiture's ``SchemaDiffer`` compares two DDL texts. Compared with the tree's source files, a
live database's ``pg_dump`` differs everywhere PostgreSQL rewrites what it stores: generated
constraint names (``tb_post_title_check``) against unnamed inline constraints, ``'draft'::text``
against ``'draft'``, deparsed check expressions, views and policies, function headers, a type
created inside a ``DO`` block that the differ cannot see in the source. :func:`declared_ddl`
removes that noise at its root: it builds the tree in a scratch database on the same server
(Confiture's ``TempDatabase``) and dumps it the same way, so both sides are PostgreSQL's own
text and only real differences remain.
"""

from __future__ import annotations

import re
import tempfile
from contextlib import ExitStack
from pathlib import Path

from fraiseql.migrations import _confiture
from fraiseql.migrations.build import build
from fraiseql.migrations.errors import MigrationsError

__all__ = ["declared_ddl", "live_ddl"]

CONFITURE_SCHEMA = "confiture"
"""Where Confiture's ``migrate up`` installs its view helpers (``migration.view_helpers: auto``):
its bookkeeping, like ``tb_confiture``, never part of the declared schema."""

# The comment pg_dump writes before each object of its table of contents.
_TOC_HEADER = re.compile(
    r"^--\n-- Name: (?P<name>[^\n]*); Type: (?P<type>[^;\n]+); Schema: (?P<schema>[^;\n]+);"
    r" Owner: [^\n]*\n--\n",
    re.MULTILINE,
)


def _without_confiture_schema(dump: str) -> str:
    """``dump`` without the entries of Confiture's own schema (and that schema)."""
    headers = list(_TOC_HEADER.finditer(dump))
    if not headers:
        return dump
    kept = [dump[: headers[0].start()]]
    for header, following in zip(headers, [*headers[1:], None], strict=True):
        entry = dump[header.start() : following.start() if following else len(dump)]
        own = header["schema"] == CONFITURE_SCHEMA or (
            header["type"] == "SCHEMA" and header["name"] == CONFITURE_SCHEMA
        )
        if not own:
            kept.append(entry)
    return "".join(kept)


def live_ddl(database_url: str, *, keep_extensions: bool = False) -> str:
    """The schema DDL of the live database (``pg_dump --schema-only``), Confiture's own out.

    Confiture's ledger tables and its ``confiture`` schema (view helpers) are left out.
    ``keep_extensions`` keeps the ``CREATE EXTENSION`` lines Confiture's cleaning removes.
    """
    temp = _confiture.module("confiture.core.temp_database")
    drift = _confiture.module("confiture.core.drift")
    try:
        raw = temp.pg_dump_schema(
            database_url, exclude_tables=sorted(drift.SchemaDriftDetector.SYSTEM_TABLES)
        )
    except Exception as error:  # SchemaError: pg_dump missing or failing
        raise _confiture.wrap_errors(error) from error
    return _without_confiture_schema(
        str(temp.clean_pg_dump_output(raw, keep_extensions=keep_extensions))
    )


def _require_createdb(database_url: str) -> None:
    """Refuse early, and clearly, a role that cannot create the scratch database."""
    connection_module = _confiture.module("confiture.core.connection")
    try:
        connection = connection_module.create_connection(database_url)
    except Exception as error:
        raise _confiture.wrap_errors(error) from error
    try:
        row = connection.execute(
            "SELECT current_user, rolcreatedb OR rolsuper FROM pg_roles"
            " WHERE rolname = current_user"
        ).fetchone()
    finally:
        connection.close()
    if row is not None and not row[1]:
        msg = (
            f"role {row[0]} cannot create the scratch database the declared schema is dumped"
            " from: it needs CREATEDB on the server (or write the migration with --empty)"
        )
        raise MigrationsError(msg)


def declared_ddl(
    schema_dir: str | Path, database_url: str, *, keep_extensions: bool = False
) -> str:
    """The DDL of the ``schema_dir`` tree as :func:`live_ddl` prints a database built from it.

    The tree is built (:func:`fraiseql.migrations.build`, one transaction) in a scratch
    database that Confiture's ``TempDatabase`` creates on ``database_url``'s server and drops
    afterwards: the role needs ``CREATEDB``. A tree that does not build raises
    :class:`~fraiseql.migrations.MigrationsError` naming the file.
    """
    temp = _confiture.module("confiture.core.temp_database")
    _confiture.environment(database_url, schema_dir)  # the URL and the directory, checked
    _require_createdb(database_url)
    with ExitStack() as stack:
        scratch = temp.TempDatabase(database_url)
        try:
            scratch_url = stack.enter_context(scratch)
        except Exception as error:  # SchemaError (no server), psycopg's errors
            # TempDatabase.__enter__ leaves its maintenance connection open when CREATE
            # DATABASE fails (its __exit__ never runs): close it here.
            leaked = getattr(scratch, "_maintenance_conn", None)
            if leaked is not None:
                leaked.close()
            msg = (
                f"cannot create a scratch database to dump the declared schema into: "
                f"{_confiture.wrap_errors(error)}\n  hint: the role needs CREATEDB on the server"
            )
            raise MigrationsError(msg) from error
        no_migrations = stack.enter_context(tempfile.TemporaryDirectory())
        try:
            build(scratch_url, schema_dir, migrations_dir=no_migrations)
        except MigrationsError as error:
            msg = f"the declared schema does not build (in a scratch database): {error}"
            raise MigrationsError(msg) from error
        return live_ddl(scratch_url, keep_extensions=keep_extensions)
