"""The Redis backend: one cache shared by every replica, on ``redis.asyncio`` (redis-py 5.0.1+).

Layout under ``prefix`` (``"fraiseql:"`` by default):

- ``prefix + key``: the value, a string with a millisecond expiry (``PX``);
- ``prefix + "tag:" + tag``: a set of the keys (without the prefix) tagged ``tag``. Its expiry
  is raised, never lowered, to the lifetime of each entry added to it, so a set outlives every
  entry it indexes and disappears once they are all gone.

``set`` and ``invalidate`` are small Lua scripts, so each runs atomically on the server: an
entry is never stored without its tag memberships, and an invalidation removes the entries of
the union of its tag sets and the sets themselves in one step. A replaced entry stays in the
sets of the tags it had before: invalidating those tags removes it too (an extra eviction,
never a stale entry served). The invalidation script reaches keys it computes from the sets,
so it needs a single Redis server (or a primary with replicas), not Redis Cluster.

Every call is bounded by ``op_timeout`` seconds, connecting included, and redis-py's own retries
are off: a refused connection, a dropped one or a server that does not answer raises
:class:`~fraiseql.cache.errors.CacheUnavailableError` (an ``OSError``) within that time, and
the response cache serves the request uncached.

Install with the ``cache`` extra: ``pip install 'fraiseql[cache]'``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from fraiseql.cache.errors import CacheUnavailableError
from fraiseql.cache.tally import ExpiringTally

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

T = TypeVar("T")

TAG_INFIX = "tag:"
"""What follows the prefix in the name of a tag's set; no key may start with it."""
_SCAN_BATCH = 500

# KEYS[1]: the entry; KEYS[2..]: the sets of its tags. ARGV: value, lifetime (ms), the key.
# Returns whether an entry was replaced, with its size and remaining lifetime (ms).
_SET_SCRIPT = """
local replaced, size, ttl = redis.call('EXISTS', KEYS[1]), 0, 0
if replaced == 1 then
  size = redis.call('STRLEN', KEYS[1])
  ttl = redis.call('PTTL', KEYS[1])
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local lifetime = tonumber(ARGV[2])
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[3])
  if redis.call('PTTL', KEYS[i]) < lifetime then
    redis.call('PEXPIRE', KEYS[i], lifetime)
  end
end
return {replaced, size, ttl}
"""

# KEYS: the sets of the tags. ARGV[1]: the prefix of entries.
# Returns the size and remaining lifetime (ms) of each entry removed, flattened.
_INVALIDATE_SCRIPT = """
local removed = {}
for i = 1, #KEYS do
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members do
    local entry = ARGV[1] .. members[j]
    local size = redis.call('STRLEN', entry)
    local ttl = redis.call('PTTL', entry)
    if redis.call('UNLINK', entry) == 1 then
      removed[#removed + 1] = size
      removed[#removed + 1] = ttl
    end
  end
  redis.call('UNLINK', KEYS[i])
end
return removed
"""


