"""Apollo Federation v2 subgraph support: ``_service``, ``_entities`` and the subgraph SDL.

``Schema(federation=True)`` makes every object type with a read model (``sql_source``) and a
``UUID`` ``id`` column an *entity* keyed by ``@key(fields: "id")``, and adds what a federation
gateway (Apollo Router, Apollo Gateway) asks a subgraph for:

- ``_service: _Service!``, whose ``sdl`` is the schema as this subgraph declares it: the
  ``extend schema @link(url: ".../federation/v2.3", import: ["@key"])`` extension, the
  ``@key`` of each entity type, and none of the federation fields and types themselves;
- ``_entities(representations: [_Any!]!): [_Entity]!``, which the gateway calls with
  ``{"__typename": "Post", "id": "<uuid>"}`` objects to fetch the entities other subgraphs
  reference (answered by ``execution/federation.py``, one statement per type).

The additions are made to the schema model before the graphql-core types are built, the way
``schema/relay.py`` adds Relay's ``Node``; the SDL is printed once the schema is built.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    ConstArgumentNode,
    ConstDirectiveNode,
    DefinitionNode,
    DocumentNode,
    GraphQLSchema,
    NameNode,
    ObjectTypeDefinitionNode,
    StringValueNode,
    TypeDefinitionNode,
    parse,
    print_ast,
    print_schema,
)

from fraiseql.schema.model import (
    ArgumentModel,
    FieldModel,
    RootFieldModel,
    RootKind,
    SchemaModel,
    TypeModel,
)
from fraiseql.schema.refs import SchemaDefinitionError, TypeRef, UnionRef
from fraiseql.security.limits import QueryLimits
from fraiseql.types.decorators import type_
from fraiseql.types.definitions import ResolverDefinition, UnionDefinition, get_definition
from fraiseql.types.scalars import STRING, ScalarDefinition

FEDERATION_VERSION = "v2.3"
FEDERATION_URL = f"https://specs.apollo.dev/federation/{FEDERATION_VERSION}"
"""The federation specification the subgraph SDL links (v2.3: supported by every Fed 2 router)."""

SERVICE_ROOT = "_service"
ENTITIES_ROOT = "_entities"
SERVICE_TYPE = "_Service"
ENTITY_UNION = "_Entity"
ANY_SCALAR = "_Any"
KEY_FIELD = "id"
"""The GraphQL field of every entity's key (its read model's ``id`` column)."""

DEFAULT_MAX_REPRESENTATIONS = 1000
"""The bound on the representations of one ``_entities`` call when lists are not limited."""

_FEDERATION_TYPES = frozenset({SERVICE_TYPE, ENTITY_UNION, ANY_SCALAR})
_FEDERATION_ROOTS = frozenset({SERVICE_ROOT, ENTITIES_ROOT})


@type_(name=SERVICE_TYPE)
class FederationService:
    """What a federation gateway reads from a subgraph: its SDL."""

    sdl: str


def _identity(value: Any) -> Any:
    return value


ANY_SCALAR_DEFINITION = ScalarDefinition(
    name=ANY_SCALAR,
    description="An entity representation: an object with its __typename and its key fields.",
    serialize=_identity,
    parse_value=_identity,  # checked by _entities itself, with the index of the culprit
    filter_kind="json",
)


def is_entity_type(model: TypeModel) -> bool:
    """Whether ``model`` is an entity: an object type with a read model and a UUID ``id``."""
    definition = model.definition
    if definition.kind != "object" or not definition.sql_source or not definition.id_column:
        return False
    field = model.fields.get(KEY_FIELD)
    return (
        field is not None
        and field.python_name == "id"
        and field.resolver is None
        and not field.type_ref.is_list
        and getattr(field.type_ref.named, "name", None) == "UUID"
    )


def install_federation(model: SchemaModel, limits: QueryLimits, default_page_size: int) -> None:
    """Add ``_Service``, ``_Any``, ``_Entity`` and the ``_service``/``_entities`` root fields.

    One ``_entities`` call takes at most ``limits.max_list_length`` representations (the bound
    of every list a client sends), or ``DEFAULT_MAX_REPRESENTATIONS`` with that limit off.
    Raises :class:`SchemaDefinitionError` when no type is an entity or a name is taken.
    """
    max_representations = limits.max_list_length or DEFAULT_MAX_REPRESENTATIONS
    entities = {m.name: m for m in model.types.values() if is_entity_type(m)}
    if not entities:
        raise SchemaDefinitionError(
            "federation=True needs at least one type with a sql_source and a UUID id column"
        )
    for name in _FEDERATION_TYPES:
        if name in model.types or name in model.enums:
            raise SchemaDefinitionError(f"federation=True adds the type {name!r}: rename yours")
    for name in _FEDERATION_ROOTS:
        if name in model.queries:
            raise SchemaDefinitionError(f"federation=True adds the query {name!r}: rename yours")
    service_definition = get_definition(FederationService)
    service_model = TypeModel(
        definition=service_definition,
        fields={
            "sdl": FieldModel(
                python_name="sdl",
                graphql_name="sdl",
                type_ref=TypeRef(nullable=False, named=STRING),
                description="The subgraph schema, with its federation directives.",
            )
        },
    )
    model.types[SERVICE_TYPE] = service_model
    model.type_by_class[FederationService] = service_model
    model.entity_types = entities
    union = UnionRef(
        definition=UnionDefinition(
            name=ENTITY_UNION, description="Every entity type of this subgraph."
        ),
        members=tuple(m.cls for m in entities.values()),
    )
    any_ref = TypeRef(nullable=False, named=ANY_SCALAR_DEFINITION)
    model.queries[SERVICE_ROOT] = _root(
        SERVICE_ROOT,
        TypeRef(nullable=False, named=service_definition),
        {},
        "service",
        "This subgraph's schema, for a federation gateway.",
        max_representations,
        default_page_size,
    )
    model.queries[ENTITIES_ROOT] = _root(
        ENTITIES_ROOT,
        TypeRef(nullable=False, item=TypeRef(nullable=True, named=union)),
        {
            "representations": ArgumentModel(
                python_name="representations",
                graphql_name="representations",
                type_ref=TypeRef(nullable=False, item=any_ref),
                default=None,
                has_default=False,
            )
        },
        "entities",
        "The entities of these representations, in their order (null for any not visible).",
        max_representations,
        default_page_size,
    )


def _root(
    name: str,
    output: TypeRef,
    arguments: dict[str, ArgumentModel],
    kind: RootKind,
    description: str,
    max_page_size: int,
    default_page_size: int,
) -> RootFieldModel:
    return RootFieldModel(
        definition=ResolverDefinition(
            function=install_federation,  # never called: the executor answers the field
            operation="query",
            name=name,
            description=description,
            deprecation_reason=None,
            auto=True,
        ),
        graphql_name=name,
        type_ref=output,
        arguments=arguments,
        kind=kind,
        target=None,
        is_async=True,
        info_parameter=None,
        max_page_size=max_page_size,
        default_page_size=min(default_page_size, max_page_size),
    )


def _name(value: str) -> NameNode:
    return NameNode(value=value)


def _key_directive() -> ConstDirectiveNode:
    return ConstDirectiveNode(
        name=_name("key"),
        arguments=(
            ConstArgumentNode(name=_name("fields"), value=StringValueNode(value=KEY_FIELD)),
        ),
    )


def subgraph_sdl(schema: GraphQLSchema, model: SchemaModel) -> str:
    """The subgraph SDL of a federated schema: what ``_service { sdl }`` answers.

    The schema printed without the federation fields and types, each entity type with its
    ``@key``, after the ``@link`` extension that imports ``@key``.
    """
    printed = parse(print_schema(schema))
    definitions: list[DefinitionNode] = list(
        parse(f'extend schema @link(url: "{FEDERATION_URL}", import: ["@key"])').definitions
    )
    for definition in printed.definitions:
        if isinstance(definition, TypeDefinitionNode):
            name = definition.name.value
            if name in _FEDERATION_TYPES:
                continue
            if isinstance(definition, ObjectTypeDefinitionNode):
                definition = _subgraph_object(definition, name, model)
        definitions.append(definition)
    return print_ast(DocumentNode(definitions=tuple(definitions))) + "\n"


def _subgraph_object(
    definition: ObjectTypeDefinitionNode, name: str, model: SchemaModel
) -> ObjectTypeDefinitionNode:
    """``Query`` without the federation fields; an entity type with its ``@key``."""
    if name != "Query" and name not in model.entity_types:
        return definition
    fields = tuple(definition.fields or ())
    directives = tuple(definition.directives or ())
    if name == "Query":
        fields = tuple(f for f in fields if f.name.value not in _FEDERATION_ROOTS)
    if name in model.entity_types:
        directives = (*directives, _key_directive())
    return ObjectTypeDefinitionNode(
        name=definition.name,
        description=definition.description,
        interfaces=tuple(definition.interfaces or ()),
        directives=directives,
        fields=fields,
    )
