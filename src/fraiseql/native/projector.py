"""The pure-Python response builder: completes source values along a :class:`Shape`.

It implements GraphQL value completion (spec §6.4.3) for data that is already in memory: the
parsed read-model JSON, or what a Python resolver returned. A ``null`` in a non-null position
records an error and nulls the nearest nullable parent, as the spec requires.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fraiseql.execution.errors import format_exception
from fraiseql.execution.shapes import LEAF, LIST, OBJECT, FieldPlan, Shape
from fraiseql.schema.graphql_types import typename_of

Path = tuple[Any, ...] | None
"""A response path as a linked list ``(parent, key)``; turned into a list only for errors."""


def path_list(path: Path) -> list[str | int]:
    """The response path of an error, root first."""
    keys: list[str | int] = []
    while path is not None:
        path, key = path
        keys.append(key)
    keys.reverse()
    return keys


def materialize(shape: Shape, value: Any) -> Any:
    """A resolver's iterable (set, generator, view) as a list, so it can be walked twice."""
    if (
        shape.kind == LIST
        and not isinstance(value, list | tuple | str | bytes | Mapping)
        and isinstance(value, Iterable)
    ):
        return list(value)
    return value


class NullBubble(Exception):  # noqa: N818 - a control-flow signal, not an error
    """A non-null position got null: the nearest nullable parent becomes null."""


class ResolvedValue:
    """What a Python field resolver returned (or raised), looked up by the projector."""

    __slots__ = ("error", "value")

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value = value
        self.error = error


class Projector:
    """Completes values for one response; collects errors as spec-shaped dicts."""

    __slots__ = ("debug", "denied", "errors", "resolved")

    def __init__(
        self,
        resolved: Mapping[tuple[int, int], ResolvedValue] | None = None,
        *,
        debug: bool = False,
        denied: frozenset[int] = frozenset(),
    ) -> None:
        self.errors: list[dict[str, Any]] = []
        self.resolved = resolved or {}
        self.debug = debug
        self.denied = denied

    def error(
        self,
        message: str,
        field: FieldPlan | None,
        path: Path,
        code: str = "INVALID_RESPONSE_VALUE",
    ) -> None:
        """Record a field error at ``path``.

        The default code says that a value the server produced does not fit the schema (a null
        in a non-null field, a value a scalar cannot represent): a server-side data problem.
        """
        entry: dict[str, Any] = {"message": message}
        if field is not None:
            locations = field.locations
            if locations:
                entry["locations"] = locations
        entry["path"] = path_list(path)
        entry["extensions"] = {"code": code}
        self.errors.append(entry)

    def complete(self, field: FieldPlan | None, shape: Shape, value: Any, path: Path) -> Any:
        """Complete ``value``; raise :class:`NullBubble` when it is null in a non-null position."""
        if value is None:
            if shape.nullable:
                return None
            if field is not None:
                self.error(
                    f"Cannot return null for non-nullable field {field.parent_type}.{field.name}.",
                    field,
                    path,
                )
            raise NullBubble
        try:
            kind = shape.kind
            if kind == LEAF:
                assert shape.serialize is not None
                try:
                    return shape.serialize(value)
                except (ValueError, TypeError) as exc:
                    self.error(str(exc) or f"Cannot serialize {shape.type_name}", field, path)
                    raise NullBubble from None
                except Exception as exc:  # a broken serializer: masked, as a resolver's error
                    self.errors.append(
                        format_exception(
                            exc,
                            path=path_list(path),
                            locations=field.locations if field is not None else None,
                            debug=self.debug,
                        )
                    )
                    raise NullBubble from None
            if kind == OBJECT:
                return self.complete_object(shape, value, path, field)
            if kind == LIST:
                return self.complete_list(field, shape, value, path)
            return self.complete_abstract(field, shape, value, path)
        except NullBubble:
            if shape.nullable:
                return None
            raise

    def complete_list(
        self, field: FieldPlan | None, shape: Shape, value: Any, path: Path
    ) -> list[Any]:
        """Complete every item of a list."""
        if not isinstance(value, list | tuple):
            if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
                where = f" for field {field.parent_type}.{field.name}" if field else ""
                self.error(f"Expected a list{where}, got {type(value).__name__}.", field, path)
                raise NullBubble
            value = list(value)  # sets, generators, views: any iterable, as the spec allows
        item_shape = shape.item
        assert item_shape is not None
        complete = self.complete
        return [
            complete(field, item_shape, item, (path, index)) for index, item in enumerate(value)
        ]

    def complete_abstract(
        self, field: FieldPlan | None, shape: Shape, value: Any, path: Path
    ) -> Any:
        """Complete a value of an interface or union by its concrete type."""
        name = typename_of(value)
        concrete = shape.by_type.get(name) if name is not None else None
        if concrete is None:
            self.error(
                f"Cannot tell the concrete type of {shape.type_name} value "
                f"(typename {name!r}): read-model JSON must carry a valid '__typename'.",
                field,
                path,
            )
            raise NullBubble
        return self.complete_object(concrete, value, path, field)

    def complete_object(
        self, shape: Shape, source: Any, path: Path, parent: FieldPlan | None = None
    ) -> dict[str, Any]:
        """Project the selected fields of one object."""
        is_dict = isinstance(source, dict)
        if not is_dict and isinstance(source, str | int | float | bool | list):
            self.error(f"Expected an object of type {shape.type_name}.", parent, path)
            raise NullBubble
        result: dict[str, Any] = {}
        resolved = self.resolved
        complete = self.complete
        for field in shape.fields:
            if field.is_typename:
                result[field.key] = shape.type_name
                continue
            if field.requires and id(field) in self.denied:
                self.error(
                    f"Not authorized to access {field.parent_type}.{field.name}.",
                    field,
                    (path, field.key),
                    code="FORBIDDEN",
                )
                if field.shape is not None and not field.shape.nullable:
                    raise NullBubble
                result[field.key] = None
                continue
            if field.resolver is not None:
                outcome = resolved.get((id(source), id(field)))
                if outcome is None:
                    value = None
                elif outcome.error is not None:
                    self.errors.append(
                        format_exception(
                            outcome.error,
                            path=path_list((path, field.key)),
                            locations=field.locations,
                            debug=self.debug,
                        )
                    )
                    if field.shape is not None and not field.shape.nullable:
                        raise NullBubble
                    result[field.key] = None
                    continue
                else:
                    value = outcome.value
            elif is_dict:
                value = source.get(field.source)
            else:
                try:
                    value = getattr(source, field.source, None)
                except Exception as exc:  # a failing property: a field error, masked
                    self.errors.append(
                        format_exception(
                            exc,
                            path=path_list((path, field.key)),
                            locations=field.locations,
                            debug=self.debug,
                        )
                    )
                    if field.shape is not None and not field.shape.nullable:
                        raise NullBubble from None
                    result[field.key] = None
                    continue
            assert field.shape is not None
            result[field.key] = complete(field, field.shape, value, (path, field.key))
        return result
