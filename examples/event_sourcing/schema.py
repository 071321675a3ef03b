"""The event-sourcing example's GraphQL schema: bank accounts kept as streams of events.

Reads come from the read models (``tv_account``, ``tv_daily_activity``) and, for the audit
trail, from the event store itself (``accountHistory``). Writes are commands: each mutation
calls one ``fn_*`` function of ``db/schema/40_commands/`` that validates against the account's
current state and appends one event (see that file for the statuses they answer).
"""

from __future__ import annotations

import enum

import orjson

import fraiseql
from fraiseql import FraiseQLError, OrderBy, Where
from fraiseql.sql.select import Statement
from fraiseql.types.scalars import JSON, UUID, Date, DateTime, Decimal

__all__ = [
    "MAX_HISTORY",
    "MUTATIONS",
    "QUERIES",
    "TYPES",
    "Account",
    "AccountEvent",
    "AccountStatus",
    "DailyActivity",
    "printable_schema",
]

MAX_HISTORY = 500
"""The most events one ``accountHistory`` call returns."""


@fraiseql.enum
class AccountStatus(enum.Enum):
    """Whether an account still takes deposits and withdrawals."""

    OPEN = "open"
    CLOSED = "closed"


@fraiseql.type(sql_source="tv_account")
class Account:
    """A bank account: the fold of its events (the synchronous projection, ``tv_account``)."""

    id: UUID
    identifier: str
    owner: str
    currency: str
    status: AccountStatus
    balance: Decimal
    version: int
    opened_at: DateTime
    closed_at: DateTime | None
    updated_at: DateTime
    deposit_count: int
    withdrawal_count: int


@fraiseql.type(sql_source="tv_daily_activity")
class DailyActivity:
    """What happened to all accounts on one UTC day (the catch-up projection)."""

    id: UUID
    identifier: str
    day: Date
    event_count: int
    accounts_opened: int
    accounts_closed: int
    deposit_count: int
    deposited: Decimal
    withdrawal_count: int
    withdrawn: Decimal


@fraiseql.type
class AccountEvent:
    """One event of an account's stream, as the store holds it."""

    id: UUID
    account_id: UUID
    version: int
    type: str
    payload: JSON
    amount: Decimal | None
    actor: str
    occurred_at: DateTime


@fraiseql.query
async def account(info, id: UUID | None = None, identifier: str | None = None) -> Account | None:
    """One account by id or identifier."""


@fraiseql.query
async def accounts(
    info,
    where: Where[Account] | None = None,
    order_by: list[OrderBy[Account]] | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> list[Account]:
    """Accounts, filtered and ordered."""


@fraiseql.query
async def daily_activity(
    info,
    where: Where[DailyActivity] | None = None,
    order_by: list[OrderBy[DailyActivity]] | None = None,
    limit: int | None = None,
) -> list[DailyActivity]:
    """Activity per day, as far as the catch-up projector has read the events."""


@fraiseql.query
async def account_history(
    info, account: str, after_version: int | None = None, limit: int = 100
) -> list[AccountEvent]:
    """The audit trail of an account (id or identifier): its events in version order.

    Read from the event store itself, never from a projection: ``afterVersion`` skips the
    events up to that version, ``limit`` (1 to 500) bounds the page.
    """
    if not 1 <= limit <= MAX_HISTORY:
        raise FraiseQLError(f"limit must be between 1 and {MAX_HISTORY}", field="limit")
    if after_version is not None and after_version < 0:
        raise FraiseQLError("afterVersion must not be negative", field="afterVersion")
    statement = Statement(
        "SELECT fn_account_history($1, $2, $3)::text", [account, after_version, limit]
    )
    text = await info.repository.fetch_value(statement)
    if text is None:
        raise FraiseQLError(
            "no account has this id or identifier", code="NOT_FOUND", field="account"
        )
    events: list[dict[str, object]] = orjson.loads(text)
    return events


QUERIES = [account, accounts, daily_activity, account_history]
TYPES = [Account, DailyActivity, AccountEvent]


@fraiseql.input
class OpenAccountInput:
    """A new account. ``id`` may be chosen by the client (a retry then answers CONFLICT)."""

    identifier: str
    owner: str
    currency: str = "EUR"
    id: UUID | None = None


@fraiseql.input
class MoveMoneyInput:
    """A deposit or a withdrawal: the account (id or identifier) and a positive amount.

    With ``expected_version`` the command applies only if the account is still at that
    version (optimistic concurrency); otherwise it answers CONFLICT.
    """

    account: str
    amount: Decimal
    expected_version: int | None = None


@fraiseql.input
class CloseAccountInput:
    """The account to close (its balance must be zero)."""

    account: str
    expected_version: int | None = None


@fraiseql.mutation
async def open_account(info, input: OpenAccountInput) -> Account:
    """Open an account (fn_open_account: an AccountOpened event)."""


@fraiseql.mutation
async def deposit(info, input: MoveMoneyInput) -> Account:
    """Pay money in (fn_deposit: a MoneyDeposited event)."""


@fraiseql.mutation
async def withdraw(info, input: MoveMoneyInput) -> Account:
    """Pay money out, never below zero (fn_withdraw: a MoneyWithdrawn event)."""


@fraiseql.mutation
async def close_account(info, input: CloseAccountInput) -> Account:
    """Close an empty account (fn_close_account: an AccountClosed event)."""


MUTATIONS = [open_account, deposit, withdraw, close_account]


def printable_schema() -> fraiseql.Schema:
    """The example's schema without a database (``fraiseql schema`` prints it)."""
    return fraiseql.Schema(types=TYPES, queries=QUERIES, mutations=MUTATIONS)
