"""The signing keys of an identity provider, fetched from its JWKS URL and cached.

A JSON Web Key Set (RFC 7517) lists the public keys tokens are signed with, each named by a
``kid``. :class:`JWKSCache` fetches it once, keeps it for ``max_age`` seconds and fetches it
again early when a token names a ``kid`` it does not know (the provider rotated its keys).
Fetches are bounded: at most one per ``min_refresh_interval`` seconds whatever tokens arrive
(a flood of made-up ``kid`` values costs the provider one request), ``timeout`` seconds in
all, ``max_body_size`` bytes and ``max_keys`` keys. A failed fetch keeps the keys it had.

Only asymmetric keys are taken (``RSA``, ``EC``, ``OKP``): a symmetric ``oct`` key in a key
set would let anyone who can read the set sign tokens. RSA keys under 2048 bits are skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

logger = logging.getLogger("fraiseql.auth")

DEFAULT_TIMEOUT = 5.0
DEFAULT_MIN_REFRESH_INTERVAL = 30.0
DEFAULT_MAX_AGE = 600.0
DEFAULT_MAX_KEYS = 32
DEFAULT_MAX_BODY_SIZE = 256 * 1024

KEY_ALGORITHMS = {
    "RSA": frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}),
    "EC": frozenset({"ES256", "ES384", "ES512"}),
    "OKP": frozenset({"EdDSA"}),
}
"""The signature algorithms each asymmetric key type can verify."""

_MIN_RSA_BITS = 2048


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A key of the set: the ``cryptography`` public key and the algorithms it may verify."""

    key: Any
    algorithms: frozenset[str]


class JWKSError(Exception):
    """The key set could not be fetched or read (the message names the reason, not a key)."""


class JWKSUnavailableError(Exception):
    """No key set was ever loaded and the last fetch failed: tokens cannot be checked now."""


class JWKSCache:
    """The keys at ``url`` by ``kid``, refreshed when stale or when a ``kid`` is unknown.

    ``algorithms`` are the allowed signature algorithms: a key whose ``alg`` is not among them,
    or whose type verifies none of them, is left out. ``fetches`` counts the fetch attempts.
    """

    def __init__(
        self,
        url: str,
        *,
        algorithms: Iterable[str],
        timeout: float = DEFAULT_TIMEOUT,
        min_refresh_interval: float = DEFAULT_MIN_REFRESH_INTERVAL,
        max_age: float = DEFAULT_MAX_AGE,
        max_keys: int = DEFAULT_MAX_KEYS,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the JWKS URL must be an http(s) URL")
        if not timeout > 0 or min_refresh_interval < 0 or not max_age > 0:
            raise ValueError("timeout and max_age must be positive, min_refresh_interval >= 0")
        if max_keys < 1 or max_body_size < 1:
            raise ValueError("max_keys and max_body_size must be at least 1")
        self.url = url
        self.algorithms = frozenset(algorithms)
        self.timeout = timeout
        self.min_refresh_interval = min_refresh_interval
        self.max_age = max_age
        self.max_keys = max_keys
        self.max_body_size = max_body_size
        self.fetches = 0
        self._keys: dict[str | None, SigningKey] = {}
        self._loaded_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str | None) -> SigningKey | None:
        """The key named ``kid`` (``None``: the only key of the set), else ``None``.

        Raises :class:`JWKSUnavailableError` when no key set could be loaded at all.
        """
        loaded = self._loaded_at
        if loaded is None or time.monotonic() - loaded >= self.max_age or self._find(kid) is None:
            await self._refresh()
        if self._loaded_at is None:
            raise JWKSUnavailableError("the signing keys could not be fetched")
        return self._find(kid)

    def _find(self, kid: str | None) -> SigningKey | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        """Fetch the set again, unless a fetch started less than the interval ago."""
        async with self._lock:  # concurrent callers wait for the one fetch
            attempted = self._attempted_at
            if attempted is not None and time.monotonic() - attempted < self.min_refresh_interval:
                return
            self._attempted_at = time.monotonic()
            self.fetches += 1
            try:
                async with asyncio.timeout(self.timeout):
                    body = await self._fetch()
                keys = self._parse(body)
            except (JWKSError, TimeoutError, OSError) as error:
                reason = "timed out" if isinstance(error, TimeoutError) else str(error)
                logger.warning("fetching the JWKS at %s failed: %s", self.url, reason)
                return
            except Exception as error:  # httpx's transport errors, among others
                logger.warning("fetching the JWKS at %s failed: %s", self.url, type(error).__name__)
                return
            self._keys = keys
            self._loaded_at = time.monotonic()
            logger.debug("loaded %d signing keys from %s", len(keys), self.url)

    async def _fetch(self) -> bytes:
        import httpx

        body = bytearray()
        async with (
            httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client,
            client.stream("GET", self.url, headers={"Accept": "application/json"}) as response,
        ):
            if response.status_code != 200:
                raise JWKSError(f"HTTP status {response.status_code}")
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self.max_body_size:
                    raise JWKSError(f"the key set is larger than {self.max_body_size} bytes")
        return bytes(body)

    def _parse(self, body: bytes) -> dict[str | None, SigningKey]:
        from jwt import PyJWK, PyJWTError

        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise JWKSError("the key set is not JSON") from None
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise JWKSError("the key set has no 'keys' list")
        if len(entries) > self.max_keys:
            raise JWKSError(f"the key set has more than {self.max_keys} keys")
        keys: dict[str | None, SigningKey] = {}
        for entry in entries:
            algorithms = self._algorithms(entry)
            if not algorithms:
                continue
            try:
                key = PyJWK(entry)
            except PyJWTError:
                continue  # an unsupported curve or a broken key: not one we can verify with
            if entry["kty"] == "RSA" and key.key.key_size < _MIN_RSA_BITS:
                continue
            keys.setdefault(entry.get("kid"), SigningKey(key.key, algorithms))
        return keys

    def _algorithms(self, entry: Any) -> frozenset[str]:
        """What ``entry`` may verify among the allowed algorithms (empty: not usable)."""
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            return frozenset()
        kid, kty, alg = entry.get("kid"), entry.get("kty"), entry.get("alg")
        if (kid is not None and not isinstance(kid, str)) or not isinstance(kty, str):
            return frozenset()
        allowed = KEY_ALGORITHMS.get(kty, frozenset()) & self.algorithms
        return allowed if alg is None else allowed & {alg}
