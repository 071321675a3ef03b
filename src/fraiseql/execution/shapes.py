"""The projection plan: for one root field, what to take from the source value and how to write it.

Built once per document, operation and ``@skip``/``@include`` variable values; read per request
by the response builder. Names, aliases, fragments and ``__typename`` are all resolved here, so the
builder only walks data.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
)

from fraiseql.execution.selection import collect_fields, sub_selection_sets
from fraiseql.schema.model import FieldModel

KEYED_BY_RESPONSE_KEY = "fraiseql_keyed_by_response_key"
"""A field extension: each selection reads ``<python name>:<response key>`` from its source
(``groupBy``, whose selections under different aliases have different arguments)."""

LEAF = 0
OBJECT = 1
ABSTRACT = 2
LIST = 3


@dataclass(slots=True, eq=False)
class Shape:
    """How to complete one value: a leaf, an object, an abstract type or a list."""

    kind: int
    nullable: bool
    type_name: str = ""
    serialize: Callable[[Any], Any] | None = None
    fields: tuple[FieldPlan, ...] = ()
    item: Shape | None = None
    by_type: dict[str, Shape] = field(default_factory=dict)
    has_resolvers: bool = False


@dataclass(slots=True, eq=False)
class FieldPlan:
    """One selected field under its response key (alias or name)."""

    key: str
    name: str
    source: str
    parent_type: str
    shape: Shape | None
    nodes: tuple[FieldNode, ...]
    definition: GraphQLField | None = None
    resolver: Callable[..., Any] | None = None
    model: FieldModel | None = None
    is_typename: bool = False
    requires: tuple[Callable[[Any], bool], ...] = ()

    @property
    def locations(self) -> list[dict[str, int]]:
        """The locations of the field's nodes in the document, for errors."""
        result: list[dict[str, int]] = []
        for node in self.nodes:
            if node.loc is not None:
                location = node.loc.source.get_location(node.loc.start)
                result.append({"line": location.line, "column": location.column})
        return result


def _enum_serializer(gql_type: GraphQLEnumType) -> Callable[[Any], Any]:
    by_value: dict[Any, str] = {}
    members: list[tuple[Any, str]] = []
    for name, value in gql_type.values.items():
        stored = value.value.value if isinstance(value.value, enum.Enum) else value.value
        members.append((stored, name))
        for key in (value.value, stored):
            try:
                by_value[key] = name
            except TypeError:  # unhashable enum value
                continue
    type_name = gql_type.name

    def serialize(value: Any) -> str:
        try:
            return by_value[value]
        except (KeyError, TypeError):
            raise ValueError(f"Enum '{type_name}' cannot represent value: {value!r}") from None

    serialize.fraiseql_enum_members = tuple(members)  # type: ignore[attr-defined]
    return serialize


class ShapeBuilder:
    """Builds the :class:`Shape` of a root field from the document and the schema."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        serializers: Mapping[str, Callable[[Any], Any]],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.serializers = serializers

    def build(self, gql_type: GraphQLOutputType, nodes: tuple[FieldNode, ...]) -> Shape:
        """The shape of a value of ``gql_type`` selected by ``nodes``."""
        nullable = True
        if isinstance(gql_type, GraphQLNonNull):
            nullable = False
            gql_type = gql_type.of_type
        if isinstance(gql_type, GraphQLList):
            item = self.build(gql_type.of_type, nodes)
            return Shape(LIST, nullable, item=item, has_resolvers=item.has_resolvers)
        if isinstance(gql_type, GraphQLScalarType):
            serialize = self.serializers.get(gql_type.name, gql_type.serialize)
            return Shape(LEAF, nullable, type_name=gql_type.name, serialize=serialize)
        if isinstance(gql_type, GraphQLEnumType):
            return Shape(
                LEAF, nullable, type_name=gql_type.name, serialize=_enum_serializer(gql_type)
            )
        if isinstance(gql_type, GraphQLObjectType):
            return self.object_shape(gql_type, nodes, nullable)
        assert isinstance(gql_type, GraphQLInterfaceType | GraphQLUnionType)
        by_type = {
            possible.name: self.object_shape(possible, nodes, False)
            for possible in self.schema.get_possible_types(gql_type)
        }
        return Shape(
            ABSTRACT,
            nullable,
            type_name=gql_type.name,
            by_type=by_type,
            has_resolvers=any(s.has_resolvers for s in by_type.values()),
        )

    def object_shape(
        self, gql_type: GraphQLObjectType, nodes: tuple[FieldNode, ...], nullable: bool
    ) -> Shape:
        """The shape of an object of a concrete type."""
        grouped = collect_fields(
            self.schema, gql_type, sub_selection_sets(nodes), self.fragments, self.variables
        )
        plans: list[FieldPlan] = []
        has_resolvers = False
        for key, field_nodes in grouped.items():
            name = field_nodes[0].name.value
            merged = tuple(field_nodes)
            if name == "__typename":
                plans.append(
                    FieldPlan(key, name, name, gql_type.name, None, merged, is_typename=True)
                )
                continue
            definition = gql_type.fields[name]
            extensions = definition.extensions or {}
            shape = self.build(definition.type, merged)
            model = extensions.get("fraiseql_field")
            resolver = model.resolver if model is not None else None
            has_resolvers = has_resolvers or resolver is not None or shape.has_resolvers
            source = extensions.get("python_name", name)
            if extensions.get(KEYED_BY_RESPONSE_KEY):  # a field whose arguments vary by alias
                source = f"{source}:{key}"
            plans.append(
                FieldPlan(
                    key=key,
                    name=name,
                    source=source,
                    parent_type=gql_type.name,
                    shape=shape,
                    nodes=merged,
                    definition=definition,
                    resolver=resolver,
                    model=model,
                    requires=model.requires if model is not None else (),
                )
            )
        return Shape(
            OBJECT,
            nullable,
            type_name=gql_type.name,
            fields=tuple(plans),
            has_resolvers=has_resolvers,
        )
