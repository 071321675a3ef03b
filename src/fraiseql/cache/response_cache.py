"""``ResponseCache``: keys, tags, freshness and invalidation around a :class:`CacheBackend`.

A stored value is an 8-byte header (the wall-clock time until which it is fresh, shared by
replicas through Redis or PostgreSQL) and the response bytes. The backend keeps it for
``ttl + stale_while_revalidate`` seconds; past ``ttl`` it is served stale while one request
refreshes it.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import logging
import struct
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from fraiseql.cache.backend import CacheBackend
from fraiseql.cache.policy import CachePolicy
from fraiseql.subscriptions.events import Event

logger = logging.getLogger("fraiseql.cache")

_HEADER = struct.Struct("!d")
_RECENT_INVALIDATIONS = 1024
UserKey = Callable[[dict[str, Any]], Any]


def default_user_key(context: dict[str, Any]) -> Any:
    """The user of a request for ``scope="private"``: ``context["user_id"]`` (or ``"user"``)."""
    return context.get("user_id", context.get("user"))


def entity_tag(entity: str) -> str:
    """The tag of every entry that read rows of ``entity`` through a list or a page."""
    return entity


def row_tag(entity: str, row_id: str) -> str:
    """The tag of an entry that read the row ``row_id`` of ``entity`` by its id."""
    return f"{entity}#{row_id}"


def any_tag(entity: str) -> str:
    """The tag every entry reading ``entity`` carries, however it read it."""
    return f"{entity}*"


@dataclass(slots=True)
class CacheHit:
    """A value found: the response bytes, and whether it is past its freshness."""

    body: bytes
    stale: bool


class ResponseCache:
    """The response cache of one schema (see :mod:`fraiseql.cache`)."""

    def __init__(self, backend: CacheBackend, *, user_key: UserKey = default_user_key) -> None:
        self.backend = backend
        self.user_key = user_key
        self.hits = 0
        self.stale_hits = 0
        self.misses = 0
        self.stores = 0
        self.uncacheable = 0
        """Responses not stored: they had errors, or the request had no user for a private
        policy."""
        self.invalidated = 0
        """Entries removed by invalidation (events and mutations)."""
        self.invalidations = 0
        self.failures = 0
        """Backend calls that failed (the request was served uncached)."""
        self.lag_sum = 0.0
        self.lag_count = 0
        self.sequence = 0
        """Invalidations started so far; a read notes it to tell whether one overlapped it."""
        self._recent: collections.deque[tuple[int, frozenset[str]]] = collections.deque(
            maxlen=_RECENT_INVALIDATIONS
        )
        self._refreshing: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- keys ------------------------------------------------------------------------------

    def key(
        self,
        document: str,
        variables: dict[str, Any] | None,
        settings: Sequence[tuple[str, str]] | None,
        context: dict[str, Any],
        policy: CachePolicy,
        denied: Iterable[Any] = (),
    ) -> str | None:
        """The key of a request, or ``None`` when it must not be cached (no user, private).

        Everything that can change what the caller sees is in it: the normalized document,
        the variables, the database settings (role, claims), the fields its checks refuse,
        and the user for a private policy.
        """
        parts: list[Any] = [document, variables or {}, list(settings or ()), list(denied)]
        if policy.scope == "private":
            user = self.user_key(context)
            if user is None:
                return None
            parts.append(str(user))
        digest = hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()
        return "fq:" + digest

    # -- the request path ------------------------------------------------------------------

    async def lookup(self, key: str) -> CacheHit | None:
        """The entry under ``key``, counted as a hit (fresh or stale) or a miss."""
        try:
            value = await self.backend.get(key)
        except Exception as error:
            self._failed("get", error)
            return None
        if value is None or len(value) < _HEADER.size:
            self.misses += 1
            return None
        (fresh_until,) = _HEADER.unpack_from(value)
        stale = fresh_until < time.time()
        if stale:
            self.stale_hits += 1
        else:
            self.hits += 1
        return CacheHit(value[_HEADER.size :], stale)

    async def store(
        self,
        key: str,
        body: bytes,
        policy: CachePolicy,
        tags: Sequence[str],
        since: int | None = None,
    ) -> None:
        """Keep a response (the caller checked it has no errors).

        ``since`` is :attr:`sequence` when the response's read began: if an invalidation of
        any of its tags started after that, the read may have seen the data before the change,
        so it is not stored (else it would be served until its ``ttl`` ran out).
        """
        if since is not None and self._overlapped(since, tags):
            self.uncacheable += 1
            return
        value = _HEADER.pack(time.time() + policy.ttl) + body
        try:
            await self.backend.set(key, value, policy.ttl + policy.stale_while_revalidate, tags)
        except Exception as error:
            self._failed("set", error)
            return
        self.stores += 1

    def refresh(self, key: str, run: Callable[[], Awaitable[None]]) -> None:
        """Refresh a stale entry in the background, once at a time per key."""
        if key in self._refreshing:
            return
        self._refreshing.add(key)

        async def refreshing() -> None:
            try:
                await run()
            except Exception:
                logger.exception("refreshing a cached response failed")
            finally:
                self._refreshing.discard(key)

        task = asyncio.create_task(refreshing())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- invalidation ----------------------------------------------------------------------

    async def invalidate(self, tags: Sequence[str]) -> int:
        """Remove the entries carrying any of ``tags``."""
        self.sequence += 1
        self._recent.append((self.sequence, frozenset(tags)))
        try:
            removed = await self.backend.invalidate(tags)
        except Exception as error:
            self._failed("invalidate", error)
            return 0
        self.invalidations += 1
        self.invalidated += removed
        return removed

    def on_event(self, event: Event) -> None:
        """Evict what a database event made out of date (called by the listener)."""
        tags = [entity_tag(event.entity), *(row_tag(event.entity, i) for i in event.ids)]
        sent_at = event.at

        async def evict() -> None:
            await self.invalidate(tags)
            if sent_at is not None:
                self.lag_sum += max(0.0, time.time() - sent_at)
                self.lag_count += 1

        task = asyncio.create_task(evict())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def clear_soon(self) -> None:
        """Drop every entry (in the background): after the listener missed events."""

        async def clear() -> None:
            try:
                await self.backend.clear()
            except Exception as error:
                self._failed("clear", error)

        task = asyncio.create_task(clear())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Wait for pending evictions and refreshes, then close the backend."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.backend.close()

    def counters(self) -> dict[str, tuple[str, str, float]]:
        """What the cache counted, for the metrics endpoint."""
        stats = self.backend.stats()
        return {
            "hits": ("counter", "Fresh responses served from the cache.", self.hits),
            "stale_hits": (
                "counter",
                "Stale responses served while one request refreshed them.",
                self.stale_hits,
            ),
            "misses": ("counter", "Cacheable requests not found in the cache.", self.misses),
            "stores": ("counter", "Responses stored.", self.stores),
            "uncacheable": (
                "counter",
                "Responses of cacheable operations not stored (errors, no user).",
                self.uncacheable,
            ),
            "evictions": (
                "counter",
                "Entries removed because what they read changed.",
                self.invalidated,
            ),
            "invalidations": ("counter", "Invalidations run.", self.invalidations),
            "failures": ("counter", "Backend calls that failed.", self.failures),
            "invalidation_lag_seconds": (
                "counter",
                "Seconds from a change's notification to its eviction, summed over evictions.",
                self.lag_sum,
            ),
            "timed_invalidations": (
                "counter",
                "Evictions by database events, whose lag invalidation_lag_seconds sums.",
                self.lag_count,
            ),
            "entries": ("gauge", "Entries held (as the backend tells).", stats.get("entries", 0)),
            "bytes": ("gauge", "Bytes held (as the backend tells).", stats.get("bytes", 0)),
        }

    def _overlapped(self, since: int, tags: Sequence[str]) -> bool:
        if since == self.sequence:
            return False
        if not self._recent or self._recent[0][0] > since + 1:
            return True  # older than what is remembered: assume the worst
        wanted = set(tags)
        return any(seq > since and not wanted.isdisjoint(hit) for seq, hit in self._recent)

    def _failed(self, what: str, error: Exception) -> None:
        self.failures += 1
        if self.failures == 1 or self.failures % 1000 == 0:
            logger.warning("response cache %s failed (%d so far): %s", what, self.failures, error)
