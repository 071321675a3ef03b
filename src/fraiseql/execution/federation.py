"""Answering Apollo Federation's ``_service`` and ``_entities`` root fields.

``_service`` answers the subgraph SDL printed when the schema was built. ``_entities``
checks every representation first — an object, a ``__typename`` naming an entity type of
this subgraph, an ``id`` that is a UUID — and refuses the whole call with ``BAD_USER_INPUT``,
before any statement is built, when one is not. It then groups the ids by type, reads each
group with one statement (``id = ANY($1::uuid[])``) in the request's transaction, and answers
in the order of the representations, repeating duplicates, with ``null`` for ids no visible
row has: missing ones and ones row-level security hides (another tenant's) look the same.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from fraiseql.db.repository import QueryRepository
from fraiseql.execution.errors import FraiseQLError
from fraiseql.execution.type_access import check_type_allowed
from fraiseql.native.builder import Loads
from fraiseql.schema.federation import KEY_FIELD
from fraiseql.schema.model import RootFieldModel, SchemaModel, TypeModel
from fraiseql.sql.select import select_by_ids

_ARGUMENT = "representations"

logger = logging.getLogger("fraiseql.execution")


def _invalid(index: int, reason: str) -> FraiseQLError:
    where = f"{_ARGUMENT}[{index}]"
    return FraiseQLError(f"'{where}' is not a valid representation: {reason}.", argument=where)


def _entity_key(
    index: int, representation: Any, entity_types: Mapping[str, TypeModel]
) -> tuple[TypeModel, str]:
    """The entity type and canonical UUID text of one representation, or its error."""
    if not isinstance(representation, Mapping):
        raise _invalid(index, "it is not an object")
    type_name = representation.get("__typename")
    if not isinstance(type_name, str):
        raise _invalid(index, "it has no '__typename' string")
    model = entity_types.get(type_name)
    if model is None:
        raise _invalid(index, f"{type_name[:100]!r} is not an entity type of this subgraph")
    value = representation.get(KEY_FIELD)
    if value is None:
        raise _invalid(index, f"it has no '{KEY_FIELD}' (the key of {type_name})")
    if not isinstance(value, str):
        raise _invalid(index, f"its '{KEY_FIELD}' is not a UUID string")
    try:
        return model, str(uuid.UUID(value))
    except ValueError:
        raise _invalid(index, f"its '{KEY_FIELD}' is not a UUID") from None


async def fetch_federation(
    schema: SchemaModel,
    root: RootFieldModel,
    arguments: dict[str, Any],
    repository: QueryRepository,
    context: dict[str, Any],
    loads: Loads,
) -> Any:
    """The value of ``_service`` (``{"sdl": ...}``) or ``_entities`` (documents or ``None``).

    Each entity document gets its ``__typename`` so that ``_Entity`` selections complete on
    the right type. ``loads`` parses the documents (exact numbers when they hold decimals).
    """
    if root.kind == "service":
        return {"sdl": schema.subgraph_sdl}
    representations: list[Any] = arguments[_ARGUMENT]
    if len(representations) > root.max_page_size:
        raise FraiseQLError(
            f"'{_ARGUMENT}' must hold at most {root.max_page_size} items",
            argument=_ARGUMENT,
        )
    wanted: list[tuple[str, str]] = []
    groups: dict[str, tuple[TypeModel, dict[str, None]]] = {}
    for index, representation in enumerate(representations):
        model, entity_id = _entity_key(index, representation, schema.entity_types)
        wanted.append((model.name, entity_id))
        groups.setdefault(model.name, (model, {}))[1].setdefault(entity_id, None)
    for model, _ in groups.values():
        check_type_allowed(model, context)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for name, (model, ids) in groups.items():
        for row in await repository.fetch_rows(select_by_ids(model, list(ids))):
            document: dict[str, Any] = loads(row[1])
            document["__typename"] = name
            found[(name, row[0])] = document
    return [found.get(key) for key in wanted]
