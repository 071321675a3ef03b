"""Calling one mutation function for each item of a list, in one statement.

``fraiseql_call_items`` (created by ``CONTRACT_SQL``) runs the function once per item, each in a
subtransaction, and reports for each item either the function's result or the error it raised
(SQLSTATE, message, DETAIL, HINT, constraint, table, column). The errors are then mapped as
those of single mutations are (see :mod:`fraiseql.db.sqlstate`).

Two modes:

- ``atomic`` (all or nothing): the first failing item undoes every item before it and is the
  only item reported; items after it do not run.
- ``partial``: every item runs; a failing item undoes only its own writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from fraiseql.db.contract import check_outcome
from fraiseql.db.sqlstate import map_database_error

BatchMode = Literal["atomic", "partial"]

CALL_ITEMS_SQL = (
    "SELECT item_index, item_status, item_id, item_message, item_errors, error_sqlstate, "
    "error_message, error_detail, error_hint, error_constraint, error_table, error_column "
    "FROM fraiseql_call_items($1::text, $2::jsonb, $3::boolean)"
)
"""The one statement of a batch: ``$1`` the quoted function name, ``$2`` the items as a JSON
array, ``$3`` true for the partial mode."""


class RaisedError(Exception):
    """An error an item raised inside ``fraiseql_call_items``, with PostgreSQL's fields."""

    def __init__(
        self,
        sqlstate: str,
        message: str,
        *,
        detail: str | None = None,
        hint: str | None = None,
        constraint_name: str | None = None,
        table_name: str | None = None,
        column_name: str | None = None,
    ) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.message = message
        self.detail = detail or None
        self.hint = hint or None
        self.constraint_name = constraint_name or None
        self.table_name = table_name or None
        self.column_name = column_name or None


class BatchItemError(Exception):
    """An item raised an error that is not for the client; the whole batch is undone."""


@dataclass(slots=True)
class ItemOutcome:
    """What one item of a batch did (``index`` is its position in the input list)."""

    index: int
    status: str
    id: uuid.UUID | None
    message: str | None
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        """Whether the item's write stands (``success`` or ``noop``)."""
        return self.status in ("success", "noop")


@dataclass(slots=True)
class BatchOutcome:
    """The items of a batch that ran, in input order, and what the batch as a whole did.

    In ``atomic`` mode after a failure, ``items`` holds only the failed item: nothing was
    written. In ``partial`` mode it holds every item.
    """

    mode: BatchMode
    total: int
    items: list[ItemOutcome]

    @property
    def failed(self) -> list[ItemOutcome]:
        """The items whose write did not stand."""
        return [item for item in self.items if not item.succeeded]

    @property
    def status(self) -> str:
        """The batch's status: ``success`` when every item stood, else the first failure's.

        It is ``noop`` when every item was a noop.
        """
        failed = self.failed
        if failed:
            return failed[0].status
        if self.items and all(item.status == "noop" for item in self.items):
            return "noop"
        return "success"

    @property
    def message(self) -> str:
        """A sentence for people about the whole batch."""
        failed = self.failed
        if not failed:
            return f"{self.total} of {self.total} items written."
        first = failed[0]
        reason = f" ({first.message.rstrip('.')})" if first.message else ""
        if self.mode == "atomic":
            return f"Item {first.index} failed{reason}; nothing was written."
        return (
            f"{self.total - len(failed)} of {self.total} items written; "
            f"{len(failed)} failed, the first being item {first.index}{reason}."
        )


def read_item_rows(function: str, mode: BatchMode, total: int, rows: Sequence[Any]) -> BatchOutcome:
    """Check each row of ``fraiseql_call_items`` against the contract and map its error.

    Raises :class:`~fraiseql.db.contract.ContractError` for a broken result and
    :class:`BatchItemError` for an error that must stay internal.
    """
    items: list[ItemOutcome] = []
    for row in rows:
        index = int(row[0])
        sqlstate = row[5]
        if sqlstate is None:
            outcome = check_outcome(function, (row[1], row[2], row[3], row[4]))
            items.append(
                ItemOutcome(index, outcome.status, outcome.id, outcome.message, outcome.errors)
            )
            continue
        raised = RaisedError(
            sqlstate,
            row[6] or "",
            detail=row[7],
            hint=row[8],
            constraint_name=row[9],
            table_name=row[10],
            column_name=row[11],
        )
        mapped = map_database_error(raised)
        if mapped is None:
            raise BatchItemError(
                f"{function} failed on item {index} with SQLSTATE {sqlstate}: {raised.message}"
            )
        items.append(ItemOutcome(index, mapped.status, None, mapped.message, mapped.errors))
    if mode == "atomic" and items and not items[-1].succeeded:
        items = items[-1:]
    return BatchOutcome(mode, total, items)
