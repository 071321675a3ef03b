"""Which top-level keys of the stored documents a root field can leave in the database.

An auto root field reads one JSONB document per row, written for every selection at once. A
small selection of a large document (``{ posts { id title } }`` of posts that embed their author
and comments) makes PostgreSQL send, and the response builder parse, bytes nobody asked for.
When the selection leaves out a composite field (an object or a list of objects, where a
denormalized read model keeps most of its bytes) and keeps no list of objects, the statement
removes every unselected field of the type with ``data - ARRAY[...]`` (see ``sql/select.py``).
Otherwise it reads the whole document: removing a few scalars, or an object next to a kept list
of objects, costs PostgreSQL more than it saves (``bench/pruning.py``; docs/benchmarks/NATIVE.md,
"Pruning in the planner").

Only the statement's select list changes; ``where``, ``orderBy`` and cursors read the whole
column. Keys the type does not declare stay in the documents. Nothing is removed when Python
code could read a key the selection does not name: a field resolver anywhere in the selection
or declared on the type (resolvers see the whole document as ``self``), or a value whose
concrete type is chosen at run time (interfaces, unions).

The same reading of the selection tells whether an auto mutation's payload selects its entity
at all (``reads_entity``); when it does not, the entity is not read back.
"""

from __future__ import annotations

from collections.abc import Iterator

from fraiseql.execution.shapes import LIST, OBJECT, Shape
from fraiseql.schema.model import FieldModel, RootFieldModel
from fraiseql.schema.refs import UnionRef
from fraiseql.schema.relay import is_node_id_field
from fraiseql.types.definitions import TypeDefinition


def unselected_keys(root: RootFieldModel, shape: Shape) -> tuple[str, ...]:
    """The stored keys the statement of ``root`` may remove, in field order (empty: none).

    ``shape`` is the root field's selection, as the plan holds it.
    """
    target = root.target
    if root.kind == "custom" or target is None or target.definition.kind != "object":
        return ()
    if shape.has_resolvers or any(
        field.resolver is not None and not is_node_id_field(field)
        for field in target.fields.values()
    ):
        return ()  # a computed nodeId reads the id only, which stays when it is selected
    selected: set[str] = set()
    for entity in _entity_shapes(root, shape):
        if entity.kind != OBJECT or entity.type_name != target.name:
            return ()
        selected.update(field.source for field in entity.fields if not field.is_typename)
    unselected = []
    for field in target.fields.values():
        if is_node_id_field(field):
            continue
        if field.python_name not in selected:
            unselected.append(field)
        elif field.type_ref.is_list and is_composite(field):
            return ()  # a kept list of objects holds most of the bytes: pruning costs more
    if not any(is_composite(field) for field in unselected):
        return ()
    return tuple(field.python_name for field in unselected)


def reads_entity(root: RootFieldModel, shape: Shape) -> bool:
    """Whether an auto mutation's selection reads the entity it wrote (for any other root: True).

    A payload selected for its status, id or errors alone does not need the entity read back
    from the query path: that statement is then skipped.
    """
    if root.kind != "mutation":
        return True
    return shape.has_resolvers or bool(_entity_shapes(root, shape))


def is_composite(field: FieldModel) -> bool:
    """True for a field holding an object, or a list of objects (of any nesting)."""
    named = field.type_ref.innermost()
    return isinstance(named, UnionRef) or (
        isinstance(named, TypeDefinition) and named.kind != "input"
    )


def _entity_shapes(root: RootFieldModel, shape: Shape) -> list[Shape]:
    """Every selection of the target's documents under an auto root field's value.

    ``one``/``list``: the value itself; connections: each ``node`` of each ``edges``;
    mutations: each selection of the payload's entity (of each item, for a batch).
    """
    if root.kind == "connection":
        return [node for edges in _members(shape, "edges") for node in _members(edges, "node")]
    if root.kind == "mutation":
        if root.batch is None:
            return list(_members(shape, "entity"))
        items = _members(shape, "items")
        return [entity for item in items for entity in _members(item, "entity")]
    return [_item(shape)]


def _item(shape: Shape) -> Shape:
    while shape.kind == LIST and shape.item is not None:
        shape = shape.item
    return shape


def _members(shape: Shape, source: str) -> Iterator[Shape]:
    """The shapes of the fields that read ``source`` on an object (under any alias)."""
    shape = _item(shape)
    if shape.kind != OBJECT:
        return
    for field in shape.fields:
        if field.source == source and not field.is_typename and field.shape is not None:
            yield field.shape
