"""``CommandRepository``: calls mutation functions and checks their result contract.

Auto mutations use :meth:`CommandRepository.call`; custom mutation resolvers reach the same
repository as ``info.commands`` and use :meth:`~CommandRepository.run` (one call that undoes
itself when it fails) or :meth:`~CommandRepository.call_items` (a batch).
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from typing import Any

import orjson

from fraiseql.db.batch import CALL_ITEMS_SQL, BatchMode, BatchOutcome, read_item_rows
from fraiseql.db.contract import (
    CONTRACT_SQL,
    MUTATE_SQL,
    ContractError,
    MutationOutcome,
    check_outcome,
)
from fraiseql.db.session import RequestSession
from fraiseql.schema.inputs import input_to_json_value
from fraiseql.sql.identifiers import quote_qualified

__all__ = [
    "CONTRACT_SQL",
    "CommandRepository",
    "ContractError",
    "MutationOutcome",
    "arguments_json",
    "check_outcome",
    "items_json",
]


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} to a mutation function")


def arguments_json(arguments: dict[str, Any]) -> str:
    """The JSONB argument of a mutation function.

    A mutation with one input-object argument sends that object; otherwise an object of all
    arguments by Python name. Input objects carry only the fields the client gave.
    """
    values = {name: input_to_json_value(value) for name, value in arguments.items()}
    if len(values) == 1:
        only = next(iter(values.values()))
        if isinstance(only, dict):
            values = only
    return orjson.dumps(values, default=_json_default).decode()


def items_json(items: Sequence[Any]) -> str:
    """The JSON array of a batch: each item (an input object or a dict) as its own object."""
    return orjson.dumps(
        [input_to_json_value(item) for item in items], default=_json_default
    ).decode()


class CommandRepository:
    """Calls mutation functions on the request's connection, inside its transaction."""

    def __init__(self, session: RequestSession) -> None:
        self._session = session

    async def call(self, function: str, arguments: dict[str, Any]) -> MutationOutcome:
        """Call ``function(arguments::jsonb)`` once and check its result.

        Database errors are raised as they are, and a failed status leaves the function's
        writes in the transaction: the caller rolls back (auto mutations do).
        """
        sql = (
            "SELECT r.status, r.id, r.message, r.errors::text "
            f"FROM {quote_qualified(function)}($1::jsonb) AS r"
        )
        async with self._session.use() as connection:
            row = await connection.fetchrow(sql, arguments_json(arguments))
        return check_outcome(function, row)

    async def call_and_read(
        self, function: str, arguments: dict[str, Any], read_sql: str | None
    ) -> tuple[MutationOutcome, bytes | None]:
        """Call ``function`` and read its entity back in the request's one statement.

        For a folded session (see :class:`RequestSession`): ``fraiseql_mutate`` sets the
        request's settings, calls the function, undoes its writes when the status is not
        success/noop, and runs ``read_sql`` (its ``$1`` the entity id as text; ``None``: no
        read-back). Database errors are raised as they are; the statement then wrote nothing.
        """
        row = await self._session.fetchrow_folded(
            MUTATE_SQL, quote_qualified(function), arguments_json(arguments), read_sql
        )
        outcome = check_outcome(function, row)
        assert row is not None
        return outcome, row[4]

    async def call_items(
        self, function: str, items: Sequence[Any], *, partial: bool = False
    ) -> BatchOutcome:
        """Call ``function`` once per item, in one statement (see :mod:`fraiseql.db.batch`).

        ``partial=False``: all or nothing; the first failing item undoes every write of the
        batch and is reported alone. ``partial=True``: a failing item undoes only itself. Errors
        meant for the client (unique or check violations, ``RAISE ... USING HINT``) become the
        item's status and errors; other errors raise and the batch is undone.
        """
        mode: BatchMode = "partial" if partial else "atomic"
        if not items:
            return BatchOutcome(mode, 0, [])
        async with self._session.use() as connection:
            rows = await connection.fetch(
                CALL_ITEMS_SQL, quote_qualified(function), items_json(items), partial
            )
        return read_item_rows(function, mode, len(items), rows)

    async def run(self, function: str, arguments: dict[str, Any]) -> MutationOutcome:
        """Call ``function`` once in a subtransaction: a failure undoes this call only.

        The request transaction stays usable after a failure, so a custom mutation can go on
        (or raise, which rolls the whole request back). Arguments are sent as with
        :meth:`call`: one input object as itself, otherwise an object of all arguments.
        """
        async with self._session.use() as connection:
            rows = await connection.fetch(
                CALL_ITEMS_SQL, quote_qualified(function), f"[{arguments_json(arguments)}]", True
            )
        item = read_item_rows(function, "partial", 1, rows).items[0]
        return MutationOutcome(item.status, item.id, item.message, item.errors)
