"""The response cache: final response bytes, keyed by everything that changes what a caller sees.

A query is cached when every root field it reads has a :class:`CachePolicy` (its own, or its
type's). The key holds the normalized document, the operation, the variables and the request's
database settings (role, tenant claims; the user too with ``scope="private"``), so two callers
who could see different rows never share an entry. Entries are tagged with the entities they
read; the database events that subscriptions follow (``fraiseql_notify``) evict them in every
replica, and a successful mutation evicts its entity's entries in its own replica before it
answers. Backends: :class:`MemoryCache` (default), :class:`RedisCache`, :class:`PostgresCache`.
"""

from typing import Any

from fraiseql.cache.backend import CacheBackend
from fraiseql.cache.errors import CacheUnavailableError
from fraiseql.cache.memory import MemoryCache
from fraiseql.cache.policy import CachePolicy

__all__ = [
    "CacheBackend",
    "CachePolicy",
    "CacheUnavailableError",
    "MemoryCache",
    "PostgresCache",
    "RedisCache",
]


def __getattr__(name: str) -> Any:
    # Imported on first use: RedisCache needs redis-py (the ``cache`` extra), which
    # ``import fraiseql`` must not.
    if name == "RedisCache":
        from fraiseql.cache.redis import RedisCache

        return RedisCache
    if name == "PostgresCache":
        from fraiseql.cache.postgres import PostgresCache

        return PostgresCache
    raise AttributeError(name)
