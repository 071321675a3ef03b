"""Per-request database settings: tenant claims, the role, the statement timeout.

They are set with ``set_config(name, value, true)`` inside the request transaction, in one
statement, on every path (queries, mutations, custom resolvers): a transaction-local setting
ends with the transaction, so nothing carries over to the next user of a pooled connection.
Row-level-security policies read them with ``current_setting('app.tenant_id', true)``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ClaimsGetter = Callable[[dict[str, Any]], Mapping[str, Any]]
"""Builds the claims of a request from its context: ``{"app.tenant_id": ..., ...}``."""

RoleGetter = Callable[[dict[str, Any]], str | None]
"""Picks the database role of a request from its context (``None``: the static ``role``)."""

_SETTING = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_.]*")


class ClaimsError(ValueError):
    """A claims getter returned something that cannot be a database setting."""


def is_setting_name(name: object) -> bool:
    """Whether ``name`` can be a custom setting (``app.tenant_id``: a dot, identifier parts)."""
    return isinstance(name, str) and _SETTING.fullmatch(name) is not None


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """What every request transaction starts with.

    ``claims`` maps the request context to custom settings (names need a dot, such as
    ``app.tenant_id``; ``None`` values become empty strings). ``role`` is the database role the
    request runs as (``SET LOCAL ROLE``); it should own nothing, not be a superuser and not have
    BYPASSRLS. ``statement_timeout_ms`` bounds every statement of the request. ``role_from``
    picks the role per request from the context (such as the role of a verified token, see
    :class:`fraiseql.JWTAuth`); when it returns ``None`` the static ``role`` applies. Either
    way the role is set in the same one ``set_config`` statement as the claims.
    """

    claims: ClaimsGetter | None = None
    role: str | None = None
    statement_timeout_ms: int | None = None
    role_from: RoleGetter | None = None

    def settings_for(self, context: dict[str, Any]) -> list[tuple[str, str]]:
        """The ``(name, value)`` pairs to set for a request with ``context``."""
        pairs: list[tuple[str, str]] = []
        role = self.role_from(context) if self.role_from is not None else None
        if role is None:
            role = self.role
        if role is not None:
            pairs.append(("role", role))
        if self.statement_timeout_ms is not None:
            pairs.append(("statement_timeout", str(int(self.statement_timeout_ms))))
        if self.claims is not None:
            for name, value in self.claims(context).items():
                if not is_setting_name(name):
                    raise ClaimsError(
                        f"claim names must look like 'app.tenant_id' (with a dot), not {name!r}"
                    )
                text = "" if value is None else str(value)
                if "\x00" in text:
                    raise ClaimsError(f"the value of claim {name!r} contains a NUL byte")
                pairs.append((name, text))
        return pairs


def set_config_statement(pairs: list[tuple[str, str]]) -> tuple[str, list[str]]:
    """One ``SELECT set_config($1, $2, true), ...`` statement and its parameters."""
    return _set_config_sql(len(pairs)), [part for pair in pairs for part in pair]


def session_config_statement(pairs: list[tuple[str, str]]) -> tuple[str, list[str]]:
    """The same statement with ``set_config(..., false)``: settings kept by the session."""
    return _set_config_sql(len(pairs), local=False), [part for pair in pairs for part in pair]


@functools.lru_cache(maxsize=32)
def _set_config_sql(count: int, *, local: bool = True) -> str:
    # The text depends only on how many settings there are: built once, not per request.
    scope = "true" if local else "false"
    calls = [f"set_config(${2 * i + 1}::text, ${2 * i + 2}::text, {scope})" for i in range(count)]
    return "SELECT " + ", ".join(calls)
