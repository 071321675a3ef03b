"""``JWTAuth``: bearer JSON Web Tokens verified with PyJWT (the ``auth`` extra).

Keys come from one source: a JWKS URL (an identity provider such as Auth0 or Keycloak, see
:mod:`fraiseql.security.jwks`), a static public key, or an HMAC secret. The accepted
algorithms are an explicit allow-list checked against the key source when the
authenticator is built, never taken from the token: an HMAC secret verifies only ``HS*``,
public keys only ``RS*``/``PS*``/``ES*``/``EdDSA``, and ``none`` is never accepted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import orjson
from starlette.requests import HTTPConnection

from fraiseql.execution.outcome import ServiceUnavailable
from fraiseql.security import jwks
from fraiseql.security.auth import AuthError, AuthInfo, bearer_token, invalid_token
from fraiseql.security.claims import is_setting_name

logger = logging.getLogger("fraiseql.auth")

ClaimPath = str | Sequence[str]
"""A claim's name, or the names leading to it in nested objects: ``("realm_access", "roles")``."""

HMAC_ALGORITHMS = {"HS256": 32, "HS384": 48, "HS512": 64}
"""The HMAC algorithms and the shortest secret, in bytes, each accepts (RFC 7518 3.2)."""

ASYMMETRIC_ALGORITHMS = frozenset().union(*jwks.KEY_ALGORITHMS.values())

_MESSAGES = {
    "ExpiredSignatureError": "the token has expired",
    "ImmatureSignatureError": "the token is not valid yet",
    "InvalidAudienceError": "the token is not meant for this audience",
    "InvalidIssuerError": "the token's issuer is not trusted",
    "InvalidSignatureError": "the token's signature is invalid",
    "InvalidAlgorithmError": "the token's algorithm is not allowed",
    "DecodeError": "the token is malformed",
}


def _import_jwt() -> Any:
    try:
        import jwt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "fraiseql.JWTAuth needs PyJWT: install it with `pip install 'fraiseql[auth]'`."
        ) from exc
    return jwt


