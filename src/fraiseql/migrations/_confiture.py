"""The one place that imports fraiseql-confiture, lazily (it is the ``migrations`` extra).

Everything else in :mod:`fraiseql.migrations` goes through :func:`confiture` and
:func:`session`: an ``Environment`` built in memory (no YAML file) from a DSN and the schema
directory, and Confiture's own ``Migrator.from_config`` session over it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

from fraiseql.migrations.errors import MigrationsError, MigrationsUnavailableError

__all__ = ["confiture", "environment", "module", "session", "wrap_errors"]

EXTRA_HINT = "install the migrations extra: pip install 'fraiseql[migrations]'"


def module(name: str) -> ModuleType:
    """Import ``name`` (``confiture`` or one of its modules), naming the extra when it is absent."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        if not name.startswith("confiture") or (error.name or "").split(".")[0] != "confiture":
            raise
        msg = f"fraiseql.migrations needs fraiseql-confiture: {EXTRA_HINT}"
        raise MigrationsUnavailableError(msg) from error


def confiture() -> ModuleType:
    """The ``confiture`` package."""
    return module("confiture")


def environment(database_url: str, schema_dir: str | Path | None = None) -> Any:
    """A Confiture ``Environment`` for ``database_url`` building from ``schema_dir``."""
    if not database_url.startswith(("postgresql://", "postgres://")):
        msg = "the database URL must start with postgresql:// (set --database-url)"
        raise MigrationsError(msg)
    data: dict[str, Any] = {"name": "fraiseql", "database_url": database_url}
    if schema_dir is not None:
        directory = Path(schema_dir).resolve()
        if not directory.is_dir():
            msg = f"no schema directory at {schema_dir}"
            raise MigrationsError(msg)
        data["include_dirs"] = [str(directory)]
    return confiture().Environment.model_validate(data)


def session(
    database_url: str, migrations_dir: str | Path, schema_dir: str | Path | None = None
) -> Any:
    """A Confiture ``MigratorSession`` (use it with ``with``) on ``database_url``."""
    return confiture().Migrator.from_config(
        environment(database_url, schema_dir), migrations_dir=Path(migrations_dir)
    )


def wrap_errors(error: BaseException) -> MigrationsError:
    """A :class:`MigrationsError` carrying a Confiture (or driver) error's message."""
    message = str(error).strip() or type(error).__name__
    hint = getattr(error, "resolution_hint", None)
    if hint and str(hint) not in message:
        message = f"{message}\n  hint: {hint}"
    wrapped = MigrationsError(message)
    wrapped.__cause__ = error
    return wrapped
