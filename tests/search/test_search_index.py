"""The generated GIN index serves the statements FraiseQL writes for searches (EXPLAIN).

The read models come from the DDL generator and the rows from ``bench.search``'s set-based fill.
The statements are the planner's own (``bench.common.root_statement``), explained with their
bind parameters as asyncpg sends them, under custom and generic plans alike. The suite runs it
on 50 000 rows (about 3 s); the 1 000 000-row run took 92 s here to fill and index, so it is a
``bench`` test (``FRAISEQL_BENCH=1``).
"""

from __future__ import annotations

import os
from typing import Any

import asyncpg
import pytest
from bench.search import RARE, VOCABULARY, fill, list_query, page_query, statement_of
from tests.conftest import temporary_database


async def _plan(connection: asyncpg.Connection, statement: Any, mode: str) -> str:
    await connection.execute(f"SET plan_cache_mode = {mode}")
    rows = await connection.fetch(f"EXPLAIN (COSTS OFF) {statement.sql}", *statement.params)
    return "\n".join(row[0] for row in rows)


async def _check_index_serves_searches(server_dsn: str, rows: int) -> None:
    async with temporary_database(server_dsn) as dsn:
        connection = await asyncpg.connect(dsn)
        try:
            await fill(connection, rows)
            assert await connection.fetchval("SELECT count(*) FROM tv_article") == rows
            for text in (RARE, f"{VOCABULARY[0]} {VOCABULARY[17]}", f'"{VOCABULARY[3]} x"'):
                for field, shape in (
                    ("articles", list_query),
                    ("articlesPage", page_query),
                    ("storedArticles", list_query),
                ):
                    statement = await statement_of(shape(field, text))
                    index = "tv_stored_article" if field.startswith("stored") else "tv_article"
                    for mode in ("force_custom_plan", "force_generic_plan"):
                        plan = await _plan(connection, statement, mode)
                        assert f"Bitmap Index Scan on {index}_search_idx" in plan, plan
                        assert "Seq Scan" not in plan, plan
            # The rare word's rows, found through the index, are the ones PostgreSQL counts.
            statement = await statement_of(list_query("articles", RARE))
            await connection.execute("RESET plan_cache_mode")
            found = await connection.fetch(statement.sql, *statement.params)
            assert len(found) == min(20, rows // 10_000)
        finally:
            await connection.close()


async def test_the_generated_index_serves_searches(server_dsn: str) -> None:
    await _check_index_serves_searches(server_dsn, 50_000)


@pytest.mark.bench
@pytest.mark.skipif(os.environ.get("FRAISEQL_BENCH") != "1", reason="set FRAISEQL_BENCH=1 to run")
async def test_the_generated_index_serves_searches_at_a_million_rows(server_dsn: str) -> None:
    await _check_index_serves_searches(server_dsn, 1_000_000)
