"""Relay global object identification: the ``Node`` interface, ``nodeId`` and its root fields.

``Schema(relay_nodes=True)`` makes every object type with a read model (``sql_source``) and a
``UUID`` ``id`` column a *node type*: it implements ``Node { nodeId: ID! }``, and the schema
gains ``node(nodeId: ID!): Node`` and ``nodes(nodeIds: [ID!]!): [Node]!``.

The interface field is ``nodeId``, not Relay's usual ``id`` (PostGraphile's classic naming):
a FraiseQL type's ``id`` is the public UUID of its row, which filters, mutations and the read
models all use, and it stays what it is. A global id is ``base64url("<TypeName>:<uuid>")``
without padding, the UUID in its canonical lowercase form; it is opaque to clients. Decoding is
strict (the text must be exactly what :func:`encode_node_id` writes) and happens before any
statement is built, so a malformed id never reaches the database.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from typing import Any

from fraiseql.execution.errors import FraiseQLError
from fraiseql.schema.model import ArgumentModel, FieldModel, RootFieldModel, SchemaModel, TypeModel
from fraiseql.schema.refs import SchemaDefinitionError, TypeRef
from fraiseql.types.decorators import interface
from fraiseql.types.definitions import ResolverDefinition, TypeDefinition, get_definition
from fraiseql.types.scalars import ID, ID_SCALAR

NODE_INTERFACE = "Node"
NODE_ID_FIELD = "nodeId"
NODE_ROOT = "node"
NODES_ROOT = "nodes"

_MAX_GLOBAL_ID_LENGTH = 256
_GLOBAL_ID = re.compile(r"[A-Za-z0-9_-]+")
_TYPE_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")


@interface(name=NODE_INTERFACE)
class Node:
    """An object with a global id: fetch it again with ``node(nodeId:)``."""

    node_id: ID


def encode_node_id(type_name: str, value: Any) -> str:
    """The global id of the ``type_name`` object whose ``id`` is ``value`` (a UUID or its text)."""
    canonical = str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    raw = f"{type_name}:{canonical}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_node_id(
    value: Any, node_types: dict[str, TypeModel], argument: str
) -> tuple[TypeModel, str]:
    """The node type and canonical UUID text of a global id, or a ``BAD_USER_INPUT`` error.

    ``argument`` names the argument (``nodeId``, ``nodeIds[2]``) in the error's message.
    """

    def invalid(reason: str) -> FraiseQLError:
        return FraiseQLError(f"'{argument}' is not a valid node id: {reason}.", argument=argument)

    if (
        not isinstance(value, str)
        or not 0 < len(value) <= _MAX_GLOBAL_ID_LENGTH
        or not _GLOBAL_ID.fullmatch(value)
        or len(value) % 4 == 1
    ):
        raise invalid("it is not base64url text")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid("it is not base64url text") from None
    type_name, separator, rest = raw.partition(":")
    if not separator or not _TYPE_NAME.fullmatch(type_name):
        raise invalid("it does not hold '<Type>:<UUID>'")
    model = node_types.get(type_name)
    if model is None:
        raise invalid(f"{type_name} is not a node type of this schema")
    try:
        parsed = uuid.UUID(rest)
    except ValueError:
        raise invalid("its UUID is malformed") from None
    if encode_node_id(type_name, parsed) != value:
        raise invalid("it is not in canonical form")
    return model, str(parsed)


def node_id_of(self: Any) -> str:
    """The ``nodeId`` field resolver of every node type: the global id made from ``self.id``."""
    definition = get_definition(type(self))
    value = getattr(self, "id", None)
    if not isinstance(definition, TypeDefinition) or value is None:
        raise FraiseQLError(
            "the object has no id to make its nodeId from", code="INTERNAL_SERVER_ERROR"
        )
    return encode_node_id(definition.name, value)


def is_node_id_field(field: FieldModel) -> bool:
    """Whether ``field`` is the computed ``nodeId`` (it reads ``id`` only)."""
    return field.resolver is node_id_of


def _is_node_type(model: TypeModel) -> bool:
    definition = model.definition
    if definition.kind != "object" or not definition.sql_source or not definition.id_column:
        return False
    field = model.field_by_python_name("id")
    return (
        field is not None
        and not field.type_ref.is_list
        and getattr(field.type_ref.named, "name", None) == "UUID"
    )


def install_relay_nodes(model: SchemaModel, max_page_size: int, default_page_size: int) -> None:
    """Add ``Node``, each node type's ``nodeId`` and the ``node``/``nodes`` root fields."""
    node_types = {m.name: m for m in model.types.values() if _is_node_type(m)}
    if not node_types:
        raise SchemaDefinitionError(
            "relay_nodes=True needs at least one type with a sql_source and a UUID id column"
        )
    if NODE_INTERFACE in model.types:
        raise SchemaDefinitionError(
            f"relay_nodes=True adds the {NODE_INTERFACE!r} interface: another type has that name"
        )
    for name in (NODE_ROOT, NODES_ROOT):
        if name in model.queries:
            raise SchemaDefinitionError(f"relay_nodes=True adds the query {name!r}: rename yours")
    node_definition = get_definition(Node)
    id_ref = TypeRef(nullable=False, named=ID_SCALAR)
    interface_model = TypeModel(
        definition=node_definition,
        fields={
            NODE_ID_FIELD: FieldModel(
                python_name="node_id",
                graphql_name=NODE_ID_FIELD,
                type_ref=id_ref,
                description="The global id of this object (opaque: pass it to node).",
            )
        },
    )
    for node_type in node_types.values():
        if NODE_ID_FIELD in node_type.fields:
            raise SchemaDefinitionError(
                f"{node_type.name}.{NODE_ID_FIELD}: relay_nodes=True computes this field"
            )
        node_type.fields[NODE_ID_FIELD] = FieldModel(
            python_name="node_id",
            graphql_name=NODE_ID_FIELD,
            type_ref=id_ref,
            description="The global id of this object (opaque: pass it to node).",
            resolver=node_id_of,
        )
        node_type.interfaces.append(interface_model)
    model.types[NODE_INTERFACE] = interface_model
    model.type_by_class[Node] = interface_model
    model.node_types = node_types
    node_ref = TypeRef(nullable=True, named=node_definition)
    roots = {
        NODE_ROOT: (
            "node_id",
            id_ref,
            node_ref,
            "The object of any node type with this global id (null when none is visible).",
        ),
        NODES_ROOT: (
            "node_ids",
            TypeRef(nullable=False, item=id_ref),
            TypeRef(nullable=False, item=node_ref),
            "The objects with these global ids, in their order (null for any not visible).",
        ),
    }
    for name, (python_name, argument_ref, output_ref, description) in roots.items():
        graphql_argument = "nodeId" if name == NODE_ROOT else "nodeIds"
        model.queries[name] = RootFieldModel(
            definition=ResolverDefinition(
                function=install_relay_nodes,  # never called: the executor answers the field
                operation="query",
                name=name,
                description=description,
                deprecation_reason=None,
                auto=True,
            ),
            graphql_name=name,
            type_ref=output_ref,
            arguments={
                graphql_argument: ArgumentModel(
                    python_name=python_name,
                    graphql_name=graphql_argument,
                    type_ref=argument_ref,
                    default=None,
                    has_default=False,
                )
            },
            kind="node" if name == NODE_ROOT else "nodes",
            target=None,
            is_async=True,
            info_parameter=None,
            max_page_size=max_page_size,
            default_page_size=default_page_size,
        )
