"""Input objects: built from coerced values, remembering which fields the client gave."""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fraiseql.schema.model import TypeModel

PROVIDED_ATTR = "__fraiseql_provided__"


def build_input(cls: type, model: TypeModel, values: dict[str, Any]) -> Any:
    """An instance of an input class from graphql-core's coerced values (Python names).

    Nullable fields the client left out become ``None``; the names the client did give are kept
    in ``__fraiseql_provided__`` so that a mutation can tell "not given" from "set to null".
    """
    provided = frozenset(values)
    complete = dict(values)
    for field in model.fields.values():
        if field.python_name not in complete and not field.has_default:
            complete[field.python_name] = None
    instance = cls(**complete)
    object.__setattr__(instance, PROVIDED_ATTR, provided)
    return instance


def provided_fields(instance: Any) -> frozenset[str] | None:
    """The fields a client gave for an input instance (``None`` when not built from a request)."""
    value = getattr(instance, PROVIDED_ATTR, None)
    return value if isinstance(value, frozenset) else None


def input_to_json_value(value: Any) -> Any:
    """Arguments as JSON-ready values: input instances become dicts of the fields given."""
    kind: type = type(value)
    if kind in _PLAIN:
        return value
    names = _dataclass_fields(kind)
    if names is not None:
        given = provided_fields(value)
        return {
            name: input_to_json_value(getattr(value, name))
            for name in names
            if given is None or name in given
        }
    if isinstance(value, list | tuple):
        return [input_to_json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: input_to_json_value(item) for key, item in value.items()}
    return value


_PLAIN = frozenset({str, int, float, bool, type(None)})
"""Types returned as they are, before any other test: most values of an input are these."""


@functools.lru_cache(maxsize=1024)
def _dataclass_fields(kind: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type (an input class), ``None`` for any other type."""
    if not dataclasses.is_dataclass(kind):
        return None
    return tuple(f.name for f in dataclasses.fields(kind))