class JWTAuth:
    """Verify ``Authorization: Bearer`` JSON Web Tokens and map them to database settings.

    Give exactly one key source: ``jwks_url`` (fetched with httpx, cached, refreshed when a
    token names an unknown ``kid``, at most once per ``jwks_min_refresh_interval`` seconds,
    each fetch bounded by ``jwks_timeout`` seconds, ``jwks_max_body_size`` bytes and
    ``jwks_max_keys`` keys), ``public_key`` (PEM text or a ``cryptography`` public key) or
    ``secret`` (for ``HS256``/``HS384``/``HS512``, at least as long as the hash). ``algorithms``
    is the allow-list, required.

    ``issuer`` and ``audience`` are checked when given (a token with an ``aud`` is refused when
    no ``audience`` is set), ``exp`` and ``nbf`` with ``leeway`` seconds of clock skew;
    ``required_claims`` must be present (``exp`` by default: a token without expiry is
    refused).

    ``claims`` maps database settings to claims: ``{"app.tenant_id": "org_id"}`` sets
    ``app.tenant_id`` to the token's ``org_id`` (a path such as ``("https://example.com/claims",
    "org")`` reads nested objects; a missing claim becomes the empty string; lists and objects
    become JSON). With ``roles``, the token's ``role_claim`` (or ``default_role`` when it has
    none) is mapped through that allow-list to the database role of the request: a token role
    that is not a key of ``roles`` is refused with 403, never passed through. A list of roles
    (such as Keycloak's ``realm_access.roles``) picks the first key of ``roles``, in their
    order, that it holds. Without ``roles`` the token does not choose the role.

    A request without a token is refused with 401, unless ``anonymous_role`` names the database
    role it then runs as (with every mapped setting empty). The token is read from the
    ``Authorization`` header, then from the cookie ``cookie_name`` when given; over a WebSocket
    the ``connection_init`` payload's ``authorization`` comes first. Tokens over
    ``max_token_size`` characters are refused unread.
    """

    def __init__(
        self,
        *,
        algorithms: Iterable[str],
        jwks_url: str | None = None,
        public_key: Any = None,
        secret: str | bytes | None = None,
        issuer: str | Sequence[str] | None = None,
        audience: str | Sequence[str] | None = None,
        leeway: float = 30.0,
        required_claims: Iterable[str] = ("exp",),
        claims: Mapping[str, ClaimPath] | None = None,
        role_claim: ClaimPath = "role",
        roles: Mapping[str, str] | None = None,
        default_role: str | None = None,
        anonymous_role: str | None = None,
        cookie_name: str | None = None,
        max_token_size: int = 8192,
        jwks_timeout: float = jwks.DEFAULT_TIMEOUT,
        jwks_min_refresh_interval: float = jwks.DEFAULT_MIN_REFRESH_INTERVAL,
        jwks_max_age: float = jwks.DEFAULT_MAX_AGE,
        jwks_max_keys: int = jwks.DEFAULT_MAX_KEYS,
        jwks_max_body_size: int = jwks.DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        self._jwt = _import_jwt()
        self.algorithms = tuple(dict.fromkeys(algorithms))
        if not self.algorithms:
            raise ValueError("JWTAuth needs an explicit list of algorithms")
        if sum(source is not None for source in (jwks_url, public_key, secret)) != 1:
            raise ValueError("JWTAuth needs exactly one of jwks_url=, public_key= or secret=")
        self._secret: bytes | None = None
        self._public_key: Any = None
        self.jwks: jwks.JWKSCache | None = None
        if secret is not None:
            self._secret = _checked_secret(secret, self.algorithms)
        else:
            unknown = [a for a in self.algorithms if a not in ASYMMETRIC_ALGORITHMS]
            if unknown:
                raise ValueError(
                    f"algorithms {unknown} cannot be verified with public keys; allowed: "
                    f"{sorted(ASYMMETRIC_ALGORITHMS)}"
                )
            if jwks_url is not None:
                self.jwks = jwks.JWKSCache(
                    jwks_url,
                    algorithms=self.algorithms,
                    timeout=jwks_timeout,
                    min_refresh_interval=jwks_min_refresh_interval,
                    max_age=jwks_max_age,
                    max_keys=jwks_max_keys,
                    max_body_size=jwks_max_body_size,
                )
            else:
                self._public_key = _checked_public_key(public_key, self.algorithms)
        if leeway < 0 or max_token_size < 1:
            raise ValueError("leeway must not be negative, max_token_size must be positive")
        self.issuer = issuer if issuer is None or isinstance(issuer, str) else list(issuer)
        self.audience = (
            audience if audience is None or isinstance(audience, str) else list(audience)
        )
        self.leeway = float(leeway)
        self.required_claims = list(dict.fromkeys(required_claims))
        self.claims = dict(claims or {})
        for name in self.claims:
            if not is_setting_name(name):
                raise ValueError(f"setting names look like 'app.tenant_id' (a dot), not {name!r}")
        self.role_claim = role_claim
        self.roles = dict(roles) if roles is not None else None
        if default_role is not None and (self.roles is None or default_role not in self.roles):
            raise ValueError("default_role must be one of the keys of roles=")
        self.default_role = default_role
        self.anonymous_role = anonymous_role
        self.cookie_name = cookie_name
        self.max_token_size = max_token_size

    async def authenticate(self, connection: HTTPConnection) -> AuthInfo:
        """The caller of ``connection`` (see :class:`fraiseql.security.auth.Authenticator`)."""
        token = bearer_token(connection, cookie_name=self.cookie_name, max_size=self.max_token_size)
        return await self.verify(token)

    async def verify(self, token: str | None) -> AuthInfo:
        """Check ``token`` (``None``: none was sent); the caller, or :class:`AuthError`."""
        if token is None:
            if self.anonymous_role is None:
                raise AuthError(401, None, "authentication required: send a bearer token")
            settings = dict.fromkeys(self.claims)
            return AuthInfo(None, role=self.anonymous_role, settings=settings, anonymous=True)
        jwt = self._jwt
        try:
            header = jwt.get_unverified_header(token)
            algorithm = header.get("alg")
            if algorithm not in self.algorithms:
                raise invalid_token("the token's algorithm is not allowed")
            key = await self._key(header.get("kid"), algorithm)
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": self.required_claims, "enforce_minimum_key_length": True},
            )
        except jwt.PyJWTError as error:
            name = type(error).__name__
            if name == "MissingRequiredClaimError":
                description = f"the token has no {error.claim!r} claim"
            else:
                description = _MESSAGES.get(name, "the token is invalid")
            logger.debug("bearer token refused: %s (%s)", description, name)
            raise invalid_token(description) from None
        except AuthError as error:
            logger.debug("bearer token refused: %s", error.description)
            raise
        return self._info(claims)

    async def _key(self, kid: Any, algorithm: str) -> Any:
        if self._secret is not None:
            return self._secret
        if self.jwks is None:
            return self._public_key
        if kid is not None and not isinstance(kid, str):
            raise invalid_token("the token's kid is not a string")
        try:
            jwk = await self.jwks.key_for(kid)
        except jwks.JWKSUnavailableError:
            raise ServiceUnavailable(
                "The signing keys cannot be fetched now: try again shortly.", retry_after=5
            ) from None
        if jwk is None:
            raise invalid_token("no signing key matches the token's kid")
        if algorithm not in jwk.algorithms:
            raise invalid_token("the token's algorithm does not fit its key")
        return jwk.key

    def _info(self, claims: dict[str, Any]) -> AuthInfo:
        settings = {name: _setting(_claim(claims, path)) for name, path in self.claims.items()}
        exp = claims.get("exp")
        valid_until = float(exp) + self.leeway if isinstance(exp, int | float) else None
        subject = claims.get("sub")
        return AuthInfo(
            subject if isinstance(subject, str) else None,
            claims=MappingProxyType(claims),
            role=self._role(claims),
            settings=MappingProxyType(settings),
            valid_until=valid_until,
        )

    def _role(self, claims: dict[str, Any]) -> str | None:
        if self.roles is None:
            return None
        value = _claim(claims, self.role_claim)
        if value is None:
            value = self.default_role
        if isinstance(value, list):
            value = next((name for name in self.roles if name in value), None)
        role = self.roles.get(value) if isinstance(value, str) else None
        if role is None:
            description = "the token carries no role" if value is None else "role not allowed"
            logger.debug("bearer token refused: %s", description)
            raise AuthError(403, "insufficient_scope", description)
        return role


