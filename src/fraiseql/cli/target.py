"""Find the user's schema from a ``module:attribute`` reference given on the command line."""

from __future__ import annotations

import importlib
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from fraiseql.schema.schema import Schema


@dataclass(frozen=True, slots=True)
class Target:
    """What a ``module:attribute`` reference names: the object, and whether it makes one."""

    value: Any
    is_factory: bool


def resolve(reference: str) -> Target:
    """Import ``module:attribute``; a plain function (not an app) is a factory of one.

    Raises ``typer.BadParameter`` with what went wrong (a bad reference, an import error, a
    missing attribute).
    """
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise typer.BadParameter(f"expected 'module:attribute', got {reference!r}")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise typer.BadParameter(f"cannot import {module_name!r}: {error}") from error
    value: Any = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise typer.BadParameter(f"{module_name!r} has no attribute {attribute!r}") from None
    is_factory = inspect.isfunction(value) and _as_schema(value) is None
    return Target(value, is_factory)


def load_schema(reference: str) -> Schema:
    """Import ``module:attribute`` and return the :class:`Schema` it names.

    The attribute may be a ``Schema``, an app built by :func:`fraiseql.create_app`, or a
    callable with no arguments returning either. The current
    directory is importable, as it is for ``uvicorn module:app``.
    """
    value = resolve(reference).value
    schema = _as_schema(value)
    if schema is None and callable(value):
        try:
            schema = _as_schema(value())
        except Exception as error:
            raise typer.BadParameter(f"calling {reference!r} failed: {error}") from error
    if schema is None:
        raise typer.BadParameter(f"{reference!r} is not a fraiseql.Schema or a FraiseQL app")
    return schema


def _as_schema(value: Any) -> Schema | None:
    if isinstance(value, Schema):
        return value
    schema = getattr(getattr(value, "state", None), "fraiseql_schema", None)
    return schema if isinstance(schema, Schema) else None
