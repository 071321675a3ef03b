"""The application class: Starlette, with a direct path to the GraphQL handler.

Every GraphQL request would otherwise cross Starlette's error middleware, exception middleware
and router before reaching :class:`~fraiseql.asgi.http.GraphQLHTTPHandler`, about 6 % of the
instructions of a lookup by id in process. The handler answers every error itself, so for a
plain HTTP request (or a WebSocket) to the GraphQL path the stack adds nothing but cost:
:class:`FraiseQLApp` calls the handler directly and keeps two things the stack gave,
``HTTPException`` answers (a context getter's 401/403) and a plain 500 if anything escapes
before the response started. Anything else (other paths, lifespan, a mounted app with a
``root_path``, or an app given middleware or exception handlers, CORS included) takes
Starlette's full path. The endpoint's own handler answers its errors itself (a plain 500 too,
before it sent anything): its sends are passed through untouched.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fraiseql.asgi.http import GraphQLHTTPHandler


class FraiseQLApp(Starlette):
    """A Starlette application whose GraphQL HTTP route skips the router and middleware."""

    def __init__(
        self,
        *,
        graphql_path: str,
        graphql_handler: ASGIApp,
        websocket_handler: ASGIApp | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.graphql_path = graphql_path
        self.graphql_handler = graphql_handler
        self.websocket_handler = websocket_handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection, GraphQL HTTP requests and WebSockets directly."""
        kind = scope["type"]
        if (
            kind not in ("http", "websocket")
            or scope["path"] != self.graphql_path
            or scope.get("root_path")
            or self.user_middleware
            or self.exception_handlers
        ):
            await super().__call__(scope, receive, send)
            return
        if kind == "websocket":
            if self.websocket_handler is None:
                await super().__call__(scope, receive, send)
                return
            # Every frame a subscription sends crosses ``send``: without the exception
            # middleware's wrapper around it, the fan-out saves about 3 % per frame.
            scope["app"] = self
            await self.websocket_handler(scope, receive, send)
            return
        scope["app"] = self
        handler = self.graphql_handler
        if isinstance(handler, GraphQLHTTPHandler):
            # It answers every error before it sends anything itself (a 500 included), but
            # the context getter's HTTPException, raised before anything was sent.
            try:
                await handler(scope, receive, send)
            except HTTPException as exc:
                await _http_exception_response(exc)(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.graphql_handler(scope, receive, tracked_send)
        except HTTPException as exc:
            if started:
                raise
            await _http_exception_response(exc)(scope, receive, send)
        except Exception:
            if not started:
                await PlainTextResponse("Internal Server Error", status_code=500)(
                    scope, receive, send
                )
            raise


def _http_exception_response(exc: HTTPException) -> Response:
    """What Starlette's exception middleware answers for an ``HTTPException``."""
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
