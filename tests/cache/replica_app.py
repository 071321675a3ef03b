"""One replica of the cached items API over HTTP, for ``tests/cache/test_replicas.py``.

``uvicorn --factory tests.cache.replica_app:create``: the schema of ``tests/cache/items.py`` on
``FRAISEQL_REPLICA_DSN``, its tenant from the ``X-Tenant-Id`` header, its response cache in
process (``FRAISEQL_REPLICA_CACHE=memory``) or in Redis (``redis``: ``RedisCache`` at
``FRAISEQL_REPLICA_REDIS_URL`` under ``FRAISEQL_REPLICA_REDIS_PREFIX``). ``GET /ready``
answers 200 once the event listener is connected (before, a change could go unseen).
"""

from __future__ import annotations

import os
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from tests.cache.items import schema

import fraiseql
from fraiseql.cache import MemoryCache


def backend() -> Any:
    """The cache backend the environment asks for."""
    if os.environ.get("FRAISEQL_REPLICA_CACHE", "memory") == "redis":
        from fraiseql.cache.redis import RedisCache

        return RedisCache(
            url=os.environ.get("FRAISEQL_REPLICA_REDIS_URL", "redis://127.0.0.1:6379/0"),
            prefix=os.environ["FRAISEQL_REPLICA_REDIS_PREFIX"],
        )
    return MemoryCache()


def create() -> Any:
    """The replica's ASGI app."""
    served = schema(os.environ["FRAISEQL_REPLICA_DSN"], cache=backend())

    async def ready(request: Request) -> PlainTextResponse:
        listener = served.listener
        if listener is None or not listener.connected.is_set():
            return PlainTextResponse("listener not connected", status_code=503)
        return PlainTextResponse("ready")

    return fraiseql.create_app(
        schema=served,
        context_getter=lambda request: {"tenant": request.headers.get("x-tenant-id")},
        graphiql=False,
        routes=[Route("/ready", ready)],
    )
