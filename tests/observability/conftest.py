"""An instrumented example blog app, with three root fields that fail in known ways."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from examples.blog.schema import QUERIES, TYPES
from starlette.applications import Starlette
from starlette.requests import Request

import fraiseql
from fraiseql.observability import Observability
from fraiseql.sql.select import Statement


@fraiseql.query
async def boom(info: fraiseql.Info, label: str | None = None) -> str | None:
    """A bug: always raises a plain exception (masked, category 'unexpected')."""
    raise RuntimeError(f"boom {label}")


@fraiseql.query
async def broken(info: fraiseql.Info) -> int | None:
    """A system failure: a statement on a table that does not exist (SQLSTATE 42P01)."""
    return int(await info.repository.fetch_value(Statement("SELECT count(*) FROM no_such", [])))


@fraiseql.query
async def refuse(info: fraiseql.Info, reason: str) -> str:
    """A client error: a FraiseQLError (category 'user')."""
    raise fraiseql.FraiseQLError(f"refused: {reason}", code="FORBIDDEN_THING")


TEST_QUERIES = [*QUERIES, boom, broken, refuse]

POSTS_QUERY = "query RecentPosts($limit: Int) { posts(limit: $limit) { id title } }"


async def context(request: Request) -> dict[str, Any]:
    """The tenant comes from a header, as a real app would take it from a token."""
    tenant = request.headers.get("x-tenant")
    return {"tenant_id": tenant} if tenant else {}


def observed_app(database_url: str, observability: Observability, **options: Any) -> Starlette:
    """The blog schema plus the failing fields, served with ``observability``."""
    return fraiseql.create_app(
        types=TYPES,
        queries=TEST_QUERIES,
        database_url=database_url,
        context_getter=context,
        observability=observability,
        **options,
    )


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's startup hooks, yield a client, run its shutdown hooks."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def graphql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, **headers: str
) -> httpx.Response:
    """POST a GraphQL request."""
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return await client.post("/graphql", json=body, headers=headers)


@fraiseql.query
async def sleepy(info: fraiseql.Info, seconds: float) -> float | None:
    """Holds its connection for ``seconds`` (to fill the pool)."""
    await info.repository.fetch_value(Statement("SELECT pg_sleep($1)", [seconds]))
    return seconds


TEST_QUERIES.append(sleepy)
