"""The example blog as an ASGI app: ``uvicorn examples.blog.app:app``.

It reads the database URL from ``FRAISEQL_DATABASE_URL``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

import fraiseql
from examples.blog.schema import MUTATIONS, QUERIES, TYPES


async def context(request: Request) -> dict[str, Any]:
    """Per-request context handed to resolvers as ``info.context``."""
    return {"user_agent": request.headers.get("user-agent")}


def build(database_url: str | None = None) -> Any:
    """The blog app on ``database_url`` (default: ``FRAISEQL_DATABASE_URL``)."""
    return fraiseql.create_app(
        types=TYPES,
        queries=QUERIES,
        mutations=MUTATIONS,
        database_url=database_url,
        context_getter=context,
    )


def __getattr__(name: str) -> Any:
    # ``app`` is built on first access so that importing this module needs no database URL.
    if name == "app":
        return build()
    raise AttributeError(name)
