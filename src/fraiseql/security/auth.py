"""Authentication: a verified token becomes the request's ``context["auth"]`` and settings.

An authenticator (:class:`fraiseql.JWTAuth`, or anything with the :class:`Authenticator`
method) runs on every HTTP request, SSE stream and WebSocket ``connection_init`` before the
app's context getter. What it returns, an :class:`AuthInfo`, is kept in the ASGI scope (read
it with :func:`auth_info`) and put into the context as ``context["auth"]``; from there
:func:`session_with_auth` makes the request's database settings: the claims the token maps to
(``app.tenant_id``...) and its database role, applied in the request transaction's one
``set_config`` statement, where row-level-security policies read them.

A refusal is an :class:`AuthError`: 401 with ``WWW-Authenticate: Bearer error="..."``
(RFC 6750) for a missing or invalid token, 403 for a valid one whose role is not allowed.
Tokens are never logged nor echoed: error descriptions are fixed texts.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Protocol

from starlette.requests import HTTPConnection

from fraiseql.security.claims import ClaimsError, ClaimsGetter, SessionSettings
from fraiseql.subscriptions.connection import connection_params

AUTH_SCOPE_KEY = "fraiseql.auth"
"""Where the transports keep a connection's :class:`AuthInfo` in the ASGI scope."""

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"


@dataclass(frozen=True, slots=True)
class AuthInfo:
    """Who a request runs for: what a verified token said, or an anonymous caller.

    ``claims`` are the token's claims (read-only), ``subject`` its ``sub``, ``role`` the
    database role it maps to (``None``: the ``SessionSettings`` role applies), ``settings`` the
    database settings taken from its claims. ``valid_until`` is the token's expiry plus the
    leeway, as a Unix time (``None``: it does not expire); a WebSocket operation is refused
    past it, and a running subscription ends there.
    """

    subject: str | None
    claims: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    role: str | None = None
    settings: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))
    valid_until: float | None = None
    anonymous: bool = False

    def expired(self, now: float | None = None) -> bool:
        """Whether the token has expired (never, for an anonymous caller)."""
        if self.valid_until is None:
            return False
        return (time.time() if now is None else now) >= self.valid_until


class AuthError(Exception):
    """A request refused by authentication, with its status and RFC 6750 error code.

    ``status`` is 401 (``error`` ``None`` for no credentials, ``"invalid_token"``), 400
    (``"invalid_request"``: a malformed ``Authorization`` header) or 403
    (``"insufficient_scope"``: a valid token whose role is not allowed). ``description`` is a
    fixed text, safe to show: it never contains the token.
    """

    def __init__(self, status: int, error: str | None, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    @property
    def code(self) -> str:
        """The GraphQL error code: ``FORBIDDEN`` for a 403, else ``UNAUTHENTICATED``."""
        return FORBIDDEN if self.status == 403 else UNAUTHENTICATED

    def www_authenticate(self) -> str:
        """The ``WWW-Authenticate`` challenge of the response (RFC 6750 section 3)."""
        if self.error is None:
            return "Bearer"
        description = self.description.replace("\\", "").replace('"', "'")
        return f'Bearer error="{self.error}", error_description="{description}"'


def invalid_token(description: str) -> AuthError:
    """A 401 for a token that cannot be accepted."""
    return AuthError(401, "invalid_token", description)


def expired_token() -> AuthError:
    """A 401 for a token that expired."""
    return invalid_token("the token has expired")


class Authenticator(Protocol):
    """What the transports call: the caller of a connection, or an :class:`AuthError`.

    Over a WebSocket it runs at ``connection_init``, when :func:`fraiseql.connection_params`
    already holds the init payload. It may also raise
    :class:`~fraiseql.execution.outcome.ServiceUnavailable` (503) when it cannot check
    tokens for now.
    """

    async def authenticate(self, connection: HTTPConnection) -> AuthInfo:
        """Verify the credentials of ``connection``."""
        ...


def auth_info(connection: HTTPConnection) -> AuthInfo | None:
    """The caller of ``connection`` (for a context getter), ``None`` without authentication."""
    info = connection.scope.get(AUTH_SCOPE_KEY)
    return info if isinstance(info, AuthInfo) else None


def bearer_token(
    connection: HTTPConnection, *, cookie_name: str | None = None, max_size: int = 8192
) -> str | None:
    """The bearer token a connection carries, ``None`` when it carries none.

    Over a WebSocket the ``connection_init`` payload's ``authorization`` (or
    ``Authorization``) comes first, as ``"Bearer <token>"``; then the ``Authorization``
    header, then the cookie ``cookie_name``. An ``Authorization`` header with another scheme
    (``Basic``) is not a bearer token. Raises :class:`AuthError` for a malformed value.
    """
    if connection.scope.get("type") == "websocket":
        params = connection_params(connection)
        value = params.get("authorization", params.get("Authorization"))
        if value is not None:
            if not isinstance(value, str) or _scheme_token(value) is None:
                raise AuthError(400, "invalid_request", "authorization must be 'Bearer <token>'")
            return _checked(_scheme_token(value), max_size)
    headers = connection.headers.getlist("authorization")
    if len(headers) > 1:
        raise AuthError(400, "invalid_request", "several Authorization headers")
    if headers:
        token = _scheme_token(headers[0])
        if token is not None:
            return _checked(token, max_size)
    if cookie_name is not None:
        cookie = connection.cookies.get(cookie_name)
        if cookie:
            return _checked(cookie, max_size)
    return None


def _scheme_token(value: str) -> str | None:
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _checked(token: str | None, max_size: int) -> str:
    if not token or any(c.isspace() for c in token):
        raise AuthError(400, "invalid_request", "the bearer token is missing or malformed")
    if len(token) > max_size:
        raise invalid_token("the token is too large")
    return token


def auth_role(context: Mapping[str, Any]) -> str | None:
    """The database role of the request's caller (``None``: the static role)."""
    info = context.get("auth")
    return info.role if isinstance(info, AuthInfo) else None


class _AuthClaims:
    """The settings of the caller, then those of the app's own claims getter."""

    __slots__ = ("inner",)

    def __init__(self, inner: ClaimsGetter | None) -> None:
        self.inner = inner

    def __call__(self, context: dict[str, Any]) -> Mapping[str, Any]:
        info = context.get("auth")
        settings: dict[str, Any] = dict(info.settings) if isinstance(info, AuthInfo) else {}
        if self.inner is not None:
            for name, value in self.inner(context).items():
                if name in settings:
                    raise ClaimsError(
                        f"the setting {name!r} is set both by the token's claims and by the "
                        "claims getter"
                    )
                settings[name] = value
        return settings


def session_with_auth(session: SessionSettings | None) -> SessionSettings:
    """``session`` with the caller's settings and role (see :class:`AuthInfo`) added.

    The app's own claims getter still runs (it may read ``context["auth"]``), but it may not
    set a setting the token's claims set. A ``role_from`` of the app's own wins over the
    token's role. Applying it twice changes nothing.
    """
    base = session or SessionSettings()
    if isinstance(base.claims, _AuthClaims):
        return base
    return replace(
        base,
        claims=_AuthClaims(base.claims),
        role_from=base.role_from if base.role_from is not None else auth_role,
    )


def bind_auth(executor: object) -> None:
    """Make ``executor`` (a :class:`fraiseql.Schema` or its executor) read ``context["auth"]``."""
    target = getattr(executor, "executor", executor)
    if hasattr(target, "session_settings"):
        target.session_settings = session_with_auth(target.session_settings)
