"""Databases for the example blog's tests: each module gets its own, created and dropped here.

There is no ``__init__.py`` in this directory on purpose: as a package named ``examples`` it would
shadow the repository's ``examples`` package that the tests import.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

from examples.blog.database import load_schema, seed
from fraiseql.db.locate import find_test_dsn, with_database

# Small enough to be quick, large enough to get every status, null and hostile string.
SMALL = {"organisations": 3, "users": 25, "posts": 80, "comments_per_post": 2, "random_seed": 7}


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


@pytest.fixture
async def empty_dsn(server_dsn: str) -> AsyncIterator[str]:
    """A fresh, empty database for one test."""
    async with temporary_database(server_dsn) as dsn:
        yield dsn


@pytest.fixture(scope="module")
async def blog_dsn(server_dsn: str) -> AsyncIterator[str]:
    """A database with the blog schema and the SMALL seed, shared by a module's tests.

    Tests must not change it: use ``blog`` for anything that writes.
    """
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, **SMALL)
        yield dsn


@pytest.fixture
async def blog(blog_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the seeded database inside a transaction that is rolled back."""
    connection = await asyncpg.connect(blog_dsn)
    transaction = connection.transaction()
    await transaction.start()
    try:
        yield connection
    finally:
        await transaction.rollback()
        await connection.close()
