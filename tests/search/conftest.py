"""A database with the searchable read models, a schema whose statements are recorded, and the
oracle: PostgreSQL's own ``to_tsvector @@ websearch_to_tsquery`` over the same rows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg
import pytest
from tests.conftest import temporary_database

from fraiseql import Schema
from fraiseql.db.pool import Database, PoolSettings

from .library import ORACLE_RANKED, ORACLE_VECTOR, QUERIES, TYPES, load


class Observed:
    """A schema over the search database that records the text of every statement it runs."""

    def __init__(self, dsn: str, **options: Any) -> None:
        self.statements: list[str] = []
        database = Database(PoolSettings(dsn=dsn), observe_statements=True)
        database.statement_observers.append(self.statements.append)
        self.schema = Schema(types=TYPES, queries=QUERIES, database=database, **options)

    async def run(
        self, query: str, variables: dict[str, Any] | None = None, **options: Any
    ) -> dict[str, Any]:
        """The result of one request, with the statements of earlier ones forgotten."""
        self.statements.clear()
        return await self.schema.run(query, variables, **options)

    def reads(self, table: str = "tv_doc") -> list[str]:
        """The statements of the last request that read ``table``."""
        return [s for s in self.statements if table in s]


@pytest.fixture(scope="session")
async def search_database(server_dsn: str) -> AsyncIterator[str]:
    """A database holding ``tv_doc`` and ``tv_note`` as the DDL generator writes them."""
    async with temporary_database(server_dsn) as dsn:
        await load(dsn)
        yield dsn


@pytest.fixture(scope="session")
async def observed(search_database: str) -> AsyncIterator[Observed]:
    """The test types' schema over the search database."""
    schema = Observed(search_database)
    await schema.schema.open()
    try:
        yield schema
    finally:
        await schema.schema.close()


@pytest.fixture
async def connection(search_database: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection for the oracle."""
    connection = await asyncpg.connect(search_database)
    try:
        yield connection
    finally:
        await connection.close()


async def oracle(
    connection: asyncpg.Connection,
    query: str,
    *,
    config: str = "english",
    where: str = "TRUE",
    args: Sequence[Any] = (),
    order: str | None = None,
) -> list[str]:
    """Identifiers of the rows PostgreSQL says match, best rank first (then by id).

    ``where`` is an extra SQL condition whose parameters ``args`` follow the query (``$2``...);
    ``order`` replaces the ranking order (``{rank}`` is the rank expression).
    """
    cfg = f"'{config}'::regconfig"
    rank = ORACLE_RANKED.format(cfg=cfg)
    ordering = (order or "{rank} DESC").format(rank=rank)
    rows = await connection.fetch(
        f"SELECT identifier FROM tv_doc WHERE {ORACLE_VECTOR.format(cfg=cfg)} "
        f"@@ websearch_to_tsquery({cfg}, $1) AND {where} ORDER BY {ordering}, id",
        query,
        *args,
    )
    return [row[0] for row in rows]