def _claim(claims: Mapping[str, Any], path: ClaimPath) -> Any:
    if isinstance(path, str):
        return claims.get(path)
    value: Any = claims
    for step in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def _setting(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value).decode()


def _checked_secret(secret: str | bytes, algorithms: Sequence[str]) -> bytes:
    unknown = [a for a in algorithms if a not in HMAC_ALGORITHMS]
    if unknown:
        raise ValueError(f"a secret verifies HS256, HS384 or HS512 only, not {unknown}")
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    shortest = max(HMAC_ALGORITHMS[a] for a in algorithms)
    if len(key) < shortest:
        raise ValueError(f"the secret must be at least {shortest} bytes long for {algorithms}")
    return key


def _checked_public_key(public_key: Any, algorithms: Sequence[str]) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    key = public_key
    if isinstance(key, str | bytes):
        text = key.encode() if isinstance(key, str) else key
        key = serialization.load_pem_public_key(text)
    if isinstance(key, rsa.RSAPublicKey):
        kty = "RSA"
        if key.key_size < 2048:
            raise ValueError("RSA public keys must have at least 2048 bits")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        kty = "EC"
    elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        kty = "OKP"
    else:
        raise ValueError("public_key must be an RSA, EC or Ed25519/Ed448 public key (PEM)")
    wrong = [a for a in algorithms if a not in jwks.KEY_ALGORITHMS[kty]]
    if wrong:
        raise ValueError(f"an {kty} public key cannot verify {wrong}")
    return key
