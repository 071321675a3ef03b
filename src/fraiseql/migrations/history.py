"""Migrations in ``db/migrations``: generate, apply (up), roll back (down), status — Confiture's.

A migration is Confiture's SQL pair ``<version>_<name>.up.sql`` / ``.down.sql`` (or its Python
form). Confiture applies each one in a transaction with its ledger row in ``tb_confiture``, so
a migration that fails halfway leaves the database as it was before it.

:func:`generate` writes such a pair: empty, for a hand-written migration (expand/contract
steps), or computed by Confiture's ``SchemaDiffer`` from the live database to the declared
``db/schema/`` tree, both sides as ``pg_dump`` prints them (:mod:`fraiseql.migrations.dump`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fraiseql.migrations import _confiture
from fraiseql.migrations.dump import declared_ddl, live_ddl
from fraiseql.migrations.errors import DestructiveChangeError, MigrationsError

__all__ = ["MigrationState", "down", "generate", "status", "up"]

_NAME = re.compile(r"^[a-z0-9_]+$")

_EMPTY_UP = """-- Migration: {name}
-- Version: {version}
--
-- Confiture runs this file in one transaction, with its ledger row: if a statement fails,
-- nothing of it stays. Write the forward change here.
"""

_EMPTY_DOWN = """-- Migration: {name} (rollback)
-- Version: {version}
--
-- Undo what {version}_{name}.up.sql does.
"""


@dataclass(frozen=True, slots=True)
class MigrationState:
    """One migration file and whether the database has applied it."""

    version: str
    name: str
    status: str  # "applied" | "pending" | "unknown"
    applied_at: datetime | None


def _run(database_url: str, migrations_dir: str | Path, action: str, **options: object) -> object:
    try:
        with _confiture.session(database_url, migrations_dir) as migrator:
            return getattr(migrator, action)(**options)
    except MigrationsError:
        raise
    except Exception as error:  # Confiture's MigrationError, psycopg's errors
        raise _confiture.wrap_errors(error) from error


def up(
    database_url: str,
    migrations_dir: str | Path = "db/migrations",
    *,
    target: str | None = None,
    allow_destructive: bool = False,
) -> list[str]:
    """Apply the pending migrations (up to ``target``); the versions applied, in order.

    A migration marked ``-- confiture:destructive`` is refused unless ``allow_destructive``.
    """
    result: object = _run(
        database_url, migrations_dir, "up", target=target, allow_destructive=allow_destructive
    )
    failure = getattr(result, "failure", None)
    if failure is not None:
        raise _confiture.wrap_errors(failure) from failure
    if not getattr(result, "success", False):
        errors = getattr(result, "errors", None) or [getattr(result, "error_summary", None)]
        raise MigrationsError("; ".join(str(e) for e in errors if e) or "migrate up failed")
    return [m.version for m in getattr(result, "migrations_applied", [])]


def down(
    database_url: str, migrations_dir: str | Path = "db/migrations", *, steps: int = 1
) -> list[str]:
    """Roll back the last ``steps`` applied migrations; the versions rolled back, in order."""
    if steps < 1:
        msg = "steps must be at least 1"
        raise MigrationsError(msg)
    result: object = _run(database_url, migrations_dir, "down", steps=steps)
    if not getattr(result, "success", False):
        raise MigrationsError(getattr(result, "error", None) or "migrate down failed")
    return [m.version for m in getattr(result, "migrations_rolled_back", [])]


def status(database_url: str, migrations_dir: str | Path = "db/migrations") -> list[MigrationState]:
    """Every migration of ``migrations_dir`` (and of the ledger), applied or pending."""
    result: object = _run(database_url, migrations_dir, "status")
    return [
        MigrationState(m.version, m.name, m.status, m.applied_at)
        for m in getattr(result, "migrations", [])
    ]


def generate(
    name: str,
    migrations_dir: str | Path = "db/migrations",
    *,
    database_url: str | None = None,
    schema_dir: str | Path = "db/schema",
    allow_destructive: bool = False,
    version: str | None = None,
) -> list[Path]:
    """Write the migration ``name``; return its files (up first).

    Without ``database_url``: an empty ``.up.sql`` / ``.down.sql`` pair to fill in. With it: the
    statements that take the live database to the ``schema_dir`` tree: Confiture's differ and
    SQL generator over two ``pg_dump`` texts, the live database's and that of a scratch database
    built from the tree (:func:`fraiseql.migrations.dump.declared_ddl`; the role needs
    ``CREATEDB``). A change that drops a table, column or sequence (data) or a function or
    view is refused with :class:`DestructiveChangeError` unless ``allow_destructive``. A name
    already used by another migration is refused.
    """
    if not _NAME.match(name):
        msg = f"invalid migration name {name!r}: snake_case, lowercase letters, digits and _"
        raise MigrationsError(msg)
    directory = Path(migrations_dir)
    generator_module = _confiture.module("confiture.core.migration_generator")
    directory.mkdir(parents=True, exist_ok=True)
    generator = generator_module.MigrationGenerator(migrations_dir=directory)
    discovery = _confiture.module("confiture.core.migrator")
    existing = [
        discovery.parse_migration_filename(path.name)
        for path in discovery.discover_migration_files(directory)
    ]
    conflicts = sorted(f"{v}_{n}" for v, n in existing if n == name)
    if conflicts:
        msg = f"a migration named {name!r} exists already ({', '.join(conflicts)}): choose another"
        raise MigrationsError(msg)
    versions = {v for v, _ in existing}
    if version is not None and version in versions:
        msg = f"a migration with version {version} exists already"
        raise MigrationsError(msg)
    if version is None:
        # Confiture's versions are the clock's seconds: two migrations generated within one
        # second would share one. Take the next free number instead.
        version = generator.get_next_version()
        highest = max((v for v in versions if v.isdigit()), key=int, default=None)
        if highest is not None and int(version) <= int(highest):
            version = str(int(highest) + 1)
    if database_url is None:
        up_path = directory / f"{version}_{name}.up.sql"
        down_path = directory / f"{version}_{name}.down.sql"
        up_path.write_text(_EMPTY_UP.format(name=name, version=version), encoding="utf-8")
        down_path.write_text(_EMPTY_DOWN.format(name=name, version=version), encoding="utf-8")
        return [up_path, down_path]
    differ = _confiture.module("confiture.core.differ")
    destructive = _confiture.module("confiture.core.destructive")
    schema_change = _confiture.module("confiture.core.schema_change")
    try:
        # Both sides as pg_dump prints them (the tree built in a scratch database): the
        # differ sees PostgreSQL's text twice, not source files against a dump.
        diff = differ.SchemaDiffer().compare(
            live_ddl(database_url, keep_extensions=True),
            declared_ddl(schema_dir, database_url, keep_extensions=True),
        )
    except MigrationsError:
        raise
    except Exception as error:  # DifferError
        raise _confiture.wrap_errors(error) from error
    if not diff.has_changes():
        msg = f"nothing to generate: the database already matches {schema_dir}"
        raise MigrationsError(msg)
    losing = [
        str(change)
        for change in diff.changes
        if destructive.data_loss_reason(change) is not None
        or isinstance(change, schema_change.ObjectDropped)
    ]
    if losing and not allow_destructive:
        msg = "the migration would drop " + "; ".join(losing) + " (pass allow_destructive)"
        raise DestructiveChangeError(msg, losing)
    try:
        up_path = generator.generate_sql(
            diff, name=name, version=version, destructive="allow" if allow_destructive else "forbid"
        )
    except Exception as error:  # DifferError DIFFER_401: Confiture's own gate
        raise _confiture.wrap_errors(error) from error
    return [up_path, up_path.with_name(up_path.name.replace(".up.sql", ".down.sql"))]
