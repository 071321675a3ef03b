"""The notes database shared by the idempotency tests (its rows are told apart by identifier)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from tests.conftest import temporary_database
from tests.idempotency.notes import NOTES_SQL

from fraiseql.db.contract import CONTRACT_SQL


@pytest.fixture(scope="session")
async def notes_dsn(server_dsn: str) -> AsyncIterator[str]:
    """A database with the contract and the notes API; the idempotency table is not there."""
    async with temporary_database(server_dsn) as dsn:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(CONTRACT_SQL)
            await connection.execute(NOTES_SQL)
        finally:
            await connection.close()
        yield dsn


@pytest.fixture
async def db(notes_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the notes database, for checking what the API did."""
    connection = await asyncpg.connect(notes_dsn)
    try:
        yield connection
    finally:
        await connection.close()
