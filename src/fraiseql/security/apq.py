"""Stores of automatic persisted queries: documents registered by clients at run time.

Apollo's APQ protocol lets a client send a document's SHA-256 instead of its text; the server
answers ``PersistedQueryNotFound`` for a hash it does not know, and the client sends the text with
the hash once, which registers it. A store must therefore be bounded: :class:`MemoryPersistedStore`
is an LRU by count and by bytes. :class:`SharedPersistedStore` adds a :class:`CacheBackend` (such
as Redis) so that replicas learn each other's registrations.

Lookups are synchronous (the executor prepares operations synchronously): the shared store
answers from its local LRU, and on a miss fetches the document from the backend in the
background, so the next request with that hash finds it (the client, told
``PersistedQueryNotFound`` meanwhile, sends the text, which runs and registers it as well).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Coroutine
from typing import Any, Protocol

from fraiseql.cache.backend import CacheBackend

logger = logging.getLogger("fraiseql.security.apq")

DEFAULT_MAX_DOCUMENTS = 10_000
DEFAULT_MAX_BYTES = 64 << 20
DEFAULT_SHARED_TTL = 7 * 24 * 3600.0
"""How long a shared backend keeps a registered document (seconds): a week."""


class PersistedStore(Protocol):
    """Automatically registered documents by their SHA-256 hex digest (lower case)."""

    def get(self, digest: str) -> str | None:
        """The document registered under ``digest``, or ``None``."""
        ...

    def put(self, digest: str, query: str) -> bool:
        """Register ``query`` (whose hash the caller verified); whether it is now held."""
        ...


class MemoryPersistedStore:
    """An in-process LRU bounded by ``max_documents`` and by ``max_bytes`` of document text.

    A document larger than ``max_bytes`` on its own is not stored (it still runs).
    """

    def __init__(
        self, *, max_documents: int = DEFAULT_MAX_DOCUMENTS, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        if max_documents < 1 or max_bytes < 1:
            raise ValueError("max_documents and max_bytes must be positive")
        self.max_documents = max_documents
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, str] = OrderedDict()
        self._sizes: dict[str, int] = {}
        self.bytes = 0
        self.evictions = 0

    def get(self, digest: str) -> str | None:
        """The document under ``digest`` (made most recently used), or ``None``."""
        query = self._entries.get(digest)
        if query is not None:
            self._entries.move_to_end(digest)
        return query

    def put(self, digest: str, query: str) -> bool:
        """Register ``query``; the least recently used documents go past either bound."""
        size = len(query.encode())
        if size > self.max_bytes:
            return False
        if digest in self._entries:
            self._entries.move_to_end(digest)
            return True
        while self._entries and (
            len(self._entries) >= self.max_documents or self.bytes + size > self.max_bytes
        ):
            oldest, _ = self._entries.popitem(last=False)
            self.bytes -= self._sizes.pop(oldest)
            self.evictions += 1
        self._entries[digest] = query
        self._sizes[digest] = size
        self.bytes += size
        return True

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, digest: object) -> bool:
        return digest in self._entries


class SharedPersistedStore:
    """A local :class:`MemoryPersistedStore` in front of a shared :class:`CacheBackend`.

    Registrations are written to the backend under ``prefix + digest`` for ``ttl`` seconds; a
    local miss starts a background fetch. What comes back from the backend is checked against its
    hash before it is used, so a backend shared with others cannot substitute a document. Backend
    failures (``OSError``) are logged and otherwise ignored: the protocol recovers by itself.
    Call :meth:`flush` to wait for pending backend work (tests, shutdown).
    """

    def __init__(
        self,
        backend: CacheBackend,
        *,
        local: MemoryPersistedStore | None = None,
        ttl: float = DEFAULT_SHARED_TTL,
        prefix: str = "fraiseql:apq:",
    ) -> None:
        self.backend = backend
        self.local = local if local is not None else MemoryPersistedStore()
        self.ttl = ttl
        self.prefix = prefix
        self._pending: set[asyncio.Task[None]] = set()
        self._fetching: set[str] = set()

    def get(self, digest: str) -> str | None:
        """The local document, or ``None`` (and a background fetch from the backend)."""
        query = self.local.get(digest)
        if query is None and digest not in self._fetching:
            self._fetching.add(digest)
            self._spawn(self._fetch(digest))
        return query

    def put(self, digest: str, query: str) -> bool:
        """Register locally, and in the backend in the background."""
        held = self.local.put(digest, query)
        if held:
            self._spawn(self._store(digest, query))
        return held

    async def flush(self) -> None:
        """Wait for the pending backend reads and writes."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): local only
            work.close()
            return
        task = loop.create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _fetch(self, digest: str) -> None:
        try:
            value = await self.backend.get(self.prefix + digest)
        except OSError as error:
            logger.warning("persisted query store unavailable: %s", error)
            return
        finally:
            self._fetching.discard(digest)
        if value is None:
            return
        try:
            query = value.decode()
        except UnicodeDecodeError:
            return
        if hashlib.sha256(value).hexdigest() == digest:
            self.local.put(digest, query)

    async def _store(self, digest: str, query: str) -> None:
        try:
            await self.backend.set(self.prefix + digest, query.encode(), self.ttl, ())
        except OSError as error:
            logger.warning("persisted query store unavailable: %s", error)
