"""Answering a batch mutation: one statement for every item, one statement to read them back.

The items go to ``fraiseql_call_items`` (see :mod:`fraiseql.db.batch`), which calls the
single-item mutation function once per item, each in a subtransaction. The entities the items
name are then read through the query path in one statement, so the selection is honoured.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson

from fraiseql.db.batch import BatchOutcome
from fraiseql.db.commands import CommandRepository
from fraiseql.db.repository import QueryRepository
from fraiseql.db.sqlstate import map_database_error
from fraiseql.execution.write_scope import WriteScope
from fraiseql.native.builder import Loads
from fraiseql.schema.model import RootFieldModel
from fraiseql.sql.select import select_by_ids


async def run_batch_mutation(
    root: RootFieldModel,
    arguments: dict[str, Any],
    repository: QueryRepository,
    *,
    own_savepoint: bool,
    drop: Sequence[str] = (),
    read_entity: bool = True,
    loads: Loads = orjson.loads,
) -> dict[str, Any]:
    """The payload source of one batch mutation: its status and one result per item.

    The entities are read back without their top-level keys in ``drop``, and not at all
    without ``read_entity`` (no item's entity is selected).
    """
    target = root.target
    function = root.definition.sql_function
    assert target is not None and function is not None and len(arguments) == 1
    items = next(iter(arguments.values()))
    session = repository.session
    scope = await WriteScope.open(session, own_savepoint=own_savepoint and bool(items))
    try:
        outcome = await CommandRepository(session).call_items(
            function, items, partial=root.batch == "partial"
        )
    except asyncpg.PostgresError as error:
        await scope.undo()
        map_database_error(error)  # raises RetryableTransactionError for retries
        raise
    except BaseException:
        await scope.undo()
        raise
    if outcome.mode == "atomic" and outcome.failed:
        await scope.undo()  # already undone by the statement; the read below shows what stands
    else:
        await scope.keep()
    return await _payload(outcome, root, repository, drop, read_entity, loads)


async def _payload(
    outcome: BatchOutcome,
    root: RootFieldModel,
    repository: QueryRepository,
    drop: Sequence[str],
    read_entity: bool,
    loads: Loads,
) -> dict[str, Any]:
    target = root.target
    assert target is not None
    ids = [item.id for item in outcome.items if item.id is not None]
    entities: dict[str, Any] = {}
    if ids and read_entity:
        for row in await repository.fetch_rows(
            select_by_ids(target, ids, drop=drop, as_bytes=True)
        ):
            entities[row[0]] = loads(row[1])
    failed = outcome.failed
    return {
        "status": outcome.status,
        "message": outcome.message,
        "failed_index": failed[0].index if failed else None,
        "failed_count": len(failed),
        "errors": failed[0].errors if failed else [],
        "items": [
            {
                "index": item.index,
                "status": item.status,
                "message": item.message,
                "id": str(item.id) if item.id is not None else None,
                "entity": entities.get(str(item.id)) if item.id is not None else None,
                "errors": item.errors,
            }
            for item in outcome.items
        ],
    }
