"""The error a shared cache backend raises when its server cannot be reached in time."""

from __future__ import annotations


class CacheUnavailableError(OSError):
    """The cache server refused, dropped or did not answer within the backend's ``op_timeout``.

    An ``OSError``, as :class:`~fraiseql.cache.backend.CacheBackend` asks: the response cache
    counts it as a failure and serves the request uncached.
    """
