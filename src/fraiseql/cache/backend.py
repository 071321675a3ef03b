"""The one interface every cache backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class CacheBackend(Protocol):
    """Stores response bytes under keys, with a lifetime and tags to evict them by.

    Keys and tags are short ASCII strings built by FraiseQL. ``set`` replaces an existing
    entry. ``invalidate`` removes every entry carrying any of the tags and returns how many it
    removed (as far as the backend can tell). A backend that cannot be reached raises
    ``OSError`` (or a subclass); the cache then counts it and serves the request uncached.
    """

    async def get(self, key: str) -> bytes | None:
        """The value stored under ``key``, or ``None`` when absent or expired."""
        ...

    async def set(self, key: str, value: bytes, ttl: float, tags: Sequence[str]) -> None:
        """Store ``value`` for ``ttl`` seconds, tagged with ``tags``."""
        ...

    async def invalidate(self, tags: Sequence[str]) -> int:
        """Remove the entries tagged with any of ``tags``; how many were removed."""
        ...

    async def clear(self) -> None:
        """Remove every entry."""
        ...

    async def close(self) -> None:
        """Release connections (the cache is not used afterwards)."""
        ...

    def stats(self) -> dict[str, float]:
        """What the backend holds now: at least ``entries`` and ``bytes`` (0 when unknown)."""
        ...