def _redis_asyncio() -> Any:
    try:
        import redis.asyncio
    except ImportError as error:  # pragma: no cover - the dev environment has redis
        raise ImportError(
            "RedisCache needs the redis package (redis-py 5.0.1 or later): "
            "install FraiseQL's 'cache' extra, pip install 'fraiseql[cache]'"
        ) from error
    return redis.asyncio


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a Redis ``MATCH`` pattern."""
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


class RedisCache:
    """Entries in Redis, shared by every replica (see :mod:`fraiseql.cache.redis`).

    ``url`` is a redis-py URL (``redis://``, ``rediss://``, ``unix://``). A ``client`` given
    instead is used as it is (it must not decode responses) and is not closed by
    :meth:`close`; its owner closes it. ``connect_timeout`` bounds opening a connection and
    ``op_timeout`` each whole call: the smaller of the two wins when a call has to connect.
    At most ``max_connections`` are open at once; more concurrent calls wait for one (within
    their ``op_timeout``).
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "fraiseql:",
        client: Redis | None = None,
        connect_timeout: float = 1.0,
        op_timeout: float = 0.5,
        max_connections: int = 50,
    ) -> None:
        if op_timeout <= 0 or connect_timeout <= 0 or max_connections < 1:
            raise ValueError("connect_timeout, op_timeout and max_connections must be positive")
        self.prefix = prefix
        self.op_timeout = op_timeout
        self._owns_client = client is None
        if client is None:
            module = _redis_asyncio()
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            # A blocking pool: past max_connections, calls wait for a connection (within
            # op_timeout) instead of failing at once.
            pool = module.BlockingConnectionPool.from_url(
                url,
                max_connections=max_connections,
                timeout=None,
                socket_connect_timeout=connect_timeout,
                socket_timeout=op_timeout,
                retry=Retry(NoBackoff(), 0),
            )
            client = module.Redis.from_pool(pool)
        else:
            _redis_asyncio()
        self.client: Redis = client
        self._set: AsyncScript = client.register_script(_SET_SCRIPT)
        self._invalidate: AsyncScript = client.register_script(_INVALIDATE_SCRIPT)
        self._tally = ExpiringTally()

    def _entry(self, key: str) -> str:
        if key.startswith(TAG_INFIX):
            raise ValueError(f"a cache key may not start with {TAG_INFIX!r}: {key!r}")
        return self.prefix + key

    def _tag(self, tag: str) -> str:
        return self.prefix + TAG_INFIX + tag

    async def _call(self, what: str, call: Awaitable[T]) -> T:
        """Await one call within ``op_timeout``; an unreachable server is an ``OSError``."""
        from redis import exceptions

        unavailable = (
            exceptions.ConnectionError,  # refused, dropped, too many clients, loading, auth
            exceptions.TimeoutError,
            exceptions.ReadOnlyError,  # a replica after a failover
            OSError,  # asyncio.timeout's TimeoutError among them
        )
        try:
            async with asyncio.timeout(self.op_timeout):
                return await call
        except unavailable as error:
            detail = str(error) or f"no answer within {self.op_timeout} s"
            raise CacheUnavailableError(f"redis {what} failed: {detail}") from error

    async def get(self, key: str) -> bytes | None:
        """The value under ``key``, or ``None`` when absent or expired."""
        name = self._entry(key)
        value = await self._call("get", self.client.get(name))
        assert value is None or isinstance(value, bytes), "the client must not decode responses"
        return value

    async def set(self, key: str, value: bytes, ttl: float, tags: Sequence[str]) -> None:
        """Store ``value`` for ``ttl`` seconds with its tag memberships, in one atomic step."""
        name = self._entry(key)
        if ttl <= 0:
            return
        lifetime = max(1, math.ceil(ttl * 1000))
        keys = [name, *(self._tag(tag) for tag in dict.fromkeys(tags))]
        args: list[bytes | int | str] = [value, lifetime, key]
        replaced, size, remaining = await self._call("set", self._set(keys=keys, args=args))
        now = time.time()
        if replaced and remaining > 0:
            self._tally.remove(int(size), now + remaining / 1000)
        self._tally.add(len(value), now + lifetime / 1000)

    async def invalidate(self, tags: Sequence[str]) -> int:
        """Remove the entries tagged with any of ``tags`` and the tags' sets; how many."""
        if not tags:
            return 0
        keys = [self._tag(tag) for tag in dict.fromkeys(tags)]
        removed: list[int] = await self._call(
            "invalidate", self._invalidate(keys=keys, args=[self.prefix])
        )
        now = time.time()
        for size, remaining in zip(removed[::2], removed[1::2], strict=True):
            if remaining > 0:
                self._tally.remove(int(size), now + remaining / 1000)
        return len(removed) // 2

    async def clear(self) -> None:
        """Remove every key under the prefix (and only those): SCAN and UNLINK in batches.

        Each batch is one call bounded by ``op_timeout``; the whole may take longer.
        """
        pattern = _glob_escape(self.prefix) + "*"
        cursor: int = 0
        while True:
            cursor, names = await self._call(
                "clear", self.client.scan(cursor, match=pattern, count=_SCAN_BATCH)
            )
            if names:
                await self._call("clear", self.client.unlink(*names))
            if cursor == 0:
                break
        self._tally.reset()

    async def close(self) -> None:
        """Close the client's connections (unless the client was given)."""
        if self._owns_client:
            await self.client.aclose()

    def stats(self) -> dict[str, float]:
        """``entries`` and ``bytes`` as this process counted them (approximate, no I/O).

        What this process stored, minus what it replaced or invalidated, minus what expired;
        see :mod:`fraiseql.cache.tally`.
        """
        return self._tally.snapshot()
