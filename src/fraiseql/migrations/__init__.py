"""Migrations with fraiseql-confiture (the ``migrations`` extra): a thin layer over its API.

- :func:`build`: a database from a ``db/schema/`` tree (the layout ``fraiseql generate ddl``
  writes), in one transaction; every migration is then recorded as applied.
- :func:`live_ddl`, :func:`declared_ddl`: a database's and a tree's schema as ``pg_dump``
  prints them (the tree built in a scratch database), the two sides ``generate`` compares.
- :func:`generate`, :func:`up`, :func:`down`, :func:`status`: the migrations of
  ``db/migrations``, each applied in one transaction.
- :func:`diff`: a live database against the declared schema (a tree, or a ``Schema``'s DDL).

Confiture is imported when a function is called; without it they raise
:class:`MigrationsUnavailableError` (an ``ImportError``) naming the extra.
"""

from __future__ import annotations

from fraiseql.migrations.build import BuildResult, build, schema_files
from fraiseql.migrations.diff import (
    DESTRUCTIVE_KINDS,
    DiffItem,
    DiffReport,
    diff,
    refuse_destructive,
)
from fraiseql.migrations.dump import declared_ddl, live_ddl
from fraiseql.migrations.errors import (
    DestructiveChangeError,
    MigrationsError,
    MigrationsUnavailableError,
)
from fraiseql.migrations.history import MigrationState, down, generate, status, up

__all__ = [
    "DESTRUCTIVE_KINDS",
    "BuildResult",
    "DestructiveChangeError",
    "DiffItem",
    "DiffReport",
    "MigrationState",
    "MigrationsError",
    "MigrationsUnavailableError",
    "build",
    "declared_ddl",
    "diff",
    "down",
    "generate",
    "live_ddl",
    "refuse_destructive",
    "schema_files",
    "status",
    "up",
]
