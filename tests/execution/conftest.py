"""Fixtures of the execution tests: the blog's documents in Python, and a schema extended with
custom root fields (a union and an interface) over the same data."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from fraiseql import Schema

from .oracle import EXTENDED_QUERIES, EXTENDED_TYPES, BlogData, load_blog_data


@pytest.fixture(scope="session")
async def blog_data(blog_database: str) -> BlogData:
    """Every document of the shared blog database, loaded with asyncpg."""
    connection = await asyncpg.connect(blog_database)
    try:
        return await load_blog_data(connection)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
async def extended_schema(blog_database: str) -> AsyncIterator[Schema]:
    """The blog's types and queries plus ``search``, ``entities`` and ``entityObjects``."""
    schema = Schema(types=EXTENDED_TYPES, queries=EXTENDED_QUERIES, database_url=blog_database)
    await schema.open()
    try:
        yield schema
    finally:
        await schema.close()


@pytest.fixture(scope="session")
async def unlimited_blog_schema(blog_database: str) -> AsyncIterator[Schema]:
    """The blog schema with the query limits off, for generated documents of any size."""
    from examples.blog.schema import QUERIES, TYPES

    from fraiseql import QueryLimits

    limits = QueryLimits(max_depth=None, max_aliases=None, max_cost=None, max_tokens=None)
    schema = Schema(types=TYPES, queries=QUERIES, database_url=blog_database, limits=limits)
    await schema.open()
    try:
        yield schema
    finally:
        await schema.close()
