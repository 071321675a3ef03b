"""Databases for the example blog's tests: each module gets its own, created and dropped here.

There is no ``__init__.py`` in this directory on purpose: as a package named ``examples`` it would
shadow the repository's ``examples`` package that the tests import.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import asyncpg
import pytest

from fraiseql.db.locate import find_test_dsn, with_database

TemporaryDatabase = Callable[[], AbstractAsyncContextManager[str]]


@pytest.fixture(scope="session")
async def server_dsn() -> str:
    """A server on which the tests may create databases."""
    return await find_test_dsn()


@asynccontextmanager
async def temporary_database(server_dsn: str) -> AsyncIterator[str]:
    """Create an empty database, yield its DSN, drop it (even if connections are left)."""
    name = f"fraiseql_t_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(server_dsn, name)
    finally:
        admin = await asyncpg.connect(server_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture(scope="session")
def database_factory(server_dsn: str) -> TemporaryDatabase:
    """``async with database_factory() as dsn:`` gives a new empty database, dropped after."""
    return lambda: temporary_database(server_dsn)


@pytest.fixture
async def empty_dsn(database_factory: TemporaryDatabase) -> AsyncIterator[str]:
    """A fresh, empty database for one test."""
    async with database_factory() as dsn:
        yield dsn
