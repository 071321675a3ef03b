"""Answering mutation fields: auto ones (a function call, then a read-back) and custom ones.

An auto mutation calls one function, then reads the entity through the query path.

A failed mutation leaves no write behind: the request transaction (or, when the operation has
several mutation fields, the field's savepoint) is rolled back whenever the function reports
anything but ``success``/``noop`` or raises, and whenever a custom mutation resolver raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson

from fraiseql.db.commands import CommandRepository
from fraiseql.db.contract import MutationOutcome
from fraiseql.db.repository import QueryRepository
from fraiseql.db.sqlstate import MappedError, map_database_error
from fraiseql.execution.batch_mutations import run_batch_mutation
from fraiseql.execution.info import Info
from fraiseql.execution.root_fields import resolve_custom
from fraiseql.execution.write_scope import WriteScope
from fraiseql.native.builder import Loads
from fraiseql.schema.model import RootFieldModel
from fraiseql.sql.select import Statement, select_one


async def run_mutation(
    root: RootFieldModel,
    arguments: dict[str, Any],
    repository: QueryRepository,
    *,
    own_savepoint: bool,
    drop: Sequence[str] = (),
    read_entity: bool = True,
    loads: Loads = orjson.loads,
    read_sql: str | None = None,
) -> dict[str, Any]:
    """The payload source of one auto mutation: status, message, id, entity, errors.

    The entity is read back without its top-level keys in ``drop`` (those the selection
    leaves out, see ``RootPlan.pruned``), and not at all without ``read_entity`` (a selection
    without the entity: ``RootPlan.reads_entity``), by ``read_sql`` when the plan keeps it
    (``RootPlan.read_back_sql``). A single mutation's entity stays the bytes the database sent
    (:data:`ENTITY_JSON`); ``loads`` parses a batch's entities (``RootPlan.loads``: exact numbers
    when the payload reads a ``Decimal``).
    """
    if root.batch is not None:
        return await run_batch_mutation(
            root,
            arguments,
            repository,
            own_savepoint=own_savepoint,
            drop=drop,
            read_entity=read_entity,
            loads=loads,
        )
    target = root.target
    function = root.definition.sql_function
    assert target is not None and function is not None
    # The read-back (its $1 the id as text): the plan's (RootPlan.read_back_sql), else built.
    if not read_entity:
        read_sql = None
    elif read_sql is None:
        read_sql = select_one(target, "id", "", drop=drop, as_bytes=True).sql
    session = repository.session
    if session.folded:
        return await _run_folded(root, arguments, repository, read_sql)
    scope = await WriteScope.open(session, own_savepoint=own_savepoint)
    try:
        outcome = await CommandRepository(session).call(function, arguments)
    except asyncpg.PostgresError as error:
        mapped = map_database_error(error)  # raises RetryableTransactionError for retries
        await scope.undo()
        if mapped is None:
            raise
        return _refused(mapped)
    except BaseException:
        await scope.undo()
        raise
    if not outcome.succeeded:
        await scope.undo()  # the entity read below is then the one as it stands, unchanged
    else:
        await scope.keep()
    text = None
    if outcome.id is not None and read_sql is not None:
        text = await repository.fetch_value(Statement(read_sql, [str(outcome.id)]))
    return _payload(outcome, text)


async def _run_folded(
    root: RootFieldModel,
    arguments: dict[str, Any],
    repository: QueryRepository,
    read_sql: str | None,
) -> dict[str, Any]:
    """``run_mutation`` as the request's one statement: call and read-back in one round trip."""
    function = root.definition.sql_function
    assert function is not None
    try:
        outcome, text = await CommandRepository(repository.session).call_and_read(
            function, arguments, read_sql
        )
    except asyncpg.PostgresError as error:
        if is_missing_helper(error):
            raise MutateHelperMissingError from error
        mapped = map_database_error(error)  # raises RetryableTransactionError for retries
        if mapped is None:
            raise
        return _refused(mapped)
    return _payload(outcome, text)


ENTITY_JSON = "entity_json"
"""The payload source's key holding the entity as the database sent it (JSON bytes or None).

The entity itself (``"entity"``) is left out: the executor renders the whole payload from its
JSON with the response builder (:func:`payload_json`), or parses the entity for the Python
projector when the payload needs resolvers.
"""


def _payload(outcome: MutationOutcome, entity: bytes | None) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "message": outcome.message,
        "id": str(outcome.id) if outcome.id is not None else None,
        ENTITY_JSON: entity,
        "errors": outcome.errors,
    }


def _refused(mapped: MappedError) -> dict[str, Any]:
    """The payload source of a mutation the database refused with an error meant for clients."""
    return {
        "status": mapped.status,
        "message": mapped.message,
        "id": None,
        ENTITY_JSON: None,
        "errors": mapped.errors,
    }


def payload_json(source: dict[str, Any]) -> bytes:
    """A payload source (see :data:`ENTITY_JSON`) as one JSON object, the entity's bytes as sent."""
    entity = source[ENTITY_JSON]
    return b"".join(
        (
            b'{"status":',
            orjson.dumps(source["status"]),
            b',"message":',
            orjson.dumps(source["message"]),
            b',"id":',
            orjson.dumps(source["id"]),
            b',"entity":',
            b"null" if entity is None else entity if isinstance(entity, bytes) else entity.encode(),
            b',"errors":',
            orjson.dumps(source["errors"]),
            b"}",
        )
    )


def with_entity(source: dict[str, Any], loads: Loads) -> dict[str, Any]:
    """A payload source with its entity parsed (``"entity"``), for the Python projector."""
    if ENTITY_JSON not in source:
        return source
    entity = source[ENTITY_JSON]
    return {**source, "entity": None if entity is None else loads(entity)}


class MutateHelperMissingError(Exception):
    """The database has no ``fraiseql_mutate`` (its ``CONTRACT_SQL`` predates it)."""


def is_missing_helper(error: asyncpg.PostgresError) -> bool:
    """Whether ``error`` says that ``fraiseql_mutate`` itself does not exist."""
    return isinstance(error, asyncpg.UndefinedFunctionError) and str(error).startswith(
        "function fraiseql_mutate("
    )


async def run_custom_mutation(
    root: RootFieldModel, arguments: dict[str, Any], info: Info, *, own_savepoint: bool
) -> Any:
    """Run a custom mutation resolver; if it raises, its writes are rolled back."""
    scope = await WriteScope.open(info.repository.session, own_savepoint=own_savepoint)
    try:
        result = await resolve_custom(root, arguments, info)
    except BaseException:
        await scope.undo()
        raise
    await scope.keep()
    return result
