"""A tenant-scoped read model with cached queries, two roles that see different rows, a mutation.

``tv_item`` rows belong to a tenant and are public or not: ``fraiseql_cache_editor`` sees every
item of its tenant, ``fraiseql_cache_reader`` only the public ones. Both read under the same
``app.tenant_id`` claim, so only the role tells their responses apart.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import orjson

import fraiseql
from fraiseql import CachePolicy, Connection, Where
from fraiseql.db.commands import CONTRACT_SQL
from fraiseql.db.contract import notify_trigger_sql
from fraiseql.execution.errors import FraiseQLError
from fraiseql.types.scalars import UUID

EDITOR = "fraiseql_cache_editor"
READER = "fraiseql_cache_reader"
TENANTS = ("11111111-0000-4000-8000-000000000001", "22222222-0000-4000-8000-000000000002")

SQL = f"""
DO $$ BEGIN
    CREATE ROLE {EDITOR} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN
    CREATE ROLE {READER} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
CREATE TABLE tv_item (
    id uuid PRIMARY KEY, identifier text NOT NULL, tenant_id uuid NOT NULL,
    public boolean NOT NULL, data jsonb NOT NULL
);
ALTER TABLE tv_item ENABLE ROW LEVEL SECURITY;
ALTER TABLE tv_item FORCE ROW LEVEL SECURITY;
CREATE POLICY editor ON tv_item TO {EDITOR}
    USING (tenant_id::text = current_setting('app.tenant_id', true));
CREATE POLICY reader ON tv_item FOR SELECT TO {READER}
    USING (tenant_id::text = current_setting('app.tenant_id', true) AND public);
GRANT USAGE ON SCHEMA public TO {EDITOR}, {READER};
GRANT SELECT ON tv_item TO {EDITOR}, {READER};
GRANT UPDATE ON tv_item TO {EDITOR};

CREATE FUNCTION fn_rename_item(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE v_id uuid;
BEGIN
    UPDATE tv_item SET data = jsonb_set(data, '{{title}}', input->'title')
        WHERE id = (input->>'id')::uuid RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        RETURN ROW('not_found', NULL, 'No such item.', '[]')::fraiseql_mutation_result;
    END IF;
    RETURN ROW('success', v_id, 'Renamed.', '[]')::fraiseql_mutation_result;
END $$;
GRANT EXECUTE ON FUNCTION fn_rename_item(jsonb) TO {EDITOR};
"""

POLICY = CachePolicy(ttl=60)


@fraiseql.type(sql_source="tv_item", cache=POLICY)
class Item:
    """An item of a tenant."""

    id: UUID
    identifier: str
    title: str
    rank: int


@fraiseql.input
class RenameItemInput:
    """The new title of an item."""

    id: UUID
    title: str


@fraiseql.query
async def item(info: Any, id: UUID | None = None, identifier: str | None = None) -> Item | None:
    """One item."""


@fraiseql.query
async def items(
    info: Any, where: Where[Item] | None = None, limit: int | None = None
) -> list[Item]:
    """Items."""


@fraiseql.query
async def items_page(info: Any, first: int | None = None) -> Connection[Item]:
    """Items, a page."""


@fraiseql.query(cache=CachePolicy(ttl=60, scope="private"))
async def whoami(info: Any) -> str:
    """The user, computed in Python: cached per user."""
    return str(info.context.get("user_id"))


@fraiseql.query(cache=POLICY)
async def failing(info: Any) -> int | None:
    """Always an error: never cached."""
    raise FraiseQLError("nope")


@fraiseql.query
async def uncached_items(info: Any, limit: int | None = None) -> list[str]:
    """No policy: its operations are never cached."""
    rows = await info.repository.find(Item, limit=limit or 5)
    return [row["title"] for row in rows]


@fraiseql.mutation(sql_function="fn_rename_item")
async def rename_item(info: Any, input: RenameItemInput) -> Item:
    """Rename an item."""


QUERIES = [item, items, items_page, whoami, failing, uncached_items]


def claims(context: dict[str, Any]) -> dict[str, Any]:
    """The tenant claim."""
    return {"app.tenant_id": context.get("tenant")}


def schema(dsn: str, role: str = EDITOR, **options: Any) -> fraiseql.Schema:
    """The items schema for ``role``."""
    return fraiseql.Schema(
        types=[Item],
        queries=QUERIES,
        mutations=[rename_item],
        database=fraiseql.db.pool.Database(
            fraiseql.db.pool.PoolSettings(dsn=dsn), observe_statements=True
        ),
        session=fraiseql.SessionSettings(claims=claims, role=role),
        **options,
    )


async def load(dsn: str) -> dict[str, list[str]]:
    """Create and fill ``tv_item``: per tenant, six items, every other one public."""
    connection = await asyncpg.connect(dsn)
    owned: dict[str, list[str]] = {}
    try:
        await connection.execute(CONTRACT_SQL)
        await connection.execute(SQL)
        await connection.execute(notify_trigger_sql("tv_item", "item"))
        for tenant in TENANTS:
            for rank in range(6):
                item_id = str(uuid.uuid4())
                owned.setdefault(tenant, []).append(item_id)
                identifier = f"{tenant[:4]}-{rank}"
                document = {
                    "id": item_id,
                    "identifier": identifier,
                    "title": f"t{rank}",
                    "rank": rank,
                }
                await connection.execute(
                    "INSERT INTO tv_item VALUES ($1::uuid, $2, $3::uuid, $4, $5::jsonb)",
                    item_id,
                    identifier,
                    tenant,
                    rank % 2 == 0,
                    orjson.dumps(document).decode(),
                )
    finally:
        await connection.close()
    return owned
