"""The error table: DDL, the upsert the recorder runs, and the query API over it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

ERRORS_TABLE = "fraiseql_errors"
STATUSES = ("open", "resolved", "ignored")

ERRORS_SQL = f"""
CREATE TABLE IF NOT EXISTS {ERRORS_TABLE} (
    fingerprint     text PRIMARY KEY,
    category        text NOT NULL CHECK (category IN ('user', 'system', 'unexpected')),
    code            text NOT NULL,
    message         text NOT NULL,
    sqlstate        text,
    operation_name  text,
    document_hash   text,
    path            text,
    variables       jsonb,
    trace_id        text,
    error_id        text,
    occurrences     bigint NOT NULL DEFAULT 1,
    first_seen      timestamptz NOT NULL DEFAULT now(),
    last_seen       timestamptz NOT NULL DEFAULT now(),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'ignored')),
    resolved_at     timestamptz
);
CREATE INDEX IF NOT EXISTS {ERRORS_TABLE}_status_last_seen
    ON {ERRORS_TABLE} (status, last_seen DESC);
"""
"""The table FraiseQL records errors in; run it once (``fraiseql errors install``)."""

# A resolved error that comes back is open again; an ignored one stays ignored.
UPSERT_SQL = f"""
INSERT INTO {ERRORS_TABLE} AS e (
    fingerprint, category, code, message, sqlstate, operation_name, document_hash, path,
    variables, trace_id, error_id, occurrences, first_seen, last_seen
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14)
ON CONFLICT (fingerprint) DO UPDATE SET
    occurrences = e.occurrences + EXCLUDED.occurrences,
    last_seen = GREATEST(e.last_seen, EXCLUDED.last_seen),
    message = EXCLUDED.message,
    operation_name = EXCLUDED.operation_name,
    document_hash = EXCLUDED.document_hash,
    path = EXCLUDED.path,
    variables = EXCLUDED.variables,
    trace_id = EXCLUDED.trace_id,
    error_id = EXCLUDED.error_id,
    status = CASE WHEN e.status = 'resolved' THEN 'open' ELSE e.status END,
    resolved_at = CASE WHEN e.status = 'resolved' THEN NULL ELSE e.resolved_at END
"""


@dataclass(slots=True)
class ErrorRow:
    """One occurrence (or several, ``occurrences``) of a fingerprinted error, ready to write."""

    fingerprint: str
    category: str
    code: str
    message: str
    sqlstate: str | None
    operation_name: str | None
    document_hash: str | None
    path: str | None
    variables: dict[str, Any] | None
    trace_id: str | None
    error_id: str | None
    seen: datetime
    occurrences: int = 1

    def parameters(self, first_seen: datetime) -> tuple[Any, ...]:
        """The bind parameters of :data:`UPSERT_SQL`."""
        variables = None if self.variables is None else orjson.dumps(self.variables).decode()
        return (
            self.fingerprint, self.category, self.code, self.message, self.sqlstate,
            self.operation_name, self.document_hash, self.path, variables, self.trace_id,
            self.error_id, self.occurrences, first_seen, self.seen,
        )  # fmt: skip


INSTALL_LOCK = 0x4652_4149_4552_5253
"""The advisory lock that makes concurrent installs (several app processes) wait in turn."""


async def install_errors_table(connection: asyncpg.Connection) -> None:
    """Create the error table and its index if they do not exist.

    ``CREATE TABLE IF NOT EXISTS`` run at the same moment by two sessions can fail in one of
    them (a unique violation on the catalog): app processes starting together would lose their
    first errors. A transaction-scoped advisory lock runs the installs one after the other.
    """
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", INSTALL_LOCK)
        await connection.execute(ERRORS_SQL)


async def write_errors(connection: asyncpg.Connection, rows: Sequence[ErrorRow]) -> None:
    """Upsert ``rows`` (merged by fingerprint first) in one transaction."""
    merged: dict[str, tuple[ErrorRow, datetime]] = {}
    for row in rows:
        known = merged.get(row.fingerprint)
        if known is None:
            merged[row.fingerprint] = (row, row.seen)
        else:
            row.occurrences += known[0].occurrences
            merged[row.fingerprint] = (row, min(known[1], row.seen))
    async with connection.transaction():
        await connection.executemany(
            UPSERT_SQL, [row.parameters(first) for row, first in merged.values()]
        )


async def list_errors(
    connection: asyncpg.Connection,
    *,
    status: str | None = "open",
    category: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The recorded errors, most recently seen first, filtered by status and category."""
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    rows = await connection.fetch(
        f"SELECT * FROM {ERRORS_TABLE}"
        " WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR category = $2)"
        " ORDER BY last_seen DESC, fingerprint LIMIT $3",
        status,
        category,
        limit,
    )
    result = []
    for row in rows:
        item = dict(row)
        if isinstance(item.get("variables"), str):
            item["variables"] = orjson.loads(item["variables"])
        result.append(item)
    return result


async def set_error_status(connection: asyncpg.Connection, fingerprint: str, status: str) -> bool:
    """Set an error's status; ``False`` when no error has this fingerprint (or prefix)."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    if not re.fullmatch(r"[0-9a-f]{1,64}", fingerprint):
        return False
    result = await connection.execute(
        f"UPDATE {ERRORS_TABLE} SET status = $2,"
        " resolved_at = CASE WHEN $2 = 'resolved' THEN now() END"
        " WHERE fingerprint = $1"
        f" OR (length($1) >= 8 AND fingerprint LIKE $1 || '%' AND (SELECT count(*) FROM"
        f" {ERRORS_TABLE} WHERE fingerprint LIKE $1 || '%') = 1)",
        fingerprint,
        status,
    )
    return result != "UPDATE 0"


async def resolve_error(connection: asyncpg.Connection, fingerprint: str) -> bool:
    """Mark an error resolved; it opens again if it happens again."""
    return await set_error_status(connection, fingerprint, "resolved")
