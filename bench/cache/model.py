"""The read model the cache benchmark serves: tenant-scoped items behind RLS, one app role.

Like ``tests/cache/items.py``: ``tv_item`` rows belong to a tenant, the app role
``fraiseql_bench_cache_app`` (owns nothing, not superuser, no BYPASSRLS) sees its tenant's rows
only (``app.tenant_id``, set with ``set_config(..., true)`` in every request transaction), and
statement-level triggers announce direct writes as ``fraiseql_notify`` does, so the cached
servers run their listener as a deployment would. Two spellings of the one root field
``items``: with a :class:`CachePolicy` and without, so the cached and the uncached servers
answer the same document.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import orjson

import fraiseql
from fraiseql import CachePolicy, Where
from fraiseql.db.commands import CONTRACT_SQL
from fraiseql.db.contract import notify_trigger_sql
from fraiseql.types.scalars import UUID

ROLE = "fraiseql_bench_cache_app"
TENANT_SETTING = "app.tenant_id"
TENANT_HEADER = "x-tenant-id"
TENANTS = tuple(f"{n:08x}-0000-4000-8000-{n:012x}" for n in range(1, 5))
ROWS_PER_TENANT = 1000
LIMIT = 20
TENANT = TENANTS[0]
"""The tenant every benchmark request reads as (its header is the same on every request)."""

QUERY = "query($n: Int) { items(limit: $n) { id identifier title rank } }"
VARIABLES = {"n": LIMIT}
BODY = orjson.dumps({"query": QUERY, "variables": VARIABLES})
"""The request body every system is sent: one query, the same variables, the same tenant."""

POLICY = CachePolicy(ttl=3600)
"""Long enough that no entry expires during a run: every cached request is a fresh hit."""

SQL = f"""
DO $$ BEGIN
    CREATE ROLE {ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
CREATE TABLE tv_item (
    id uuid PRIMARY KEY, identifier text NOT NULL, tenant_id uuid NOT NULL, data jsonb NOT NULL
);
CREATE INDEX tv_item_tenant_idx ON tv_item (tenant_id);
ALTER TABLE tv_item ENABLE ROW LEVEL SECURITY;
ALTER TABLE tv_item FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON tv_item TO {ROLE}
    USING (tenant_id::text = current_setting('{TENANT_SETTING}', true));
GRANT USAGE ON SCHEMA public TO {ROLE};
GRANT SELECT ON tv_item TO {ROLE};
"""


@fraiseql.type(sql_source="tv_item")
class Item:
    """An item of a tenant."""

    id: UUID
    identifier: str
    title: str
    rank: int


@fraiseql.query(name="items", cache=POLICY)
async def cached_items(
    info: Any, where: Where[Item] | None = None, limit: int | None = None
) -> list[Item]:
    """Items, served from the response cache."""


@fraiseql.query(name="items")
async def plain_items(
    info: Any, where: Where[Item] | None = None, limit: int | None = None
) -> list[Item]:
    """Items, read from the database on every request."""


def context(request: Any) -> dict[str, Any]:
    """The request's tenant, from its ``X-Tenant-Id`` header."""
    return {"tenant": request.headers.get(TENANT_HEADER)}


def claims(context: dict[str, Any]) -> dict[str, Any]:
    """The tenant claim."""
    return {TENANT_SETTING: context.get("tenant")}


SESSION = fraiseql.SessionSettings(claims=claims, role=ROLE)


async def load(dsn: str, rows_per_tenant: int = ROWS_PER_TENANT) -> int:
    """Create and fill ``tv_item`` (``rows_per_tenant`` per tenant); how many rows."""
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute(CONTRACT_SQL)
        await connection.execute(SQL)
        await connection.execute(notify_trigger_sql("tv_item", "item"))
        records = []
        for t, tenant in enumerate(TENANTS):
            for rank in range(rows_per_tenant):
                item_id = str(uuid.UUID(int=(t + 1) << 64 | rank, version=4))
                identifier = f"{tenant[:8]}-{rank:05d}"
                document = {
                    "id": item_id,
                    "identifier": identifier,
                    "title": f"Item {rank} of tenant {t + 1}",
                    "rank": rank,
                }
                records.append((item_id, identifier, tenant, orjson.dumps(document).decode()))
        await connection.executemany(
            "INSERT INTO tv_item VALUES ($1::uuid, $2, $3::uuid, $4::jsonb)", records
        )
        await connection.execute("ANALYZE tv_item")
    finally:
        await connection.close()
    return len(records)
