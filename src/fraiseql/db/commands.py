"""``CommandRepository``: calls one mutation function and checks its result contract."""

from __future__ import annotations

import decimal
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from fraiseql.db.session import RequestSession
from fraiseql.execution.errors import FraiseQLError
from fraiseql.schema.graphql_types import MUTATION_STATUSES
from fraiseql.schema.inputs import input_to_json_value
from fraiseql.sql.identifiers import quote_qualified

CONTRACT_SQL = """
DO $$ BEGIN
    CREATE TYPE fraiseql_mutation_result AS (
        status  text,   -- success | noop | not_found | conflict | validation_error | forbidden
        id      uuid,   -- the entity written (read back through its read model)
        message text,   -- for people
        errors  jsonb   -- [{"field": "...", "message": "...", "code": "..."}]
    );
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
"""
"""The composite type every mutation function returns; run once per database."""


class ContractError(FraiseQLError):
    """A mutation function broke the result contract (unknown status, malformed errors)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="INVALID_MUTATION_RESULT")


@dataclass(slots=True)
class MutationOutcome:
    """A checked ``fraiseql_mutation_result``."""

    status: str
    id: uuid.UUID | None
    message: str | None
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        """Whether the write stands (``success`` or ``noop``)."""
        return self.status in ("success", "noop")


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


def check_outcome(function: str, row: Any) -> MutationOutcome:
    """Validate a returned ``fraiseql_mutation_result`` row; :class:`ContractError` if broken."""
    if row is None:
        raise ContractError(f"{function} returned no row")
    status, entity_id, message, errors_text = row[0], row[1], row[2], row[3]
    if status not in MUTATION_STATUSES:
        raise ContractError(f"{function} returned an unknown status {status!r}")
    errors: list[dict[str, Any]] = []
    if errors_text is not None:
        try:
            parsed = orjson.loads(errors_text)
        except orjson.JSONDecodeError:
            raise ContractError(f"{function} returned errors that are not JSON") from None
        if not isinstance(parsed, list):
            raise ContractError(f"{function} returned errors that are not a JSON array")
        for item in parsed:
            if not isinstance(item, dict) or not isinstance(item.get("message"), str):
                raise ContractError(f"{function} returned an error without a message")
            errors.append(
                {
                    "field": item.get("field") if isinstance(item.get("field"), str) else None,
                    "message": item["message"],
                    "code": item.get("code") if isinstance(item.get("code"), str) else status,
                }
            )
    if status == "success" and entity_id is None:
        raise ContractError(f"{function} returned success without an id")
    return MutationOutcome(status, entity_id, message, errors)


class CommandRepository:
    """Calls mutation functions on the request's connection, inside its transaction."""

    def __init__(self, session: RequestSession) -> None:
        self._session = session

    async def call(self, function: str, arguments: dict[str, Any]) -> MutationOutcome:
        """Call ``function(arguments::jsonb)`` once and check its result."""
        sql = (
            "SELECT r.status, r.id, r.message, r.errors::text "
            f"FROM {quote_qualified(function)}($1::jsonb) AS r"
        )
        async with self._session.use() as connection:
            row = await connection.fetchrow(sql, arguments_json(arguments))
        return check_outcome(function, row)
