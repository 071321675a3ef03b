"""JWTAuth with a JWKS URL: a local key server, key rotation, and bounded refreshes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from jwt.warnings import InsecureKeyLengthWarning

from fraiseql import AuthError, JWTAuth
from fraiseql.execution.outcome import ServiceUnavailable


def jwk(private_key: Any, kid: str | None, **extra: Any) -> dict[str, Any]:
    public = private_key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        data = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        data = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        data = OKPAlgorithm.to_jwk(public, as_dict=True)
    if kid is not None:
        data["kid"] = kid
    data.update(extra)
    return dict(data)


def token(private_key: Any, algorithm: str, kid: str | None, **claims: Any) -> str:
    payload = {"sub": "u1", "exp": int(time.time()) + 600, **claims}
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(payload, private_key, algorithm=algorithm, headers=headers)


class KeyServer:
    """A tiny HTTP server on 127.0.0.1 answering every GET with ``body``."""

    def __init__(self) -> None:
        self.body = b'{"keys": []}'
        self.status = 200
        self.delay = 0.0
        self.hits = 0
        self.port = 0
        self.server: asyncio.Server | None = None

    def publish(self, *keys: dict[str, Any]) -> None:
        self.body = orjson.dumps({"keys": list(keys)})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.hits += 1
            if self.delay:
                await asyncio.sleep(self.delay)
            head = (
                f"HTTP/1.1 {self.status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(self.body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + self.body)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def keys() -> AsyncIterator[KeyServer]:
    server = KeyServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


RSA_OLD = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_NEW = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ED_KEY = ed25519.Ed25519PrivateKey.generate()


def auth(server: KeyServer, **options: Any) -> JWTAuth:
    defaults: dict[str, Any] = {"algorithms": ["RS256", "ES256", "EdDSA"], "jwks_url": server.url}
    defaults.update(options)
    return JWTAuth(**defaults)


async def test_keys_of_each_type_are_fetched_once_and_cached(keys: KeyServer) -> None:
    keys.publish(jwk(RSA_OLD, "rsa"), jwk(EC_KEY, "ec"), jwk(ED_KEY, "ed"))
    verifier = auth(keys)
    for key, algorithm, kid in ((RSA_OLD, "RS256", "rsa"), (EC_KEY, "ES256", "ec")):
        assert (await verifier.verify(token(key, algorithm, kid))).subject == "u1"
    assert (await verifier.verify(token(ED_KEY, "EdDSA", "ed"))).subject == "u1"
    for _ in range(5):
        await verifier.verify(token(RSA_OLD, "RS256", "rsa"))
    assert keys.hits == 1


async def test_rotation_triggers_one_refresh(keys: KeyServer) -> None:
    keys.publish(jwk(RSA_OLD, "old"))
    verifier = auth(keys, jwks_min_refresh_interval=0.2)
    old = token(RSA_OLD, "RS256", "old")
    await verifier.verify(old)
    assert keys.hits == 1
    keys.publish(jwk(RSA_NEW, "new"))  # the provider rotated: old removed, new added
    await asyncio.sleep(0.25)
    new = token(RSA_NEW, "RS256", "new")
    assert (await verifier.verify(new)).subject == "u1"
    assert keys.hits == 2
    await verifier.verify(new)
    assert keys.hits == 2
    # The old key is gone from the cache with the refresh: its tokens are refused now.
    error = await _refused(verifier, old)
    assert "no signing key" in error.description


async def test_a_flood_of_unknown_kids_is_rate_limited(keys: KeyServer) -> None:
    keys.publish(jwk(RSA_OLD, "k1"))
    verifier = auth(keys, jwks_min_refresh_interval=0.3)
    await verifier.verify(token(RSA_OLD, "RS256", "k1"))
    floods = [token(RSA_OLD, "RS256", f"made-up-{i}") for i in range(50)]
    results = await asyncio.gather(*(verifier.verify(t) for t in floods), return_exceptions=True)
    assert all(isinstance(r, AuthError) and r.status == 401 for r in results)
    assert keys.hits == 1  # within the interval of the first load: no fetch at all
    await asyncio.sleep(0.35)
    results = await asyncio.gather(*(verifier.verify(t) for t in floods), return_exceptions=True)
    for value in floods:  # and one by one, still within the interval
        results.append(await _refused(verifier, value))
    assert all(isinstance(r, AuthError) and r.status == 401 for r in results)
    assert keys.hits == 2  # one refresh for the whole flood
    await verifier.verify(token(RSA_OLD, "RS256", "k1"))  # known keys still pass
    assert keys.hits == 2


async def test_concurrent_first_requests_share_one_fetch(keys: KeyServer) -> None:
    keys.publish(jwk(EC_KEY, "ec"))
    keys.delay = 0.1
    verifier = auth(keys)
    tokens = [token(EC_KEY, "ES256", "ec") for _ in range(20)]
    infos = await asyncio.gather(*(verifier.verify(t) for t in tokens))
    assert len(infos) == 20
    assert keys.hits == 1


async def test_stale_keys_are_refreshed_after_max_age(keys: KeyServer) -> None:
    keys.publish(jwk(RSA_OLD, "k"))
    verifier = auth(keys, jwks_max_age=0.1, jwks_min_refresh_interval=0.0)
    await verifier.verify(token(RSA_OLD, "RS256", "k"))
    await asyncio.sleep(0.15)
    await verifier.verify(token(RSA_OLD, "RS256", "k"))
    assert keys.hits == 2


async def test_the_algorithm_must_fit_the_key(keys: KeyServer) -> None:
    keys.publish(jwk(EC_KEY, "ec"), jwk(RSA_OLD, "rs", alg="RS256"))
    verifier = auth(keys, algorithms=["RS256", "PS256", "ES256"])
    # An RSA-signed token naming the EC key, and a PS256 token for a key declared RS256.
    error = await _refused(verifier, token(RSA_OLD, "RS256", "ec"))
    assert "does not fit its key" in error.description
    error = await _refused(verifier, token(RSA_OLD, "PS256", "rs"))
    assert "does not fit its key" in error.description
    assert await verifier.verify(token(RSA_OLD, "RS256", "rs"))


async def test_no_kid_uses_the_only_key(keys: KeyServer) -> None:
    keys.publish(jwk(RSA_OLD, None))
    verifier = auth(keys)
    assert (await verifier.verify(token(RSA_OLD, "RS256", None))).subject == "u1"
    keys.publish(jwk(RSA_OLD, "a"), jwk(RSA_NEW, "b"))
    two = auth(keys)
    error = await _refused(two, token(RSA_OLD, "RS256", None))
    assert "no signing key" in error.description


async def test_symmetric_small_and_foreign_keys_are_not_taken(keys: KeyServer) -> None:
    secret = "k" * 64
    oct_key = {
        "kty": "oct",
        "kid": "oct",
        "k": jwt.utils.base64url_encode(secret.encode()).decode(),
    }
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    keys.publish(
        oct_key,
        jwk(small, "small"),
        jwk(RSA_OLD, "enc", use="enc"),
        jwk(RSA_NEW, "ps", alg="PS256"),
        jwk(EC_KEY, "ec"),
    )
    verifier = auth(keys, jwks_min_refresh_interval=60)
    # An HS256 token made with the "oct" key of the set: refused, HS256 is not even allowed.
    assert "algorithm" in (await _refused(verifier, token(secret, "HS256", "oct"))).description
    verifier2 = auth(keys, algorithms=["RS256"], jwks_min_refresh_interval=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        small_token = token(small, "RS256", "small")
    for value in (small_token, token(RSA_OLD, "RS256", "enc"), token(RSA_NEW, "RS256", "ps")):
        error = await _refused(verifier2, value)
        assert "no signing key" in error.description
    # The EC key is left out too: ES256 is not allowed by verifier2.
    assert "algorithm" in (await _refused(verifier2, token(EC_KEY, "ES256", "ec"))).description
    assert keys.hits == 1  # the first verifier refused HS256 before fetching anything


async def test_fetches_are_bounded_in_size_keys_and_time(
    keys: KeyServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    keys.body = b'{"keys": [' + b'{"kty": "RSA"},' * 20_000 + b"{}]}"
    error = await _unavailable(auth(keys), token(RSA_OLD, "RS256", "x"))
    assert "larger than" in caplog.text and error.retry_after > 0
    caplog.clear()
    keys.publish(*[jwk(EC_KEY, f"k{i}") for i in range(5)])
    await _unavailable(auth(keys, jwks_max_keys=4), token(EC_KEY, "ES256", "k0"))
    assert "more than 4 keys" in caplog.text
    caplog.clear()
    keys.delay = 2.0
    started = time.monotonic()
    await _unavailable(auth(keys, jwks_timeout=0.3), token(EC_KEY, "ES256", "k0"))
    assert time.monotonic() - started < 1.5
    assert "timed out" in caplog.text
    keys.delay = 0.0
    caplog.clear()
    keys.status = 500
    await _unavailable(auth(keys), token(EC_KEY, "ES256", "k0"))
    assert "HTTP status 500" in caplog.text
    keys.status = 200
    keys.body = b"<html>"
    await _unavailable(auth(keys), token(EC_KEY, "ES256", "k0"))
    assert "not JSON" in caplog.text


async def test_a_failed_refresh_keeps_the_keys_it_had(keys: KeyServer) -> None:
    keys.publish(jwk(RSA_OLD, "k"))
    verifier = auth(keys, jwks_max_age=0.05, jwks_min_refresh_interval=0.0)
    good = token(RSA_OLD, "RS256", "k")
    await verifier.verify(good)
    keys.status = 503
    await asyncio.sleep(0.1)
    assert (await verifier.verify(good)).subject == "u1"
    assert keys.hits == 2


async def test_unreachable_server_is_a_503_and_rate_limited() -> None:
    verifier = JWTAuth(algorithms=["RS256"], jwks_url="http://127.0.0.1:9/jwks.json")
    for _ in range(3):
        await _unavailable(verifier, token(RSA_OLD, "RS256", "k"))
    assert verifier.jwks is not None and verifier.jwks.fetches == 1


async def _refused(verifier: JWTAuth, value: str) -> AuthError:
    with pytest.raises(AuthError) as caught:
        await verifier.verify(value)
    return caught.value


async def _unavailable(verifier: JWTAuth, value: str) -> ServiceUnavailable:
    with pytest.raises(ServiceUnavailable) as caught:
        await verifier.verify(value)
    return caught.value
