"""A small API for the idempotency tests: notes written by ``fn_create_note``, per tenant.

``note_calls`` is a sequence the function advances on every call: sequences are not
transactional, so it counts the calls that were rolled back too.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import httpx
from starlette.applications import Starlette
from starlette.requests import Request

import fraiseql
from fraiseql import Idempotency, Schema, SessionSettings
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.types.scalars import UUID

NOTES_SQL = """
CREATE SEQUENCE note_calls;
CREATE TABLE tb_note (
    pk_note    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    identifier text NOT NULL,
    body       text NOT NULL,
    tenant     text NOT NULL
);
CREATE TABLE tv_note (id uuid PRIMARY KEY, tenant text NOT NULL, data jsonb NOT NULL);

CREATE FUNCTION fn_sync_tv_note(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO tv_note (id, tenant, data)
    SELECT id, tenant, jsonb_build_object('id', id, 'identifier', identifier, 'body', body)
    FROM tb_note WHERE id = ANY(ids)
    ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data
$$;

CREATE FUNCTION fn_create_note(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM nextval('note_calls');
    IF input->>'body' = '' THEN
        RETURN ROW('validation_error', NULL, 'A note needs a body.',
            '[{"field": "body", "message": "body is required", "code": "required"}]'::jsonb
        )::fraiseql_mutation_result;
    END IF;
    IF input->>'sleep' IS NOT NULL THEN
        PERFORM pg_sleep((input->>'sleep')::float8);
    END IF;
    INSERT INTO tb_note (identifier, body, tenant)
    VALUES (input->>'identifier', input->>'body', coalesce(current_setting('app.tenant', true), ''))
    RETURNING id INTO v_id;
    PERFORM fn_sync_tv_note(ARRAY[v_id]);
    RETURN ROW('success', v_id, 'Created.', '[]'::jsonb)::fraiseql_mutation_result;
END $$;
"""


@fraiseql.type(sql_source="tv_note")
class Note:
    """A note."""

    id: UUID
    identifier: str
    body: str


@fraiseql.input
class CreateNoteInput:
    """A new note; ``sleep`` makes the function wait (seconds) before it writes."""

    identifier: str
    body: str
    sleep: float | None = None


@fraiseql.query
async def notes(info) -> list[Note]:
    """Every note."""


@fraiseql.mutation
async def create_note(info, input: CreateNoteInput) -> Note:
    """Create a note (fn_create_note)."""


CREATE = """
mutation ($input: CreateNoteInput!) {
  createNote(input: $input) { status message id errors { field code } note { identifier body } }
}
"""


def build_schema(
    dsn: str, idempotency: Idempotency | None, *, observe: list[str] | None = None
) -> Schema:
    """The notes API; the tenant comes from the context (``X-Tenant`` over HTTP)."""
    database = Database(
        PoolSettings(dsn=dsn, max_size=12, acquire_timeout=10.0),
        observe_statements=observe is not None,
    )
    if observe is not None:
        database.statement_observers.append(observe.append)
    return Schema(
        types=[Note],
        queries=[notes],
        mutations=[create_note],
        database=database,
        session=SessionSettings(claims=lambda context: {"app.tenant": context.get("tenant")}),
        idempotency=idempotency,
    )


def _context(request: Request) -> dict[str, Any]:
    return {"tenant": request.headers.get("x-tenant", "")}


def build_app(schema: Schema) -> Starlette:
    """The notes API over HTTP (the schema is opened and closed by the caller)."""
    return fraiseql.create_app(schema=schema, context_getter=_context, graphiql=False)


def client(app: Starlette) -> httpx.AsyncClient:
    """An HTTP client of ``app`` in this process."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def note(identifier: str, body: str = "hello", **extra: Any) -> dict[str, Any]:
    """The variables of :data:`CREATE`."""
    return {"input": {"identifier": identifier, "body": body, **extra}}


async def post(
    http: httpx.AsyncClient,
    variables: dict[str, Any],
    *,
    key: str | None = None,
    tenant: str = "acme",
    query: str = CREATE,
    extensions: dict[str, Any] | None = None,
) -> httpx.Response:
    """POST one operation with an ``Idempotency-Key`` (when given) as tenant ``tenant``."""
    headers = {"X-Tenant": tenant}
    if key is not None:
        headers["Idempotency-Key"] = key
    body: dict[str, Any] = {"query": query, "variables": variables}
    if extensions is not None:
        body["extensions"] = extensions
    return await http.post("/graphql", json=body, headers=headers)


async def until_sleeping(db: asyncpg.Connection, within: float = 10.0) -> None:
    """Wait until a call of ``fn_create_note`` in this database sleeps (``sleep`` given)."""
    deadline = time.monotonic() + within
    while not await db.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event = 'PgSleep'"
    ):
        assert time.monotonic() < deadline, "the mutation never started"
        await asyncio.sleep(0.02)
