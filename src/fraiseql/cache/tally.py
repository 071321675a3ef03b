"""What a shared backend holds, as one process can tell without asking the server.

A Redis or PostgreSQL cache is shared by replicas and expires entries on its own; counting its
entries for each metrics scrape would cost a round trip. :class:`ExpiringTally` instead adds
what this process stored, subtracts what it removed or replaced, and forgets entries as their
lifetime ends, in buckets of one second, so its memory is bounded by the longest lifetime, not
by the number of entries. The numbers are this process's view: entries another replica stored
are missing, entries another replica removed are counted until they would have expired.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable

RESOLUTION = 1.0
"""Seconds per bucket of expiry times."""


class ExpiringTally:
    """Entries and bytes stored by this process and not yet expired (approximate)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._buckets: dict[int, list[int]] = {}
        """Bucket (expiry time // RESOLUTION, rounded up) → [entries, bytes]."""
        self._order: list[int] = []
        self.entries = 0
        self.bytes = 0

    def add(self, size: int, expires_at: float) -> None:
        """Count an entry of ``size`` bytes stored until ``expires_at`` (wall-clock seconds)."""
        self._forget_expired()
        bucket = math.ceil(expires_at / RESOLUTION)
        counts = self._buckets.get(bucket)
        if counts is None:
            counts = self._buckets[bucket] = [0, 0]
            heapq.heappush(self._order, bucket)
        counts[0] += 1
        counts[1] += size
        self.entries += 1
        self.bytes += size

    def remove(self, size: int, expires_at: float) -> None:
        """Stop counting an entry removed before its time (if this process counted one like it).

        The expiry the server reports may differ from the one counted by a few milliseconds,
        so the neighbouring buckets are tried too; an entry found in none of them was stored
        by another process and was never counted here.
        """
        self._forget_expired()
        bucket = math.ceil(expires_at / RESOLUTION)
        for candidate in (bucket, bucket + 1, bucket - 1):
            counts = self._buckets.get(candidate)
            if counts is not None and counts[0] > 0:
                taken = min(size, counts[1])
                counts[0] -= 1
                counts[1] -= taken
                self.entries -= 1
                self.bytes -= taken
                return

    def reset(self) -> None:
        """Count nothing (the backend was cleared)."""
        self._buckets.clear()
        self._order.clear()
        self.entries = 0
        self.bytes = 0

    def snapshot(self) -> dict[str, float]:
        """``entries`` and ``bytes`` now, without any I/O."""
        self._forget_expired()
        return {"entries": self.entries, "bytes": self.bytes}

    def _forget_expired(self) -> None:
        now = self._clock() / RESOLUTION
        while self._order and self._order[0] <= now:
            counts = self._buckets.pop(heapq.heappop(self._order))
            self.entries -= counts[0]
            self.bytes -= counts[1]
