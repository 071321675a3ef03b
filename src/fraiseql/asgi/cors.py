"""CORS configuration for the GraphQL endpoint, applied with Starlette's ``CORSMiddleware``.

Nothing is allowed cross-origin unless configured. A cross-origin POST with
``Content-Type: application/json`` always needs a preflight, which this configuration answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from fraiseql.asgi.csrf import DEFAULT_CSRF_HEADERS


@dataclass(frozen=True, slots=True)
class CORSConfig:
    """Which origins may call the endpoint from a browser, and with what.

    ``allow_origins`` lists exact origins (``"https://app.example.com"``) or ``"*"``;
    ``"*"`` cannot be combined with ``allow_credentials`` because that would let any site make
    authenticated requests with the user's cookies. ``allow_headers`` includes the default CSRF
    headers (``fraiseql.asgi.csrf.DEFAULT_CSRF_HEADERS``); add yours when you change
    ``csrf_required_headers``. ``max_age`` is how long (seconds) a browser
    may cache a preflight answer.
    """

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ("GET", "POST")
    allow_headers: tuple[str, ...] = (
        "Authorization",
        "Content-Type",
        *DEFAULT_CSRF_HEADERS,
    )
    allow_credentials: bool = False
    max_age: int = 600

    def __post_init__(self) -> None:
        if self.allow_credentials and "*" in self.allow_origins:
            raise ValueError("allow_credentials cannot be used with allow_origins=('*',)")
        if self.max_age < 0:
            raise ValueError("max_age must not be negative")

    def middleware(self) -> Middleware:
        """Return this configuration as a Starlette ``Middleware`` entry (Starlette or FastAPI)."""
        return Middleware(
            CORSMiddleware,
            allow_origins=self.allow_origins,
            allow_methods=self.allow_methods,
            allow_headers=self.allow_headers,
            allow_credentials=self.allow_credentials,
            max_age=self.max_age,
        )


def with_cors(app: ASGIApp, config: CORSConfig) -> ASGIApp:
    """Wrap ``app`` so that it answers CORS preflights and adds CORS headers per ``config``."""
    return CORSMiddleware(
        app,
        allow_origins=config.allow_origins,
        allow_methods=config.allow_methods,
        allow_headers=config.allow_headers,
        allow_credentials=config.allow_credentials,
        max_age=config.max_age,
    )
