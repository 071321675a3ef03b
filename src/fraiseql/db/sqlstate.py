"""Database errors of a mutation, mapped by SQLSTATE to what the client is told.

Integrity violations become a payload status with a field error (the write is rolled back);
``RAISE EXCEPTION ... USING DETAIL = '<field>', HINT = '<code>'`` (or any SQLSTATE of class
``FQ``) becomes a validation error on that field with the raised message; serialization
failures and deadlocks are retried by the executor; anything else, a bare ``RAISE`` included,
is an internal error, masked with an id.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

RETRYABLE = frozenset({"40001", "40P01"})
"""serialization_failure and deadlock_detected: the whole request may simply run again."""

_KEY_DETAIL = re.compile(r"Key \((?P<columns>[^)]*)\)=")

logger = logging.getLogger("fraiseql.db")


class RetryableTransactionError(Exception):
    """The request transaction lost a race; running it again may succeed."""


@dataclass(frozen=True, slots=True)
class MappedError:
    """What a database error means for the client: a status and field errors."""

    status: str
    message: str
    errors: list[dict[str, Any]]


def _field_from_constraint(error: Any) -> str | None:
    """``tb_post_title_check`` → ``title``: the column part of PostgreSQL's default names."""
    table = getattr(error, "table_name", None) or ""
    constraint = getattr(error, "constraint_name", None) or ""
    name = constraint
    if table and name.startswith(table + "_"):
        name = name[len(table) + 1 :]
    for suffix in ("_check", "_key", "_fkey", "_not_null"):
        if name.endswith(suffix):
            return name[: -len(suffix)] or None
    return name or None


def _key_field(error: Any, detail: str) -> str | None:
    """The first column of ``Key (a, b)=(...)`` in DETAIL, else the constraint's column part."""
    match = _KEY_DETAIL.search(detail)
    if match:
        return match.group("columns").split(",")[0].strip()
    return _field_from_constraint(error)


def map_database_error(error: Exception) -> MappedError | None:
    """The client-facing meaning of ``error``, or ``None`` when it must stay internal.

    ``error`` is an ``asyncpg.PostgresError`` or anything with the same attributes
    (``sqlstate``, ``message``, ``detail``, ``hint``, ``constraint_name``...), such as an error
    reported per item by a batch.
    """
    sqlstate = getattr(error, "sqlstate", None) or ""
    detail = getattr(error, "detail", None) or ""
    if sqlstate in RETRYABLE:
        raise RetryableTransactionError(sqlstate) from error
    if sqlstate == "23505":  # unique_violation
        field = _key_field(error, detail)
        return MappedError(
            "conflict",
            "A record with this value already exists.",
            [{"field": field, "message": "already exists", "code": "unique_violation"}],
        )
    if sqlstate == "23503":  # foreign_key_violation
        field = _key_field(error, detail)
        return MappedError(
            "validation_error",
            "A referenced record does not exist.",
            [
                {
                    "field": field,
                    "message": "refers to a missing record",
                    "code": "foreign_key_violation",
                }
            ],
        )
    if sqlstate == "23514":  # check_violation
        return MappedError(
            "validation_error",
            "A value is not acceptable.",
            [
                {
                    "field": _field_from_constraint(error),
                    "message": f"violates {getattr(error, 'constraint_name', None) or 'a check'}",
                    "code": "check_violation",
                }
            ],
        )
    if sqlstate == "23502":  # not_null_violation
        column = getattr(error, "column_name", None)
        return MappedError(
            "validation_error",
            "A required value is missing.",
            [{"field": column, "message": "is required", "code": "not_null_violation"}],
        )
    if sqlstate.startswith("22"):  # data_exception: a value of the wrong form
        logger.info("data exception (SQLSTATE %s): %s", sqlstate, getattr(error, "message", error))
        return MappedError(
            "validation_error",
            "A value has the wrong form.",
            [{"field": None, "message": data_exception_text(sqlstate), "code": "invalid_value"}],
        )
    hint = getattr(error, "hint", None)
    if (sqlstate == "P0001" and hint) or sqlstate.startswith("FQ"):
        # RAISE EXCEPTION '...' USING DETAIL = '<field>', HINT = '<code>', or ERRCODE 'FQ...':
        # a deliberate message for the client. A bare RAISE stays internal (it may be an assert).
        return MappedError(
            "validation_error",
            str(getattr(error, "message", error)),
            [
                {
                    "field": detail or None,
                    "message": str(getattr(error, "message", error)),
                    "code": hint
                    or ("raise_exception" if sqlstate == "P0001" else sqlstate.lower()),
                }
            ],
        )
    return None


_DATA_EXCEPTIONS = {
    "22001": "a text value is too long",
    "22003": "a number is out of range",
    "22007": "a date or time is not valid",
    "22008": "a date or time is out of range",
    "22012": "a value divides by zero",
    "22021": "a text value holds a character that cannot be stored",
    "22023": "a value is not valid here",
    "2201B": "a pattern is not a valid regular expression",
    "22P02": "a value is not of the expected form",
    "22P05": "a text value holds a character that cannot be stored",
}


def data_exception_text(sqlstate: str) -> str:
    """What a data exception (SQLSTATE class 22) says to clients, in FraiseQL's own words.

    PostgreSQL's message is never passed on: it may quote the offending value or name tables,
    columns and types of the database.
    """
    return _DATA_EXCEPTIONS.get(sqlstate, "a value has the wrong form")
