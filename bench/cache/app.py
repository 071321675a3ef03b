"""The FraiseQL servers of the cache benchmark: ``uvicorn --factory bench.cache.app:create``.

``BENCH_CACHE_MODE`` says which: ``memory`` (the response cache in process, ``MemoryCache``),
``redis`` (``RedisCache`` at ``BENCH_CACHE_REDIS_URL`` under ``BENCH_CACHE_REDIS_PREFIX``) or
``uncached`` (the same field without a policy: no cache at all) or ``kept`` (uncached, with the
request settings kept on the pooled sessions: ``PoolSettings(keep_settings=True)``). The database is
``BENCH_CACHE_DSN``; the pool's other settings come from the ``FRAISEQL_POOL_*`` variables.
"""

from __future__ import annotations

import os
from typing import Any

import fraiseql
from bench.cache import model
from fraiseql.db.pool import Database, PoolSettings

MODES = ("memory", "redis", "uncached", "kept")


def backend(mode: str) -> Any:
    """The cache backend of ``mode`` (``None`` for ``uncached``)."""
    if mode == "memory":
        from fraiseql.cache import MemoryCache

        return MemoryCache()
    if mode == "redis":
        from fraiseql.cache.redis import RedisCache

        return RedisCache(
            url=os.environ.get("BENCH_CACHE_REDIS_URL", "redis://127.0.0.1:6379/0"),
            prefix=os.environ.get("BENCH_CACHE_REDIS_PREFIX", "fraiseql:bench-cache:"),
        )
    if mode in ("uncached", "kept"):
        return None
    raise SystemExit(f"BENCH_CACHE_MODE must be one of {MODES}, not {mode!r}")


def create() -> Any:
    """The ASGI app of ``BENCH_CACHE_MODE`` over ``BENCH_CACHE_DSN``."""
    mode = os.environ.get("BENCH_CACHE_MODE", "memory")
    dsn = os.environ["BENCH_CACHE_DSN"]
    cache = backend(mode)
    query = model.plain_items if mode in ("uncached", "kept") else model.cached_items
    return fraiseql.create_app(
        types=[model.Item],
        queries=[query],
        database=Database(PoolSettings.from_env(dsn, keep_settings=mode == "kept")),
        session=model.SESSION,
        context_getter=model.context,
        graphiql=False,
        health_paths=None,
        **({"cache": cache} if cache is not None else {}),
    )
