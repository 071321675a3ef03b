"""SchemaModel → graphql-core ``GraphQLSchema`` (used for parsing, validation, introspection).

Every graphql-core object is created per schema, so two schemas in one process never share a
type object. Field resolvers set here read attributes or dict keys by Python name; they serve
graphql-core's own execution (introspection and the test oracle), not FraiseQL's executor.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    Undefined,
)

from fraiseql.schema.inputs import build_input
from fraiseql.schema.model import (
    ArgumentModel,
    FieldModel,
    RootFieldModel,
    SchemaModel,
    TypeModel,
)
from fraiseql.schema.refs import (
    AggregateRef,
    ConnectionRef,
    OrderByRef,
    TypeRef,
    UnionRef,
    WhereRef,
)
from fraiseql.sql.operators import OBJECT_LIST_OPERATORS, OPERATORS_BY_KIND, Operand
from fraiseql.types.definitions import EnumDefinition, TypeDefinition, get_definition
from fraiseql.types.scalars import (
    CIDR_SCALAR,
    IP_ADDRESS,
    JSON_SCALAR,
    STRING,
    UUID_SCALAR,
    ScalarDefinition,
)

MUTATION_STATUSES = {
    "success": "The write happened.",
    "noop": "Nothing needed to change.",
    "not_found": "The entity to change does not exist.",
    "conflict": "The write conflicts with existing data (a duplicate, a stale version).",
    "validation_error": "The input is not acceptable; see errors.",
    "forbidden": "The caller may not do this.",
}
"""The closed set of statuses a mutation function may return, with their meaning."""

_SPEC_SCALARS: dict[str, GraphQLScalarType] = {
    "String": GraphQLString,
    "Int": GraphQLInt,
    "Float": GraphQLFloat,
    "Boolean": GraphQLBoolean,
    "ID": GraphQLID,
}


def typename_of(value: Any) -> str | None:
    """The GraphQL type name of a value of an abstract type (``__typename`` key or class)."""
    if isinstance(value, dict):
        name = value.get("__typename")
        return name if isinstance(name, str) else None
    definition = get_definition(type(value))
    return definition.name if isinstance(definition, TypeDefinition) else None


def _attribute_resolver(python_name: str) -> Callable[..., Any]:
    def resolve(source: Any, _info: Any, **_args: Any) -> Any:
        if isinstance(source, dict):
            return source.get(python_name)
        return getattr(source, python_name, None)

    return resolve


def _reads(python_name: str) -> dict[str, Any]:
    """Keyword arguments of a ``GraphQLField`` that reads ``python_name`` from its source."""
    return {
        "resolve": _attribute_resolver(python_name),
        "extensions": {"python_name": python_name},
    }


def _resolve_type(value: Any, _info: Any, _type: Any) -> str | None:
    return typename_of(value)


class StoredValueEnumType(GraphQLEnumType):
    """An enum whose internal values are Python enum members, serializing stored values too.

    Read models store a member's ``value`` (``"published"``); resolvers may return the member
    itself. Both serialize to the member's name.
    """

    def coerce_output_value(self, output_value: Any) -> str:
        """The GraphQL name of a member or of a stored member value."""
        if not isinstance(output_value, enum.Enum):
            for member_name, value in self.values.items():
                if isinstance(value.value, enum.Enum) and value.value.value == output_value:
                    return str(member_name)
        result: str = super().coerce_output_value(output_value)
        return result


class GraphQLTypeFactory:
    """Creates (once each) the graphql-core types of one schema."""

    def __init__(self, model: SchemaModel) -> None:
        self.model = model
        self.named: dict[str, GraphQLNamedType] = {}

    # -- leaves --------------------------------------------------------------------------------

    def scalar(self, definition: ScalarDefinition) -> GraphQLScalarType:
        """The graphql-core scalar of a definition (the spec's own for the five built-ins)."""
        if definition.name in _SPEC_SCALARS:
            return _SPEC_SCALARS[definition.name]
        existing = self.named.get(definition.name)
        if isinstance(existing, GraphQLScalarType):
            return existing
        created = GraphQLScalarType(
            definition.name,
            coerce_output_value=definition.serialize,
            coerce_input_value=definition.parse_value,
            description=definition.description or None,
            specified_by_url=definition.specified_by_url,
        )
        self.named[definition.name] = created
        return created

    def enum(self, definition: EnumDefinition) -> GraphQLEnumType:
        """The graphql-core enum of an enum definition."""
        existing = self.named.get(definition.name)
        if isinstance(existing, GraphQLEnumType):
            return existing
        members: list[enum.Enum] = list(definition.cls)
        created = StoredValueEnumType(
            definition.name,
            {
                member.name: GraphQLEnumValue(
                    member, description=definition.value_descriptions.get(member.name)
                )
                for member in members
            },
            description=definition.description,
        )
        self.named[definition.name] = created
        return created

    def custom_serializers(self) -> dict[str, Callable[[Any], Any]]:
        """Output serializers of the custom scalars created so far, by name."""
        return {
            name: created.serialize
            for name, created in self.named.items()
            if isinstance(created, GraphQLScalarType)
        }

    # -- references ----------------------------------------------------------------------------

    def output(self, ref: TypeRef) -> GraphQLOutputType:
        """The graphql-core output type of a reference, with list and non-null wrappers."""
        inner: GraphQLOutputType
        if ref.item is not None:
            inner = GraphQLList(self.output(ref.item))
        else:
            inner = self.named_output(ref)
        return inner if ref.nullable else GraphQLNonNull(inner)  # type: ignore[arg-type]

    def named_output(self, ref: TypeRef) -> GraphQLOutputType:
        """The named graphql-core output type of a non-list reference."""
        named = ref.named
        if isinstance(named, ScalarDefinition):
            return self.scalar(named)
        if isinstance(named, EnumDefinition):
            return self.enum(named)
        if isinstance(named, TypeDefinition):
            return self.object_or_interface(self.model.types[named.name])
        if isinstance(named, UnionRef):
            return self.union(named)
        if isinstance(named, ConnectionRef):
            return self.connection(self.model.type_by_class[named.node])
        if isinstance(named, AggregateRef):
            from fraiseql.schema.aggregate_types import aggregate_type

            return aggregate_type(self, self.model.type_by_class[named.node])
        raise TypeError(f"{named!r} is not an output type")

    def input(self, ref: TypeRef) -> GraphQLInputType:
        """The graphql-core input type of a reference, with list and non-null wrappers."""
        inner: GraphQLInputType
        if ref.item is not None:
            inner = GraphQLList(self.input(ref.item))
        else:
            named = ref.named
            if isinstance(named, ScalarDefinition):
                inner = self.scalar(named)
            elif isinstance(named, EnumDefinition):
                inner = self.enum(named)
            elif isinstance(named, TypeDefinition):
                inner = self.input_object(self.model.types[named.name])
            elif isinstance(named, WhereRef):
                inner = self.where_input(self.model.type_by_class[named.target])
            elif isinstance(named, OrderByRef):
                inner = self.order_by_input(self.model.type_by_class[named.target])
            else:
                raise TypeError(f"{named!r} is not an input type")
        return inner if ref.nullable else GraphQLNonNull(inner)

    def arguments(self, arguments: Mapping[str, ArgumentModel]) -> dict[str, GraphQLArgument]:
        """The graphql-core arguments of a field; coerced values arrive under Python names."""
        return {
            name: GraphQLArgument(
                self.input(argument.type_ref),
                default_value=argument.default if argument.has_default else Undefined,
                description=argument.description,
                out_name=argument.python_name,
            )
            for name, argument in arguments.items()
        }

    # -- composite types -----------------------------------------------------------------------

    def _field(self, field: FieldModel) -> GraphQLField:
        return GraphQLField(
            self.output(field.type_ref),
            args=self.arguments(field.arguments),
            resolve=_attribute_resolver(field.python_name),
            description=field.description,
            deprecation_reason=field.deprecation_reason,
            extensions={"python_name": field.python_name, "fraiseql_field": field},
        )

    def object_or_interface(self, model: TypeModel) -> GraphQLObjectType | GraphQLInterfaceType:
        """The object or interface type of a type model."""
        existing = self.named.get(model.name)
        if isinstance(existing, GraphQLObjectType | GraphQLInterfaceType):
            return existing
        created: GraphQLObjectType | GraphQLInterfaceType
        if model.definition.kind == "interface":
            created = GraphQLInterfaceType(
                model.name,
                fields=lambda: {n: self._field(f) for n, f in model.fields.items()},
                interfaces=lambda: [self._interface(i) for i in model.interfaces],
                resolve_type=_resolve_type,
                description=model.definition.description,
            )
        else:
            created = GraphQLObjectType(
                model.name,
                fields=lambda: {n: self._field(f) for n, f in model.fields.items()},
                interfaces=lambda: [self._interface(i) for i in model.interfaces],
                description=model.definition.description,
            )
        self.named[model.name] = created
        return created

    def _interface(self, model: TypeModel) -> GraphQLInterfaceType:
        created = self.object_or_interface(model)
        assert isinstance(created, GraphQLInterfaceType)
        return created

    def union(self, ref: UnionRef) -> GraphQLUnionType:
        """The union type of a union reference."""
        existing = self.named.get(ref.definition.name)
        if isinstance(existing, GraphQLUnionType):
            return existing
        created = GraphQLUnionType(
            ref.definition.name,
            types=lambda: [
                self.object_or_interface(self.model.type_by_class[m])  # type: ignore[misc]
                for m in ref.members
            ],
            resolve_type=_resolve_type,
            description=ref.definition.description,
        )
        self.named[ref.definition.name] = created
        return created

    def input_object(self, model: TypeModel) -> GraphQLInputObjectType:
        """The input object type of an input model; coerced values become instances."""
        existing = self.named.get(model.name)
        if isinstance(existing, GraphQLInputObjectType):
            return existing
        cls = model.cls
        created = GraphQLInputObjectType(
            model.name,
            fields=lambda: {
                name: GraphQLInputField(
                    self.input(field.type_ref),
                    default_value=field.default if field.has_default else Undefined,
                    description=field.description,
                    deprecation_reason=field.deprecation_reason,
                    out_name=field.python_name,
                )
                for name, field in model.fields.items()
            },
            out_type=lambda values: build_input(cls, model, values),
            description=model.definition.description,
        )
        self.named[model.name] = created
        return created

    def page_info(self) -> GraphQLObjectType:
        """The shared Relay ``PageInfo`` type."""
        existing = self.named.get("PageInfo")
        if isinstance(existing, GraphQLObjectType):
            return existing
        created = GraphQLObjectType(
            "PageInfo",
            {
                "hasNextPage": GraphQLField(
                    GraphQLNonNull(GraphQLBoolean), **_reads("has_next_page")
                ),
                "hasPreviousPage": GraphQLField(
                    GraphQLNonNull(GraphQLBoolean), **_reads("has_previous_page")
                ),
                "startCursor": GraphQLField(GraphQLString, **_reads("start_cursor")),
                "endCursor": GraphQLField(GraphQLString, **_reads("end_cursor")),
            },
            description="Where a page of a connection sits in the whole list.",
        )
        self.named["PageInfo"] = created
        return created

    def connection(self, node: TypeModel) -> GraphQLObjectType:
        """The ``<Node>Connection`` type (and its ``<Node>Edge``) of a node type."""
        name = f"{node.name}Connection"
        existing = self.named.get(name)
        if isinstance(existing, GraphQLObjectType):
            return existing
        edge = GraphQLObjectType(
            f"{node.name}Edge",
            lambda: {
                "node": GraphQLField(
                    GraphQLNonNull(self.object_or_interface(node)),
                    **_reads("node"),
                ),
                "cursor": GraphQLField(GraphQLNonNull(GraphQLString), **_reads("cursor")),
            },
            description=f"A {node.name} with its cursor.",
        )
        created = GraphQLObjectType(
            name,
            lambda: {
                "edges": GraphQLField(
                    GraphQLNonNull(GraphQLList(GraphQLNonNull(edge))),
                    **_reads("edges"),
                ),
                "pageInfo": GraphQLField(GraphQLNonNull(self.page_info()), **_reads("page_info")),
                "totalCount": GraphQLField(
                    GraphQLNonNull(GraphQLInt),
                    **_reads("total_count"),
                    description="How many items match the filter, ignoring pagination.",
                ),
            },
            description=f"A page of {node.name} items.",
        )
        self.named[f"{node.name}Edge"] = edge
        self.named[name] = created
        return created

    # -- generated filter and ordering inputs --------------------------------------------------

    def _operand(self, operand: Operand, value_type: GraphQLInputType) -> GraphQLInputType:
        if operand == "value":
            return value_type
        if operand == "list":
            return GraphQLList(GraphQLNonNull(value_type))
        if operand == "boolean":
            return GraphQLBoolean
        if operand == "string":
            return self.scalar(STRING)
        if operand == "cidr":
            return self.scalar(CIDR_SCALAR)
        if operand == "ip":
            return self.scalar(IP_ADDRESS)
        return self.scalar(JSON_SCALAR)

    def leaf_filter(self, ref: TypeRef) -> GraphQLInputObjectType:
        """The filter input of a scalar or enum field, or of a list of them."""
        named = ref.innermost()
        value_type: GraphQLInputType
        if isinstance(named, EnumDefinition):
            kind, value_type, base = "enum", self.enum(named), named.name
        else:
            assert isinstance(named, ScalarDefinition)
            kind, value_type, base = named.filter_kind, self.scalar(named), named.name
        if ref.is_list:
            kind, base = "list", f"{base}List"
        name = f"{base}Filter"
        existing = self.named.get(name)
        if isinstance(existing, GraphQLInputObjectType):
            return existing
        operators = OPERATORS_BY_KIND[kind]
        created = GraphQLInputObjectType(
            name,
            {
                op: GraphQLInputField(self._operand(operand, value_type))
                for op, operand in operators.items()
            },
            description=f"Conditions on a {base} value; all given conditions must hold.",
        )
        self.named[name] = created
        return created

    def where_input(self, model: TypeModel) -> GraphQLInputObjectType:
        """The generated ``<Type>WhereInput`` of a type."""
        name = f"{model.name}WhereInput"
        existing = self.named.get(name)
        if isinstance(existing, GraphQLInputObjectType):
            return existing

        def fields() -> dict[str, GraphQLInputField]:
            result: dict[str, GraphQLInputField] = {}
            for field in model.fields.values():
                if field.resolver is not None:
                    continue
                filter_type = self._field_filter(field.type_ref)
                if filter_type is not None:
                    result[field.graphql_name] = GraphQLInputField(filter_type)
            result["and"] = GraphQLInputField(GraphQLList(GraphQLNonNull(created)))
            result["or"] = GraphQLInputField(GraphQLList(GraphQLNonNull(created)))
            result["not"] = GraphQLInputField(created)
            return result

        created = GraphQLInputObjectType(
            name, fields, description=f"A filter on {model.name}; all given conditions must hold."
        )
        self.named[name] = created
        return created

    def _field_filter(self, ref: TypeRef) -> GraphQLInputType | None:
        named = ref.innermost()
        depth = 0
        walk: TypeRef | None = ref
        while walk is not None and walk.item is not None:
            depth, walk = depth + 1, walk.item
        if depth > 1 or isinstance(named, UnionRef):
            return None
        if isinstance(named, ScalarDefinition | EnumDefinition):
            return self.leaf_filter(ref)
        if isinstance(named, TypeDefinition) and named.kind != "input":
            nested = self.where_input(self.model.types[named.name])
            if depth == 0:
                return nested
            return self.object_list_filter(self.model.types[named.name], nested)
        return None

    def object_list_filter(
        self, model: TypeModel, item_filter: GraphQLInputObjectType
    ) -> GraphQLInputObjectType:
        """The ``<Type>ListFilter`` of a list of nested objects."""
        name = f"{model.name}ListFilter"
        existing = self.named.get(name)
        if isinstance(existing, GraphQLInputObjectType):
            return existing
        fields = {op: GraphQLInputField(item_filter) for op in OBJECT_LIST_OPERATORS}
        fields["isEmpty"] = GraphQLInputField(GraphQLBoolean)
        created = GraphQLInputObjectType(
            name, fields, description=f"Conditions on a list of {model.name} items."
        )
        self.named[name] = created
        return created

    def order_direction(self) -> GraphQLEnumType:
        """The shared ``OrderDirection`` enum."""
        existing = self.named.get("OrderDirection")
        if isinstance(existing, GraphQLEnumType):
            return existing
        created = GraphQLEnumType(
            "OrderDirection",
            {
                "ASC": GraphQLEnumValue("ASC", description="Ascending; nulls last."),
                "DESC": GraphQLEnumValue("DESC", description="Descending; nulls last."),
            },
            description="The direction of an ordering key.",
        )
        self.named["OrderDirection"] = created
        return created

    def order_by_input(self, model: TypeModel) -> GraphQLInputObjectType:
        """The generated ``<Type>OrderByInput`` of a type."""
        name = f"{model.name}OrderByInput"
        existing = self.named.get(name)
        if isinstance(existing, GraphQLInputObjectType):
            return existing

        def fields() -> dict[str, GraphQLInputField]:
            result: dict[str, GraphQLInputField] = {}
            for field in model.fields.values():
                ref = field.type_ref
                if field.resolver is not None or ref.is_list:
                    continue
                named = ref.named
                if (
                    isinstance(named, ScalarDefinition) and named.filter_kind != "json"
                ) or isinstance(named, EnumDefinition):
                    result[field.graphql_name] = GraphQLInputField(self.order_direction())
                elif isinstance(named, TypeDefinition) and named.kind == "object":
                    result[field.graphql_name] = GraphQLInputField(
                        self.order_by_input(self.model.types[named.name])
                    )
            if model.definition.search is not None and "_rank" not in result:
                result["_rank"] = GraphQLInputField(
                    self.order_direction(),
                    description="Relevance to the root field's `search` (ts_rank); needs `search`.",
                )
            return result

        created = GraphQLInputObjectType(
            name,
            fields,
            description=f"One ordering key of {model.name}: set exactly one field per list item.",
        )
        self.named[name] = created
        return created

    # -- the schema ----------------------------------------------------------------------------

    def _root(self, root: RootFieldModel) -> GraphQLField:
        output = (
            GraphQLNonNull(self.payload(root))
            if root.kind == "mutation"
            else self.output(root.type_ref)
        )
        return GraphQLField(
            output,
            args=self.arguments(root.arguments),
            description=root.definition.description,
            deprecation_reason=root.definition.deprecation_reason,
        )

    def mutation_status(self) -> GraphQLEnumType:
        """The shared ``MutationStatus`` enum (the contract's closed set of statuses)."""
        existing = self.named.get("MutationStatus")
        if isinstance(existing, GraphQLEnumType):
            return existing
        created = GraphQLEnumType(
            "MutationStatus",
            {
                status.upper(): GraphQLEnumValue(status, description=text)
                for status, text in MUTATION_STATUSES.items()
            },
            description="How a mutation ended.",
        )
        self.named["MutationStatus"] = created
        return created

    def field_error(self) -> GraphQLObjectType:
        """The shared ``FieldError`` type of mutation payloads."""
        existing = self.named.get("FieldError")
        if isinstance(existing, GraphQLObjectType):
            return existing
        created = GraphQLObjectType(
            "FieldError",
            {
                "field": GraphQLField(GraphQLString, **_reads("field")),
                "message": GraphQLField(GraphQLNonNull(GraphQLString), **_reads("message")),
                "code": GraphQLField(GraphQLNonNull(GraphQLString), **_reads("code")),
            },
            description="A problem with one input field (``field`` is null for the whole input).",
        )
        self.named["FieldError"] = created
        return created

    def payload(self, root: RootFieldModel) -> GraphQLObjectType:
        """The generated ``<Mutation>Payload`` of an auto mutation."""
        if root.batch is not None:
            from fraiseql.schema.batch_payload import batch_payload

            return batch_payload(self, root)
        name = root.graphql_name[:1].upper() + root.graphql_name[1:] + "Payload"
        existing = self.named.get(name)
        if isinstance(existing, GraphQLObjectType):
            return existing
        target = root.target
        assert target is not None
        entity_field = payload_entity_field(target.name)
        created = GraphQLObjectType(
            name,
            lambda: {
                "status": GraphQLField(GraphQLNonNull(self.mutation_status()), **_reads("status")),
                "message": GraphQLField(GraphQLString, **_reads("message")),
                "id": GraphQLField(self.scalar(UUID_SCALAR), **_reads("id")),
                entity_field: GraphQLField(self.object_or_interface(target), **_reads("entity")),
                "errors": GraphQLField(
                    GraphQLNonNull(GraphQLList(GraphQLNonNull(self.field_error()))),
                    **_reads("errors"),
                ),
            },
            description=f"What {root.graphql_name} did: its status, errors and the {target.name}.",
        )
        self.named[name] = created
        return created

    def schema(self) -> GraphQLSchema:
        """The complete graphql-core schema."""
        query = GraphQLObjectType(
            "Query",
            lambda: {name: self._root(root) for name, root in self.model.queries.items()},
        )
        mutation = None
        if self.model.mutations:
            mutation = GraphQLObjectType(
                "Mutation",
                lambda: {name: self._root(root) for name, root in self.model.mutations.items()},
            )
        subscription = None
        if self.model.subscriptions:
            subscription = GraphQLObjectType(
                "Subscription",
                lambda: {name: self._root(root) for name, root in self.model.subscriptions.items()},
            )
        extra: list[GraphQLNamedType] = [
            self.object_or_interface(m)
            for m in self.model.types.values()
            if m.definition.kind != "input"
        ]
        extra += [self.enum(e) for e in self.model.enums.values()]
        return GraphQLSchema(query=query, mutation=mutation, subscription=subscription, types=extra)


PAYLOAD_FIELDS = frozenset({"status", "message", "id", "errors", "index", "items"})
"""The fields a mutation payload (or a batch item) has besides its entity."""


def payload_entity_field(type_name: str) -> str:
    """The payload field of a mutation's entity: ``Post`` → ``post``.

    A type whose name would collide with a payload's own field (``Message`` → ``message``)
    gets ``Entity`` appended (``messageEntity``): the payload keeps its message text.
    """
    name = type_name[:1].lower() + type_name[1:]
    return f"{name}Entity" if name in PAYLOAD_FIELDS else name


def build_graphql_schema(model: SchemaModel) -> GraphQLSchema:
    """Create the graphql-core schema of a :class:`SchemaModel`."""
    return GraphQLTypeFactory(model).schema()
