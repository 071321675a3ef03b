"""Python annotations resolved into type references, once, when a schema is built."""

from __future__ import annotations

import enum
import types
import typing
from dataclasses import dataclass
from typing import Any, Union

from fraiseql.types.definitions import (
    EnumDefinition,
    TypeDefinition,
    UnionDefinition,
    get_definition,
)
from fraiseql.types.generics import Aggregate, Connection, OrderBy, Where
from fraiseql.types.scalars import PYTHON_SCALARS, ScalarDefinition


class SchemaDefinitionError(TypeError):
    """A declaration cannot be turned into a GraphQL schema; the message says where and why."""


@dataclass(frozen=True, slots=True)
class UnionRef:
    """A union with its member classes."""

    definition: UnionDefinition
    members: tuple[type, ...]


@dataclass(frozen=True, slots=True)
class ConnectionRef:
    """``Connection[node]``."""

    node: type


@dataclass(frozen=True, slots=True)
class AggregateRef:
    """``Aggregate[node]``: the generated aggregate type of a read model."""

    node: type


@dataclass(frozen=True, slots=True)
class WhereRef:
    """``Where[target]``: the generated filter input of a type."""

    target: type


@dataclass(frozen=True, slots=True)
class OrderByRef:
    """``OrderBy[target]``: the generated ordering input of a type."""

    target: type


Named = (
    ScalarDefinition
    | TypeDefinition
    | EnumDefinition
    | UnionRef
    | ConnectionRef
    | AggregateRef
    | WhereRef
    | OrderByRef
)


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A resolved annotation: a named type, or a list of a ``TypeRef``, and its nullability."""

    nullable: bool
    named: Named | None = None
    item: TypeRef | None = None

    @property
    def is_list(self) -> bool:
        """True for list types."""
        return self.item is not None

    def innermost(self) -> Named:
        """The named type under any list wrappers."""
        ref: TypeRef = self
        while ref.item is not None:
            ref = ref.item
        assert ref.named is not None
        return ref.named


def enum_definition(cls: type[enum.Enum]) -> EnumDefinition:
    """The definition of an enum class, decorated or not."""
    definition = get_definition(cls)
    if isinstance(definition, EnumDefinition):
        return definition
    doc = cls.__dict__.get("__doc__")
    return EnumDefinition(
        cls=cls, name=cls.__name__, description=None if doc == "An enumeration." else doc
    )


def resolve_annotation(annotation: Any, where: str) -> TypeRef:
    """Turn an evaluated annotation into a :class:`TypeRef`; ``where`` names it in errors."""
    return _resolve(annotation, where, nullable=False)


def _resolve(annotation: Any, where: str, *, nullable: bool) -> TypeRef:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Union or origin is types.UnionType:
        members = [a for a in args if a is not type(None)]
        is_nullable = len(members) != len(args)
        if len(members) == 1:
            return _resolve(members[0], where, nullable=nullable or is_nullable)
        raise SchemaDefinitionError(
            f"{where}: a union of several types needs a name: "
            f"Annotated[A | B, fraiseql.union('Name')]"
        )
    if origin is typing.Annotated:
        inner, *extras = args
        for extra in extras:
            if isinstance(extra, UnionDefinition):
                return _union(inner, extra, where, nullable)
            if isinstance(extra, ScalarDefinition):
                inner_origin = typing.get_origin(inner)
                is_nullable = inner_origin in (Union, types.UnionType) and type(
                    None
                ) in typing.get_args(inner)
                return TypeRef(nullable=nullable or is_nullable, named=extra)
        return _resolve(inner, where, nullable=nullable)
    if origin in (list, typing.get_origin(typing.Sequence[int]), tuple, set, frozenset):
        if not args:
            raise SchemaDefinitionError(f"{where}: a list annotation needs its item type")
        return TypeRef(nullable=nullable, item=_resolve(args[0], where, nullable=False))
    if origin is Connection:
        return TypeRef(nullable=nullable, named=ConnectionRef(node=_class(args[0], where)))
    if origin is Aggregate:
        return TypeRef(nullable=nullable, named=AggregateRef(node=_class(args[0], where)))
    if origin is Where:
        return TypeRef(nullable=nullable, named=WhereRef(target=_class(args[0], where)))
    if origin is OrderBy:
        return TypeRef(nullable=nullable, named=OrderByRef(target=_class(args[0], where)))
    if isinstance(annotation, ScalarDefinition):
        return TypeRef(nullable=nullable, named=annotation)
    try:
        scalar = PYTHON_SCALARS.get(annotation)
    except TypeError:  # unhashable annotation
        scalar = None
    if scalar is not None:
        return TypeRef(nullable=nullable, named=scalar)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return TypeRef(nullable=nullable, named=enum_definition(annotation))
    definition = get_definition(annotation)
    if isinstance(definition, TypeDefinition):
        return TypeRef(nullable=nullable, named=definition)
    if isinstance(annotation, str | typing.ForwardRef):
        raise SchemaDefinitionError(f"{where}: cannot resolve the forward reference {annotation!r}")
    raise SchemaDefinitionError(f"{where}: {annotation!r} is not a FraiseQL type or a known scalar")


def _class(annotation: Any, where: str) -> type:
    if isinstance(annotation, type) and isinstance(get_definition(annotation), TypeDefinition):
        return annotation
    raise SchemaDefinitionError(
        f"{where}: {annotation!r} is not a class decorated with @fraiseql.type"
    )


def _union(inner: Any, definition: UnionDefinition, where: str, nullable: bool) -> TypeRef:
    members = [a for a in typing.get_args(inner) if a is not type(None)]
    is_nullable = len(members) != len(typing.get_args(inner))
    classes = tuple(_class(m, where) for m in members)
    if len(classes) < 1:
        raise SchemaDefinitionError(f"{where}: union {definition.name} has no member types")
    return TypeRef(nullable=nullable or is_nullable, named=UnionRef(definition, classes))
