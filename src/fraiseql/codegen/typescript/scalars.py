"""How GraphQL scalars become TypeScript types: the default mapping and ``Name=Type`` overrides."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from fraiseql.types.scalars import BUILTIN_SCALARS

SPEC_TYPES: dict[str, str] = {
    "String": "string",
    "Int": "number",
    "Float": "number",
    "Boolean": "boolean",
    "ID": "string",
}
"""The five scalars of the GraphQL specification."""

DEFAULT_SCALARS: dict[str, str] = {
    **SPEC_TYPES,
    "UUID": "string",
    "DateTime": "string",
    "Date": "string",
    "Time": "string",
    "Decimal": "string",
    "JSON": "unknown",
    "EmailAddress": "string",
    "IPAddress": "string",
    "CIDR": "string",
    "LTree": "string",
}
"""What each built-in scalar is on the wire, as FraiseQL serializes it.

``Decimal`` is a string (it keeps every digit); ``JSON`` is any JSON value, so ``unknown``.
A scalar the mapping does not know (a project's own ``fraiseql.scalar``) is ``unknown``.
"""

UNKNOWN_SCALAR = "unknown"

_missing = {definition.name for definition in BUILTIN_SCALARS} - DEFAULT_SCALARS.keys()
assert not _missing, f"DEFAULT_SCALARS lacks {_missing}"


class ScalarOptionError(ValueError):
    """A ``--scalar`` option is not ``Name=TypeScriptType``."""


def parse_scalar_options(values: Iterable[str]) -> dict[str, str]:
    """``["DateTime=Date", "JSON=Record<string, unknown>"]`` as a mapping, checked."""
    found: dict[str, str] = {}
    for value in values:
        name, sep, ts_type = value.partition("=")
        name, ts_type = name.strip(), ts_type.strip()
        if not sep or not name.isidentifier() or not ts_type:
            raise ScalarOptionError(
                f"--scalar takes Name=TypeScriptType (such as DateTime=Date), not {value!r}"
            )
        found[name] = ts_type
    return found


def scalar_mapping(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The default mapping with ``overrides`` applied."""
    mapping = dict(DEFAULT_SCALARS)
    mapping.update(overrides or {})
    return mapping
