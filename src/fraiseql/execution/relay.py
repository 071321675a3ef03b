"""Answering Relay's ``node`` and ``nodes`` root fields from the types' read models.

Every global id is decoded (and refused with ``BAD_USER_INPUT`` when malformed) before any
statement is built. ``node`` reads one document by id (``select_one``); ``nodes`` groups its ids
by type and reads each group with one statement (``select_by_ids``), then answers in the order
asked, repeating duplicates, with ``null`` for ids no row matches (missing, or hidden by
row-level security). Each document gets its ``__typename`` so that ``Node`` selections
(``... on Post { title }``) complete on the right concrete type. A type whose ``requires=`` check
refuses the request is refused (``FORBIDDEN``) before its ids are read: the ``Node`` interface
must not be a way around it.
"""

from __future__ import annotations

from typing import Any

from fraiseql.db.repository import QueryRepository
from fraiseql.execution.errors import FraiseQLError
from fraiseql.execution.type_access import check_type_allowed
from fraiseql.native.builder import Loads
from fraiseql.schema.model import RootFieldModel, SchemaModel, TypeModel
from fraiseql.schema.relay import decode_node_id
from fraiseql.sql.select import select_by_ids, select_one


def _document(text: Any, type_name: str, loads: Loads) -> dict[str, Any]:
    document: dict[str, Any] = loads(text)
    document["__typename"] = type_name
    return document


async def fetch_node(
    schema: SchemaModel,
    root: RootFieldModel,
    arguments: dict[str, Any],
    repository: QueryRepository,
    context: dict[str, Any],
    loads: Loads,
) -> Any:
    """The documents a ``node``/``nodes`` root field answers with (``None`` where none).

    ``loads`` parses the documents (exact numbers when the selection reads a ``Decimal``).
    """
    if root.kind == "node":
        model, node_id = decode_node_id(arguments["node_id"], schema.node_types, "nodeId")
        check_type_allowed(model, context)
        text = await repository.fetch_value(select_one(model, "id", node_id))
        return None if text is None else _document(text, model.name, loads)
    requested: list[Any] = arguments["node_ids"]
    if len(requested) > root.max_page_size:
        raise FraiseQLError(
            f"'nodeIds' must hold at most {root.max_page_size} ids (the maximum page size)",
            argument="nodeIds",
        )
    wanted: list[tuple[str, str]] = []
    groups: dict[str, tuple[TypeModel, dict[str, None]]] = {}
    for index, value in enumerate(requested):
        model, node_id = decode_node_id(value, schema.node_types, f"nodeIds[{index}]")
        wanted.append((model.name, node_id))
        groups.setdefault(model.name, (model, {}))[1].setdefault(node_id, None)
    for model, _ in groups.values():
        check_type_allowed(model, context)  # every type before any statement
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for name, (model, ids) in groups.items():
        for row in await repository.fetch_rows(select_by_ids(model, list(ids))):
            found[(name, row[0])] = _document(row[1], name, loads)
    return [found.get(key) for key in wanted]
