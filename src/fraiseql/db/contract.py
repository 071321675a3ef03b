"""The mutation result contract: its SQL, and the check of each returned result.

``CONTRACT_SQL`` creates the ``fraiseql_mutation_result`` type every mutation function returns,
``fraiseql_call_items``, the helper that calls such a function once per item of a JSON array,
each item in a subtransaction (batch mutations and ``info.commands``), and ``fraiseql_mutate``,
which runs a single auto mutation with its settings and its read-back in one statement, and
``fraiseql_notify``, which mutation functions call to tell subscriptions what they changed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from fraiseql.execution.errors import FraiseQLError
from fraiseql.schema.graphql_types import MUTATION_STATUSES

_RESULT_TYPE_SQL = """
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

# One row per item that ran. ``partial``: each item in its own subtransaction; a failed item
# (a status other than success/noop, or an error) undoes only itself. ``atomic``: the loop is
# one subtransaction; the first failed item undoes every item and is the last row returned.
# Serialization failures and deadlocks are re-raised: the whole request is retried.
_CALL_ITEMS_SQL = """
CREATE OR REPLACE FUNCTION fraiseql_call_items(function_name text, items jsonb, partial boolean)
RETURNS TABLE (
    item_index integer, item_status text, item_id uuid, item_message text, item_errors text,
    error_sqlstate text, error_message text, error_detail text, error_hint text,
    error_constraint text, error_table text, error_column text
) LANGUAGE plpgsql AS $fn$
DECLARE
    v_function regprocedure := to_regprocedure(function_name || '(jsonb)');
    v_sql text;
    v_item jsonb;
    v_result fraiseql_mutation_result;
    v_undo boolean := false;
BEGIN
    IF v_function IS NULL THEN
        RAISE EXCEPTION 'fraiseql_call_items: there is no function %(jsonb)', function_name
            USING ERRCODE = 'undefined_function';
    END IF;
    IF jsonb_typeof(items) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'fraiseql_call_items: items must be a JSON array'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_sql := format('SELECT * FROM %s($1)', v_function::oid::regproc);
    item_index := -1;
    IF partial THEN
        FOR v_item IN SELECT value FROM jsonb_array_elements(items) LOOP
            item_index := item_index + 1;
            v_undo := false;
            item_status := NULL; item_id := NULL; item_message := NULL; item_errors := NULL;
            error_sqlstate := NULL; error_message := NULL; error_detail := NULL;
            error_hint := NULL; error_constraint := NULL; error_table := NULL;
            error_column := NULL;
            BEGIN
                EXECUTE v_sql INTO v_result USING v_item;
                item_status := v_result.status;
                item_id := v_result.id;
                item_message := v_result.message;
                item_errors := v_result.errors::text;
                IF item_status IS DISTINCT FROM 'success' AND item_status IS DISTINCT FROM 'noop'
                THEN
                    v_undo := true;
                    RAISE EXCEPTION 'undo item %', item_index USING ERRCODE = 'FQB01';
                END IF;
            EXCEPTION WHEN OTHERS THEN
                IF SQLSTATE IN ('40001', '40P01') THEN
                    RAISE;
                END IF;
                IF NOT v_undo THEN
                    GET STACKED DIAGNOSTICS
                        error_sqlstate = RETURNED_SQLSTATE, error_message = MESSAGE_TEXT,
                        error_detail = PG_EXCEPTION_DETAIL, error_hint = PG_EXCEPTION_HINT,
                        error_constraint = CONSTRAINT_NAME, error_table = TABLE_NAME,
                        error_column = COLUMN_NAME;
                END IF;
            END;
            RETURN NEXT;
        END LOOP;
        RETURN;
    END IF;
    BEGIN
        FOR v_item IN SELECT value FROM jsonb_array_elements(items) LOOP
            item_index := item_index + 1;
            item_status := NULL; item_id := NULL; item_message := NULL; item_errors := NULL;
            EXECUTE v_sql INTO v_result USING v_item;
            item_status := v_result.status;
            item_id := v_result.id;
            item_message := v_result.message;
            item_errors := v_result.errors::text;
            IF item_status IS DISTINCT FROM 'success' AND item_status IS DISTINCT FROM 'noop' THEN
                v_undo := true;
                RAISE EXCEPTION 'undo the batch at item %', item_index USING ERRCODE = 'FQB02';
            END IF;
            RETURN NEXT;
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        IF SQLSTATE IN ('40001', '40P01') THEN
            RAISE;
        END IF;
        IF NOT v_undo THEN
            item_status := NULL; item_id := NULL; item_message := NULL; item_errors := NULL;
            GET STACKED DIAGNOSTICS
                error_sqlstate = RETURNED_SQLSTATE, error_message = MESSAGE_TEXT,
                error_detail = PG_EXCEPTION_DETAIL, error_hint = PG_EXCEPTION_HINT,
                error_constraint = CONSTRAINT_NAME, error_table = TABLE_NAME,
                error_column = COLUMN_NAME;
        END IF;
        RETURN NEXT;  -- the failed item; every write of the batch is undone
    END;
END;
$fn$;
"""

