"""The metadata that decorators attach to user classes and functions.

Declarations carry metadata only: nothing here is registered globally. A schema is built from
the objects handed to it (see :mod:`fraiseql.schema.builder`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

TypeKind = Literal["object", "input", "interface"]

DEFINITION_ATTR = "__fraiseql_definition__"


@dataclass(slots=True)
class FieldInfo:
    """Options given with :func:`fraiseql.field` for one field.

    ``resolver`` is a function ``(self, info, **args)`` computing the field in Python;
    without it the field reads the key of the same (snake_case) name from the read model.
    ``requires`` is an authorization check ``(context) -> bool`` run once per request.
    """

    description: str | None = None
    deprecation_reason: str | None = None
    name: str | None = None
    resolver: Callable[..., Any] | None = None
    default: Any = None
    has_default: bool = False
    requires: Callable[[dict[str, Any]], bool] | None = None


@dataclass(slots=True)
class TypeDefinition:
    """A class decorated with ``@fraiseql.type``, ``@fraiseql.input`` or ``@fraiseql.interface``.

    ``sql_source`` names the read model (``tv_*`` table or view) that holds one ``data`` JSONB
    document per entity; ``id_column`` and ``identifier_column`` are its Trinity lookup columns.
    ``field_infos`` holds the explicit options per Python attribute name; the annotations are
    resolved when a schema is built so that forward references work.
    """

    cls: type
    kind: TypeKind
    name: str
    description: str | None
    sql_source: str | None = None
    data_column: str = "data"
    id_column: str | None = "id"
    identifier_column: str | None = "identifier"
    max_page_size: int | None = None
    require_rls: bool = False
    requires: Callable[[dict[str, Any]], bool] | None = None
    field_infos: dict[str, FieldInfo] = field(default_factory=dict)
    cache: Any = None
    """A ``CachePolicy`` for the auto root fields that return this type (theirs wins)."""
    search: Any = None
    """The ``Search`` declaration of the searchable text of this type's documents, if any."""


@dataclass(slots=True)
class EnumDefinition:
    """An ``enum.Enum`` exposed to GraphQL: member names are the GraphQL values.

    The member's ``value`` is what the read model stores (``status: "published"`` in JSON
    is ``PUBLISHED`` in GraphQL when ``PUBLISHED = "published"``).
    """

    cls: type[enum.Enum]
    name: str
    description: str | None
    value_descriptions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UnionDefinition:
    """A GraphQL union, used as ``Annotated[A | B, fraiseql.union("Name")]``.

    In read-model JSON the concrete type is told by a ``__typename`` key; objects returned by
    custom resolvers are told by their class.
    """

    name: str
    description: str | None = None


@dataclass(slots=True)
class ResolverDefinition:
    """A root field: a function decorated with ``@fraiseql.query``, ``mutation``, ``subscription``.

    ``auto`` is true when the function body is empty (``...``): FraiseQL then answers a query
    from the return type's ``sql_source`` with one SQL statement, and a mutation by calling the
    PostgreSQL function ``sql_function`` (default ``fn_<python name>``). A batch mutation (an
    auto mutation returning a list) calls it once per item, ``atomic`` (all or nothing) or
    ``partial`` as ``batch`` says. An auto subscription re-reads its type's read model on each
    database event of ``entity`` whose operation is in ``events``.
    """

    function: Callable[..., Any]
    operation: Literal["query", "mutation", "subscription"]
    name: str
    description: str | None
    deprecation_reason: str | None
    auto: bool
    max_page_size: int | None = None
    default_page_size: int | None = None
    sql_function: str | None = None
    requires: Callable[[dict[str, Any]], bool] | None = None
    batch: Literal["atomic", "partial"] | None = None
    entity: str | None = None
    events: tuple[str, ...] = ()
    cache: Any = None
    """A ``CachePolicy`` for the responses of a query reading this field."""


def get_definition(obj: object) -> Any:
    """Return the FraiseQL definition attached to ``obj``, or ``None``."""
    return getattr(obj, DEFINITION_ATTR, None)
