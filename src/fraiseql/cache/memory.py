"""The in-process backend: an LRU bounded by the bytes it holds."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_MAX_BYTES = 64 << 20
_ENTRY_OVERHEAD = 200
"""Bytes counted per entry beyond its key and value (the dict slots, tags, the record)."""


@dataclass(slots=True)
class _Entry:
    value: bytes
    expires: float
    tags: tuple[str, ...]
    size: int


class MemoryCache:
    """Entries in this process, the least recently used evicted past ``max_bytes``.

    Each replica has its own; database events evict in every replica, since each one listens.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._by_tag: dict[str, set[str]] = {}
        self._bytes = 0
        self.evicted_for_space = 0

    async def get(self, key: str) -> bytes | None:
        """The value under ``key`` (made most recently used), or ``None``."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= time.monotonic():
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return entry.value

    async def set(self, key: str, value: bytes, ttl: float, tags: Sequence[str]) -> None:
        """Store ``value``; older entries go when the bytes would exceed the bound."""
        size = len(key) + len(value) + sum(len(tag) for tag in tags) + _ENTRY_OVERHEAD
        if size > self.max_bytes:
            return  # larger than the whole cache: not worth evicting everything for
        if key in self._entries:
            self._remove(key)
        while self._bytes + size > self.max_bytes and self._entries:
            self._remove(next(iter(self._entries)))
            self.evicted_for_space += 1
        entry = _Entry(value, time.monotonic() + ttl, tuple(tags), size)
        self._entries[key] = entry
        self._bytes += size
        for tag in entry.tags:
            self._by_tag.setdefault(tag, set()).add(key)

    async def invalidate(self, tags: Sequence[str]) -> int:
        """Remove the entries tagged with any of ``tags``."""
        keys: set[str] = set()
        for tag in tags:
            keys |= self._by_tag.get(tag, set())
        for key in keys:
            self._remove(key)
        return len(keys)

    async def clear(self) -> None:
        """Remove every entry."""
        self._entries.clear()
        self._by_tag.clear()
        self._bytes = 0

    async def close(self) -> None:
        """Nothing to release."""

    def stats(self) -> dict[str, float]:
        """Entries and bytes held."""
        return {"entries": len(self._entries), "bytes": self._bytes}

    def _remove(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self._bytes -= entry.size
        for tag in entry.tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]
