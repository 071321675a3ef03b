"""Shared fixtures: a real PostgreSQL, the example blog database, and its schema.

The server comes from ``FRAISEQL_TEST_DATABASE_URL``, else 127.0.0.1:5432, else an embedded
server (see :func:`fraiseql.db.locate.find_test_dsn`). Every session creates its own databases
and drops them at the end, so runs never see each other's data.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest
from examples.blog.database import load_schema, seed
from examples.blog.schema import QUERIES, TYPES
from hypothesis import settings

from fraiseql import Schema
from fraiseql.db.locate import find_test_dsn, with_database

BLOG_SEED = {
    "organisations": 3,
    "users": 40,
    "posts": 300,
    "comments_per_post": 2,
    "random_seed": 11,
}
"""The seed of the shared blog database: small, but with every status, null and hostile string."""


# Property tests are deterministic: the same examples on every machine and every run, so CI
# can never fail on an example a developer's run did not see.
settings.register_profile("fraiseql", derandomize=True, database=None)
settings.load_profile("fraiseql")


def pytest_report_header() -> list[str]:
    """Say which implementation of the native core the run uses."""
    return [f"fraiseql implementation: {os.environ.get('FRAISEQL_IMPL', 'default')}"]


@pytest.fixture(scope="session")
async def server_dsn() -> str:
    """A server on which the tests may create databases."""
    return await find_test_dsn()


@asynccontextmanager
async def temporary_database(server_dsn: str, *, collate_c: bool = False) -> AsyncIterator[str]:
    """Create an empty database, yield its DSN, drop it (even if connections are left).

    ``collate_c`` makes text compare by code point, as Python compares strings, for tests that
    check SQL results against a Python evaluation.
    """
    name = f"fraiseql_t_{secrets.token_hex(6)}"
    options = " TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'" if collate_c else ""
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"{options}')
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
async def blog_database(server_dsn: str) -> AsyncIterator[str]:
    """The example blog database with ``BLOG_SEED``, shared by the whole session; read only."""
    async with temporary_database(server_dsn, collate_c=True) as dsn:
        await load_schema(dsn)
        await seed(dsn, **BLOG_SEED)
        yield dsn


@pytest.fixture(scope="session")
async def blog_schema(blog_database: str) -> AsyncIterator[Schema]:
    """The example's schema, connected to the shared blog database."""
    schema = Schema(types=TYPES, queries=QUERIES, database_url=blog_database)
    await schema.open()
    try:
        yield schema
    finally:
        await schema.close()


@pytest.fixture
async def blog_connection(blog_database: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the shared blog database, for checking what the API returns."""
    connection = await asyncpg.connect(blog_database)
    try:
        yield connection
    finally:
        await connection.close()