# One auto mutation as the request's only statement (see ``MUTATE_SQL``). The settings (claims,
# role) are set transaction-locally first, so the call and the read-back run under them as in a
# request transaction; the statement is its own transaction. A status other than success/noop,
# or a result that breaks the contract (which ``check_outcome`` then reports), undoes the call's
# writes (the block's subtransaction) and still returns its result; errors the
# function raises fail the statement, which then wrote nothing. The read-back is a later
# statement inside this volatile function: its snapshot sees the call's writes.
_MUTATE_SQL = """
CREATE OR REPLACE FUNCTION fraiseql_mutate(
    function_name text, input jsonb, read_sql text, settings text[]
) RETURNS TABLE (status text, id uuid, message text, errors text, entity bytea)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_function regprocedure;
    v_result fraiseql_mutation_result;
BEGIN
    FOR i IN 1 .. coalesce(array_length(settings, 1), 0) / 2 LOOP
        PERFORM set_config(settings[2 * i - 1], settings[2 * i], true);
    END LOOP;
    v_function := to_regprocedure(function_name || '(jsonb)');
    IF v_function IS NULL THEN
        RAISE EXCEPTION 'fraiseql_mutate: there is no function %(jsonb)', function_name
            USING ERRCODE = 'undefined_function';
    END IF;
    BEGIN
        EXECUTE format('SELECT * FROM %s($1)', v_function::oid::regproc)
            INTO v_result USING input;
        -- Undone unless the write may stand: success or noop, with the contract kept (success
        -- names its entity; errors, if any, are an array of objects with a string message).
        IF v_result.status IS DISTINCT FROM 'success' AND v_result.status IS DISTINCT FROM 'noop'
            OR (v_result.status = 'success' AND v_result.id IS NULL)
            OR (v_result.errors IS NOT NULL AND (
                jsonb_typeof(v_result.errors) IS DISTINCT FROM 'array'
                OR EXISTS (
                    SELECT FROM jsonb_array_elements(v_result.errors) AS e
                    WHERE jsonb_typeof(e) IS DISTINCT FROM 'object'
                        OR jsonb_typeof(e -> 'message') IS DISTINCT FROM 'string'
                )))
        THEN
            RAISE EXCEPTION 'undo' USING ERRCODE = 'FQM01';
        END IF;
    EXCEPTION WHEN SQLSTATE 'FQM01' THEN
        NULL;  -- the call's writes are undone; its result is returned as it was
    END;
    status := v_result.status;
    id := v_result.id;
    message := v_result.message;
    errors := v_result.errors::text;
    IF read_sql IS NOT NULL AND v_result.id IS NOT NULL THEN
        EXECUTE read_sql INTO entity USING v_result.id::text;
    END IF;
    RETURN NEXT;
END;
$fn$;
"""

MUTATE_SQL = (
    "SELECT status, id, message, errors, entity "
    "FROM fraiseql_mutate($1::text, $2::jsonb, $3::text, $4::text[])"
)
"""An auto mutation in one round trip: ``$1`` the quoted function name, ``$2`` its input,
``$3`` the read-back statement (its ``$1`` is the entity's id as text) or NULL for none,
``$4`` the request's settings as ``[name, value, name, value, ...]``."""

# IMMUTABLE is true of the values FraiseQL's DateTime reads and writes: ISO 8601 with an offset,
# whose meaning no TimeZone or DateStyle setting changes (PostgreSQL's to_jsonb of a timestamptz
# always writes one). The plain cast is STABLE, so no index could hold it.
_READ_HELPERS_SQL = """
CREATE OR REPLACE FUNCTION fraiseql_timestamptz(value text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$ SELECT value::timestamptz $fn$;
"""

