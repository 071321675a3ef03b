"""The generated ``<Mutation>Payload`` of a batch mutation and its ``<Mutation>Item``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphql import (
    GraphQLField,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
)

from fraiseql.schema.model import RootFieldModel
from fraiseql.types.scalars import UUID_SCALAR

if TYPE_CHECKING:
    from fraiseql.schema.graphql_types import GraphQLTypeFactory


def batch_payload(factory: GraphQLTypeFactory, root: RootFieldModel) -> GraphQLObjectType:
    """``<Mutation>Payload``: the batch's status, its first failure and one result per item.

    The payload source is a dict with ``status``, ``message``, ``failed_index``,
    ``failed_count``, ``errors`` and ``items``; each item has ``index``, ``status``,
    ``message``, ``id``, ``entity`` and ``errors``.
    """
    from fraiseql.schema.graphql_types import _reads, payload_entity_field

    base = root.graphql_name[:1].upper() + root.graphql_name[1:]
    name = f"{base}Payload"
    existing = factory.named.get(name)
    if isinstance(existing, GraphQLObjectType):
        return existing
    target = root.target
    assert target is not None
    entity_field = payload_entity_field(target.name)
    errors_type = GraphQLNonNull(GraphQLList(GraphQLNonNull(factory.field_error())))
    mode = "all or nothing" if root.batch == "atomic" else "each item on its own"
    item = GraphQLObjectType(
        f"{base}Item",
        lambda: {
            "index": GraphQLField(
                GraphQLNonNull(GraphQLInt),
                **_reads("index"),
                description="The item's position in the input list (from 0).",
            ),
            "status": GraphQLField(GraphQLNonNull(factory.mutation_status()), **_reads("status")),
            "message": GraphQLField(GraphQLString, **_reads("message")),
            "id": GraphQLField(factory.scalar(UUID_SCALAR), **_reads("id")),
            entity_field: GraphQLField(factory.object_or_interface(target), **_reads("entity")),
            "errors": GraphQLField(errors_type, **_reads("errors")),
        },
        description=f"What {root.graphql_name} did with one item.",
    )
    created = GraphQLObjectType(
        name,
        lambda: {
            "status": GraphQLField(
                GraphQLNonNull(factory.mutation_status()),
                **_reads("status"),
                description="SUCCESS when every item stood (NOOP when none changed anything), "
                "else the status of the first failed item.",
            ),
            "message": GraphQLField(GraphQLString, **_reads("message")),
            "failedIndex": GraphQLField(
                GraphQLInt,
                **_reads("failed_index"),
                description="The index of the first failed item; null when none failed.",
            ),
            "failedCount": GraphQLField(
                GraphQLNonNull(GraphQLInt),
                **_reads("failed_count"),
                description="How many items failed.",
            ),
            "errors": GraphQLField(
                errors_type, **_reads("errors"), description="The first failed item's errors."
            ),
            "items": GraphQLField(
                GraphQLNonNull(GraphQLList(GraphQLNonNull(item))),
                **_reads("items"),
                description="One result per item that stands or failed, in input order; after "
                "a failure of an all-or-nothing batch, only the failed item (nothing was "
                "written).",
            ),
        },
        description=f"What {root.graphql_name} did ({mode}): its status and one result per item.",
    )
    factory.named[f"{base}Item"] = item
    factory.named[name] = created
    return created
