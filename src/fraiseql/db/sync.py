"""Read-model sync: generated ``fn_sync_tv_*`` functions and a drift check.

A read model is defined by a view (``v_tv_<entity>``) that computes, from the ``tb_*`` tables,
the rows ``tv_<entity>`` should hold: ``id``, ``identifier``, ``tenant_id`` and ``data``. The
generated sync function materializes that view for some ids (or all), deleting rows whose
entity is gone and rewriting only rows that changed; mutation functions call it explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from fraiseql.sql.identifiers import quote_identifier, quote_qualified


@dataclass(frozen=True, slots=True)
class ReadModel:
    """The names around one read model (defaults follow the tb_/tv_/v_tv_ conventions)."""

    entity: str
    table: str = ""
    view: str = ""
    source: str = ""
    columns: tuple[str, ...] = ("identifier", "tenant_id", "data")

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", self.table or f"tv_{self.entity}")
        object.__setattr__(self, "view", self.view or f"v_tv_{self.entity}")
        object.__setattr__(self, "source", self.source or f"tb_{self.entity}")

    @property
    def function(self) -> str:
        """The sync function's name."""
        return f"fn_sync_tv_{self.entity}"


def sync_function_sql(model: ReadModel) -> str:
    """``CREATE OR REPLACE FUNCTION fn_sync_tv_<entity>(ids uuid[] DEFAULT NULL)``.

    ``ids`` NULL syncs every row. It returns how many rows it deleted or wrote; rows whose
    columns did not change are not rewritten. Timestamps are rendered in UTC.
    """
    table, view, source = (quote_qualified(n) for n in (model.table, model.view, model.source))
    columns = ", ".join(quote_identifier(c) for c in model.columns)
    values = ", ".join(f"v.{quote_identifier(c)}" for c in model.columns)
    updates = ", ".join(
        f"{quote_identifier(c)} = excluded.{quote_identifier(c)}" for c in model.columns
    )
    current = ", ".join(f"t.{quote_identifier(c)}" for c in model.columns)
    incoming = ", ".join(f"excluded.{quote_identifier(c)}" for c in model.columns)

    def branch(ids: str | None) -> str:
        only_target = f"t.id {ids} AND " if ids else ""
        only_view = f"\n        WHERE v.id {ids}" if ids else ""
        return f"""
        DELETE FROM {table} t
        WHERE {only_target}NOT EXISTS (SELECT 1 FROM {source} s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO {table} AS t (id, {columns})
        SELECT v.id, {values} FROM {view} v{only_view}
        ON CONFLICT (id) DO UPDATE SET {updates}
            WHERE ({current}) IS DISTINCT FROM ({incoming});
        GET DIAGNOSTICS written = ROW_COUNT;"""

    name = quote_identifier(model.function)
    # One id (what a mutation syncs) has its own branch: PL/pgSQL keeps a plan per statement,
    # and "= ids[1]" gets a generic one that probes the index; "= ANY (ids)" is planned anew
    # on every call (its generic plan never looks cheaper), which doubled a create's cost.
    return f"""CREATE OR REPLACE FUNCTION {name}(ids uuid[] DEFAULT NULL)
RETURNS integer LANGUAGE plpgsql SET TimeZone = 'UTC' AS $fn$
DECLARE
    removed integer;
    written integer;
BEGIN
    IF ids IS NULL THEN{branch(None)}
    ELSIF cardinality(ids) = 1 THEN{branch("= ids[1]")}
    ELSE{branch("= ANY (ids)")}
    END IF;
    RETURN removed + written;
END;
$fn$;
"""


@dataclass(slots=True)
class Drift:
    """Rows of a read model that differ from what its view computes now."""

    model: ReadModel
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """True when the read model equals its definition."""
        return not (self.missing or self.stale or self.extra)


async def check_drift(
    connection: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy,
    model: ReadModel,
    *,
    limit: int = 100,
) -> Drift:
    """Compare every row of the read model with its view, in UTC (ids of up to ``limit`` each)."""
    table, view = quote_qualified(model.table), quote_qualified(model.view)
    current = ", ".join(f"t.{quote_identifier(c)}" for c in model.columns)
    expected = ", ".join(f"v.{quote_identifier(c)}" for c in model.columns)
    async with connection.transaction():
        await connection.execute("SET LOCAL TimeZone = 'UTC'")
        rows = await connection.fetch(
            f"""SELECT coalesce(t.id, v.id)::text AS id,
                       t.id IS NULL AS missing, v.id IS NULL AS extra
                FROM {table} t FULL JOIN {view} v ON v.id = t.id
                WHERE t.id IS NULL OR v.id IS NULL OR ({current}) IS DISTINCT FROM ({expected})
                LIMIT $1""",
            limit * 3,
        )
    drift = Drift(model)
    for row in rows:
        bucket = drift.missing if row["missing"] else drift.extra if row["extra"] else drift.stale
        if len(bucket) < limit:
            bucket.append(row["id"])
    return drift