# A NOTIFY payload must stay under 8000 bytes: 150 ids of 39 bytes each (quoted, with a comma)
# leave room for the entity. Ids only, never data: subscribers read the rows themselves.
_NOTIFY_SQL = """
CREATE OR REPLACE FUNCTION fraiseql_notify(p_entity text, p_op text, p_ids uuid[])
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    v_from integer := 1;
    v_count integer := coalesce(cardinality(p_ids), 0);
BEGIN
    IF p_op IS NULL OR p_op NOT IN ('insert', 'update', 'delete') THEN
        RAISE EXCEPTION 'fraiseql_notify: op must be insert, update or delete, not %', p_op
            USING ERRCODE = '22023';
    END IF;
    IF p_entity IS NULL OR p_entity !~ '^[A-Za-z_][A-Za-z0-9_.]{0,62}$' THEN
        RAISE EXCEPTION 'fraiseql_notify: % is not an entity name', p_entity
            USING ERRCODE = '22023';
    END IF;
    WHILE v_from <= v_count LOOP
        PERFORM pg_notify('fraiseql_events', json_build_object(
            'entity', p_entity, 'op', p_op, 'ids', p_ids[v_from : v_from + 149],
            'at', extract(epoch FROM clock_timestamp()))::text);
        v_from := v_from + 150;
    END LOOP;
END;
$fn$;
"""

# For writes that bypass the API (a psql session, a batch job): a statement-level trigger on a
# read model that tells subscriptions and caches which rows changed, as fraiseql_notify does.
#   CREATE TRIGGER tv_post_notify AFTER INSERT OR UPDATE OR DELETE ON tv_post
#       REFERENCING NEW TABLE AS fraiseql_new OLD TABLE AS fraiseql_old   -- (per event kind)
#       FOR EACH STATEMENT EXECUTE FUNCTION fraiseql_notify_changes('post');
# fraiseql_notify_trigger_sql() writes the three CREATE TRIGGER statements it takes.
_NOTIFY_TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION fraiseql_notify_changes() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    v_entity text := TG_ARGV[0];
    v_id_column text := coalesce(TG_ARGV[1], 'id');
    v_ids uuid[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        EXECUTE format('SELECT array_agg(DISTINCT %I) FROM fraiseql_old', v_id_column) INTO v_ids;
    ELSE
        EXECUTE format('SELECT array_agg(DISTINCT %I) FROM fraiseql_new', v_id_column) INTO v_ids;
    END IF;
    PERFORM fraiseql_notify(v_entity, lower(TG_OP), v_ids);
    RETURN NULL;
END;
$fn$;
"""

CONTRACT_SQL = (
    _RESULT_TYPE_SQL
    + _CALL_ITEMS_SQL
    + _MUTATE_SQL
    + _READ_HELPERS_SQL
    + _NOTIFY_SQL
    + _NOTIFY_TRIGGER_SQL
)
"""The result type, the calling helpers, the read helpers (``fraiseql_timestamptz``) and the
event helper (``fraiseql_notify``, which subscriptions listen to); run once per database
(idempotent)."""


def notify_trigger_sql(table: str, entity: str, id_column: str = "id") -> str:
    """The triggers that make direct writes to ``table`` notify as ``fraiseql_notify`` does.

    One statement-level trigger per kind of write (PostgreSQL allows transition tables on a
    trigger of one event only), each calling ``fraiseql_notify_changes(entity, id_column)``
    from ``CONTRACT_SQL``: a direct ``UPDATE tv_post SET ...`` in psql then evicts the cached
    responses that read those rows and reaches subscriptions. Writes through ``fn_*``
    functions that call ``fraiseql_notify`` themselves need no trigger (with both, each change
    is announced twice, which is harmless).
    """
    from fraiseql.sql.identifiers import quote_identifier, quote_literal, quote_qualified

    target = quote_qualified(table)
    base = table.rsplit(".", 1)[-1]
    statements = []
    for op, referencing in (
        ("INSERT", "NEW TABLE AS fraiseql_new"),
        ("UPDATE", "NEW TABLE AS fraiseql_new"),
        ("DELETE", "OLD TABLE AS fraiseql_old"),
    ):
        name = quote_identifier(f"{base}_fraiseql_{op.lower()}")
        statements.append(
            f"DROP TRIGGER IF EXISTS {name} ON {target};\n"
            f"CREATE TRIGGER {name} AFTER {op} ON {target} REFERENCING {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION fraiseql_notify_changes("
            f"{quote_literal(entity)}, {quote_literal(id_column)});"
        )
    return "\n".join(statements) + "\n"


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
