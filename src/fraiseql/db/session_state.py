"""Request settings kept on a pooled connection's session between requests (opt-in).

By default every request that has settings (claims, role, statement timeout) sets them
transaction-locally inside its own transaction: BEGIN, ``set_config(..., true)``, the
statement, COMMIT — four round trips for a read that is one statement. With
``PoolSettings(keep_settings=True)`` such a read sets them at session level instead, and only
those that differ from what the connection already carries: a tenant's second read on a
connection is one round trip, as without settings, a change of tenant two.

What a connection carries is remembered on it (:class:`SettingsConnection`), so nothing is
guessed: a setting a request does not give is reset (``role`` to ``none``, the statement
timeout to the pool's, a claim to the empty string, which policies already meet on a connection
reused after a transaction-local setting); a transactional request overrides them all
transaction-locally; anything else that acquires a connection from the pool gets it cleaned
first (:func:`clean`, in the pool's ``setup``).

**Only where the connection is PostgreSQL's own session**: connected directly, or through
PgBouncer in *session* mode. Behind transaction pooling the next transaction may run on another
server connection, with another request's settings: never turn it on there.
"""

from __future__ import annotations

import contextvars
from typing import Any

import asyncpg

from fraiseql.security.claims import session_config_statement

FOR_REQUEST: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "fraiseql_acquire_for_request", default=False
)
"""True while a request session acquires: it sets what it needs itself, so no cleaning."""


class SettingsConnection(asyncpg.Connection):
    """An asyncpg connection that remembers the settings set on its session."""

    __slots__ = ("kept_settings",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kept_settings: dict[str, str] = {}
        """Session-level settings this connection carries, by name."""


def kept_on(connection: Any) -> dict[str, str]:
    """The settings the session of ``connection`` (a :class:`SettingsConnection`) keeps."""
    kept: dict[str, str] = connection.kept_settings
    return kept


def reset_value(name: str, statement_timeout_ms: int) -> str:
    """What a setting goes back to when a request does not give it."""
    if name == "role":
        return "none"
    if name == "statement_timeout":
        return str(statement_timeout_ms)
    return ""


def changes(
    kept: dict[str, str], wanted: list[tuple[str, str]], statement_timeout_ms: int
) -> list[tuple[str, str]]:
    """The session-level settings to set so that the session carries exactly ``wanted``."""
    wanted_names = {name for name, _ in wanted}
    found = [(name, value) for name, value in wanted if kept.get(name) != value]
    found.extend(
        (name, reset_value(name, statement_timeout_ms)) for name in kept if name not in wanted_names
    )
    return found


def covering(
    kept: dict[str, str], wanted: list[tuple[str, str]], statement_timeout_ms: int
) -> list[tuple[str, str]]:
    """``wanted`` plus resets of the kept settings it does not name (for ``set_config(, true)``).

    A transaction-local setting overrides the session's for the transaction, so a
    transactional request on a connection with kept settings sees only its own.
    """
    if not kept:
        return wanted
    wanted_names = {name for name, _ in wanted}
    return wanted + [
        (name, reset_value(name, statement_timeout_ms)) for name in kept if name not in wanted_names
    ]


def remember(kept: dict[str, str], applied: list[tuple[str, str]], timeout_ms: int) -> None:
    """Record ``applied`` (session-level, committed) in ``kept``: resets are forgotten."""
    for name, value in applied:
        if value == reset_value(name, timeout_ms):
            kept.pop(name, None)
        else:
            kept[name] = value


async def apply(connection: Any, wanted: list[tuple[str, str]], timeout_ms: int) -> None:
    """Make the session of ``connection`` carry ``wanted``: at most one statement."""
    kept = kept_on(connection)
    needed = changes(kept, wanted, timeout_ms)
    if not needed:
        return
    sql, params = session_config_statement(needed)
    await connection.execute(sql, *params)
    remember(kept, needed, timeout_ms)


async def clean(connection: Any, timeout_ms: int) -> None:
    """Reset every kept setting (for a user of the pool that is not a request session)."""
    kept: dict[str, str] | None = getattr(connection, "kept_settings", None)
    if not kept:
        return
    resets = [(name, reset_value(name, timeout_ms)) for name in kept]
    sql, params = session_config_statement(resets)
    await connection.execute(sql, *params)
    kept.clear()


__all__ = [
    "FOR_REQUEST",
    "SettingsConnection",
    "apply",
    "changes",
    "clean",
    "covering",
    "kept_on",
    "remember",
    "reset_value",
]
