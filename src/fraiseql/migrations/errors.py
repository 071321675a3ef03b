"""The errors of :mod:`fraiseql.migrations`."""

from __future__ import annotations

__all__ = ["DestructiveChangeError", "MigrationsError", "MigrationsUnavailableError"]


class MigrationsError(Exception):
    """A build, migration or diff failed; the message says what and, when known, why."""


class MigrationsUnavailableError(ImportError):
    """fraiseql-confiture is not installed: ``pip install 'fraiseql[migrations]'``."""


class DestructiveChangeError(MigrationsError):
    """The change would drop a table, a column or a function; refused unless allowed.

    ``changes`` lists what would be lost, one line each.
    """

    def __init__(self, message: str, changes: list[str]) -> None:
        super().__init__(message)
        self.changes = changes
