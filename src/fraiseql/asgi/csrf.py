"""CSRF prevention: refuse requests a browser could send cross-site without a CORS preflight.

The rule is the one of Apollo Server's ``csrfPrevention`` and Apollo Router's ``csrf`` plugin.
A browser sends a cross-site request without asking the server first (a CORS preflight) only
when the request is "simple": a GET or a POST whose ``Content-Type`` is missing or one of
``text/plain``, ``application/x-www-form-urlencoded`` and ``multipart/form-data``, with no header
beyond the CORS-safelisted ones. Such a request still reaches the server with the user's
cookies, and its side effects happen even though the attacking page cannot read the answer.
So a request is accepted only when it proves that it was preflighted (or sent by something
that is not a browser): it has a ``Content-Type`` that is not simple (``application/json``), or
it carries one of the required headers, with any value.

The policy applies to every request that carries ambient credentials in ``"auto"`` mode (the
default), to every request in ``"always"`` mode, and to none in ``"off"`` mode. Ambient
credentials are those a browser attaches by itself: a ``Cookie`` header, or an
``Authorization`` header of a scheme browsers remember (``Basic``, ``Digest``, ``Negotiate``,
``NTLM``). A cross-site request without them acts with no one's authority but the attacker's.
Credentials the server cannot see in the request (TLS client certificates, a trusted network
position) need ``"always"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, get_args

from starlette.datastructures import Headers

from fraiseql.asgi.errors import TransportError

CSRFPrevention = Literal["auto", "always", "off"]
"""When the CSRF rule applies: to requests with ambient credentials, to all, or never."""

CSRF_MODES: tuple[str, ...] = get_args(CSRFPrevention)

DEFAULT_CSRF_HEADERS = (
    "X-Requested-With",
    "Apollo-Require-Preflight",
    "X-Apollo-Operation-Name",
    "GraphQL-Require-Preflight",
)
"""Headers a browser cannot send cross-site without a CORS preflight; any one of them will do.

``X-Requested-With`` is sent by many HTTP libraries, ``Apollo-Require-Preflight`` and
``X-Apollo-Operation-Name`` are Apollo's (its mobile clients send the latter by themselves).
"""

CSRF_HEADER_REQUIRED = "CSRF_HEADER_REQUIRED"
"""The ``extensions.code`` of a request refused by the CSRF rule."""

# Content-Type values a cross-site form or a no-cors fetch can send without a preflight (Fetch
# standard, "CORS-safelisted request-header"). A missing Content-Type is simple too.
SIMPLE_CONTENT_TYPES = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)

# Authorization schemes a browser remembers and replays on its own, cross-site requests included.
_AMBIENT_AUTH_SCHEMES = frozenset({"basic", "digest", "negotiate", "ntlm"})

# Headers that prove nothing when required: a browser sends them without a preflight, either
# because they are CORS-safelisted or because it sets them itself.
_UNPROVING_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "authorization",
        "connection",
        "content-language",
        "content-type",
        "cookie",
        "dnt",
        "host",
        "origin",
        "priority",
        "range",
        "referer",
        "upgrade-insecure-requests",
        "user-agent",
    }
)
_UNPROVING_PREFIXES = ("sec-", "proxy-")


@dataclass(frozen=True, slots=True)
class CSRFPolicy:
    """When to apply the CSRF rule and which headers prove a request was preflighted.

    ``required_headers`` keeps the names as given, for the error message; they are matched
    case-insensitively. Build one from the handler's options with :meth:`from_options`.
    """

    mode: CSRFPrevention = "auto"
    required_headers: tuple[str, ...] = DEFAULT_CSRF_HEADERS
    _lowered: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in CSRF_MODES:
            raise ValueError(f"csrf_prevention must be one of {CSRF_MODES}, not {self.mode!r}")
        if self.mode != "off" and not self.required_headers:
            raise ValueError(
                "csrf_required_headers must name at least one header "
                "(or turn the rule off with csrf_prevention='off')"
            )
        for name in self.required_headers:
            lowered = name.lower()
            if lowered in _UNPROVING_HEADERS or lowered.startswith(_UNPROVING_PREFIXES):
                raise ValueError(
                    f"{name!r} cannot be a CSRF header: browsers send it without a preflight"
                )
        object.__setattr__(self, "_lowered", tuple(n.lower() for n in self.required_headers))

    @classmethod
    def from_options(
        cls,
        csrf_prevention: CSRFPrevention = "auto",
        csrf_required_headers: Iterable[str] = DEFAULT_CSRF_HEADERS,
        csrf_require_header_on_get: bool = False,
        csrf_get_header_names: Iterable[str] | None = None,
    ) -> CSRFPolicy:
        """The policy of the handler's options, the two older names included.

        ``csrf_require_header_on_get=True`` is the older spelling of ``"always"`` and
        ``csrf_get_header_names`` the older name of ``csrf_required_headers``.
        """
        if csrf_require_header_on_get:
            if csrf_prevention == "off":
                raise ValueError(
                    "csrf_require_header_on_get=True contradicts csrf_prevention='off'"
                )
            csrf_prevention = "always"
        if csrf_get_header_names is not None:
            if csrf_required_headers is not DEFAULT_CSRF_HEADERS:
                raise ValueError(
                    "give csrf_required_headers only: csrf_get_header_names is its older name"
                )
            csrf_required_headers = csrf_get_header_names
        if isinstance(csrf_required_headers, str):
            raise TypeError("csrf_required_headers is a list of header names, not a string")
        return cls(csrf_prevention, tuple(csrf_required_headers))

    def check(self, method: str, headers: Headers) -> None:
        """Raise a 400 :class:`TransportError` when the request could be a forged one."""
        if self.mode == "off":
            return
        if self.mode == "auto" and not carries_ambient_credentials(headers):
            return
        if not has_simple_content_type(headers):
            return
        if any(name in headers for name in self._lowered):
            return
        names = ", ".join(self.required_headers)
        content_type = " or have a JSON Content-Type" if method == "POST" else ""
        raise TransportError(
            400,
            "This request was refused as a possible cross-site request forgery: "
            f"a {method} request that a browser could send without a CORS preflight must carry "
            f"one of these headers (any value){content_type}: {names}.",
            code=CSRF_HEADER_REQUIRED,
        )


def carries_ambient_credentials(headers: Headers) -> bool:
    """Whether the request has credentials a browser would attach to a cross-site request."""
    if "cookie" in headers:
        return True
    authorization = headers.get("authorization")
    if authorization is None:
        return False
    return authorization.split(" ", 1)[0].strip().lower() in _AMBIENT_AUTH_SCHEMES


def has_simple_content_type(headers: Headers) -> bool:
    """Whether the request's ``Content-Type`` (or its absence) needs no CORS preflight.

    A value that does not parse is counted as simple: that refuses more, never less.
    """
    values = headers.getlist("content-type")
    if not values:
        return True
    for value in values:
        essence = value.split(";", 1)[0].strip().lower()
        if essence in SIMPLE_CONTENT_TYPES or essence.count("/") != 1:
            return True
    return False
