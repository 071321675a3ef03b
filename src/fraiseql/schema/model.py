"""The schema model: declarations resolved once, with GraphQL names fixed.

The planner and the SQL builders read this model; they never look at annotations or guess names
at request time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from fraiseql.schema.refs import TypeRef
from fraiseql.types.definitions import EnumDefinition, ResolverDefinition, TypeDefinition

INDEXABLE_CASTS = {"timestamptz": "fraiseql_timestamptz"}
"""Casts from a document's text that PostgreSQL marks STABLE (they read the session's TimeZone
and DateStyle), replaced by the IMMUTABLE helper of the same meaning that ``CONTRACT_SQL``
creates, so that an index on the expression (``fraiseql_timestamptz(data->>'created_at')``)
serves filters and orderings."""

RootKind = Literal[
    "one",
    "list",
    "connection",
    "aggregate",
    "node",
    "nodes",
    "service",
    "entities",
    "mutation",
    "subscription",
    "custom",
]


@dataclass(slots=True)
class ArgumentModel:
    """One argument of a field: its Python parameter name, GraphQL name and type."""

    python_name: str
    graphql_name: str
    type_ref: TypeRef
    default: Any
    has_default: bool
    description: str | None = None


@dataclass(slots=True)
class FieldModel:
    """One field of an object, interface or input type.

    ``resolver`` computes the field in Python as ``resolver(self, info, **arguments)`` (``info``
    only when ``takes_info``); without it the field is read from the source by ``python_name``.
    """

    python_name: str
    graphql_name: str
    type_ref: TypeRef
    description: str | None = None
    deprecation_reason: str | None = None
    resolver: Callable[..., Any] | None = None
    resolver_is_async: bool = False
    takes_info: bool = False
    arguments: dict[str, ArgumentModel] = field(default_factory=dict)
    default: Any = None
    has_default: bool = False
    requires: tuple[Callable[[dict[str, Any]], bool], ...] = ()


@dataclass(slots=True)
class TypeModel:
    """An object, interface or input type with its fields keyed by GraphQL name."""

    definition: TypeDefinition
    fields: dict[str, FieldModel]
    interfaces: list[TypeModel] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The GraphQL name."""
        return self.definition.name

    @property
    def cls(self) -> type:
        """The decorated Python class."""
        return self.definition.cls

    def field_by_python_name(self, python_name: str) -> FieldModel | None:
        """The field stored under ``python_name`` in the read model, if any."""
        for model in self.fields.values():
            if model.python_name == python_name:
                return model
        return None


@dataclass(slots=True)
class RootFieldModel:
    """A root field (``Query.posts``) and how it is answered.

    ``kind`` is ``one``/``list``/``connection``/``aggregate`` for auto fields answered by one
    SQL statement against ``target``'s read model, ``node``/``nodes`` for Relay's global object
    lookups (no ``target``: the ids name their types; see ``schema/relay.py``),
    ``service``/``entities`` for Apollo Federation's ``_service`` and ``_entities`` (see
    ``schema/federation.py``), ``mutation``
    for auto mutations (a PostgreSQL function, then ``target`` read back), ``subscription``
    for auto subscriptions (``target``'s rows read again on each database event of ``entity``),
    and ``custom`` for Python resolvers (async generators for subscriptions). ``batch`` is set
    for an auto mutation over a list of items (``atomic`` or ``partial``).
    """

    definition: ResolverDefinition
    graphql_name: str
    type_ref: TypeRef
    arguments: dict[str, ArgumentModel]
    kind: RootKind
    target: TypeModel | None
    is_async: bool
    info_parameter: str | None
    max_page_size: int
    default_page_size: int
    requires: tuple[Callable[[dict[str, Any]], bool], ...] = ()
    batch: Literal["atomic", "partial"] | None = None
    entity: str | None = None
    """The entity of ``target``'s read model, as ``fraiseql_notify`` names it."""
    cache: Any = None
    """The ``CachePolicy`` of the responses reading this field (queries only)."""


@dataclass(slots=True)
class SchemaModel:
    """Every type of one schema, by GraphQL name, and its root fields."""

    types: dict[str, TypeModel]
    enums: dict[str, EnumDefinition]
    queries: dict[str, RootFieldModel]
    type_by_class: dict[type, TypeModel]
    mutations: dict[str, RootFieldModel] = field(default_factory=dict)
    subscriptions: dict[str, RootFieldModel] = field(default_factory=dict)
    max_page_size: int = 100
    casts: dict[str, str] = field(default_factory=lambda: dict(INDEXABLE_CASTS))
    """SQL types read from JSON text through a function instead of a cast (see
    ``INDEXABLE_CASTS``); emptied when the database lacks the functions."""
    node_types: dict[str, TypeModel] = field(default_factory=dict)
    """The types implementing Relay's ``Node``, by GraphQL name (``relay_nodes=True``)."""
    entity_types: dict[str, TypeModel] = field(default_factory=dict)
    """The federation entities (keyed by ``id``), by GraphQL name (``federation=True``)."""
    subgraph_sdl: str | None = None
    """What ``_service { sdl }`` answers (``federation=True``; set once the schema is built)."""
