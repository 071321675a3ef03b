"""The blog of two organisations under its tenant policies, served as a federation subgraph."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from examples.blog.app import context, tenant_claims
from examples.blog.database import load_schema, seed
from examples.blog.schema import QUERIES, TYPES
from examples.blog.security import APP_ROLE
from tests.conftest import temporary_database

import fraiseql


@dataclass(frozen=True)
class TenantBlog:
    """A seeded blog database and the post ids of each of its two organisations."""

    dsn: str
    posts: dict[str, list[str]]

    def app(self) -> Any:
        """The blog's own multi-tenant setup (role, claims from ``X-Tenant-Id``, RLS required)
        with ``federation=True``."""
        return fraiseql.create_app(
            types=TYPES,
            queries=QUERIES,
            database_url=self.dsn,
            context_getter=context,
            session=fraiseql.SessionSettings(claims=tenant_claims, role=APP_ROLE),
            require_rls=True,
            federation=True,
        )


@pytest.fixture(scope="package")
async def tenant_blog(server_dsn: str) -> AsyncIterator[TenantBlog]:
    """Two organisations' blog; their post ids read directly, as the table owner."""
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=2, users=6, posts=12, comments_per_post=0)
        connection = await asyncpg.connect(dsn)
        try:
            rows = await connection.fetch(
                "SELECT o.id::text AS organisation, p.id::text AS post FROM tb_post p "
                "JOIN tb_organisation o ON o.pk_organisation = p.fk_organisation ORDER BY 1, 2"
            )
        finally:
            await connection.close()
        posts: dict[str, list[str]] = {}
        for row in rows:
            posts.setdefault(row["organisation"], []).append(row["post"])
        assert len(posts) == 2 and all(posts.values())
        yield TenantBlog(dsn, posts)
