"""A ready-to-serve Starlette application with the GraphQL endpoint."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route
from starlette.types import Lifespan

from fraiseql.asgi.batch import DEFAULT_MAX_BATCH_SIZE
from fraiseql.asgi.body import DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY_SIZE
from fraiseql.asgi.cors import CORSConfig
from fraiseql.asgi.csrf import DEFAULT_CSRF_HEADERS, CSRFPrevention
from fraiseql.asgi.direct import FraiseQLApp
from fraiseql.asgi.graphiql import GraphiQLOption
from fraiseql.asgi.graphiql_assets import graphiql_assets_route
from fraiseql.asgi.http import ContextGetter, GraphQLHTTPHandler
from fraiseql.asgi.ws import DEFAULT_INIT_TIMEOUT, DEFAULT_MAX_SUBSCRIPTIONS, websocket_route
from fraiseql.execution.protocol import OperationExecutor
from fraiseql.observability.instrumentation import Instrumentation
from fraiseql.security.auth import Authenticator
from fraiseql.uploads import Uploads

LifespanHook = Callable[[], Awaitable[None] | None]
"""A startup or shutdown callable; coroutine functions are awaited."""


async def _call(hook: LifespanHook) -> None:
    result = hook()
    if inspect.isawaitable(result):
        await result


def lifespan_from_hooks(
    on_startup: Sequence[LifespanHook], on_shutdown: Sequence[LifespanHook]
) -> Lifespan[Starlette]:
    """A lifespan that runs ``on_startup`` in order, serves, then runs ``on_shutdown`` in order.

    A failing startup hook stops the server from starting (the error propagates). Shutdown hooks
    run even when serving ended with an error.
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for hook in on_startup:
            await _call(hook)
        try:
            yield
        finally:
            for hook in on_shutdown:
                await _call(hook)

    return lifespan


def build_asgi_app(
    executor: OperationExecutor,
    *,
    path: str = "/graphql",
    graphiql: GraphiQLOption = True,
    context_getter: ContextGetter | None = None,
    cors: CORSConfig | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    body_timeout: float | None = DEFAULT_BODY_TIMEOUT,
    batching: bool = False,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    csrf_prevention: CSRFPrevention = "auto",
    csrf_required_headers: Iterable[str] = DEFAULT_CSRF_HEADERS,
    csrf_require_header_on_get: bool = False,
    csrf_get_header_names: Iterable[str] | None = None,
    on_startup: Sequence[LifespanHook] = (),
    on_shutdown: Sequence[LifespanHook] = (),
    instrumentation: Instrumentation | None = None,
    routes: Sequence[BaseRoute] = (),
    websocket_init_timeout: float = DEFAULT_INIT_TIMEOUT,
    max_subscriptions_per_connection: int = DEFAULT_MAX_SUBSCRIPTIONS,
    auth: Authenticator | None = None,
    uploads: Uploads | None = None,
) -> Starlette:
    """Build a Starlette application serving GraphQL over HTTP at ``path``.

    GET and POST are served by :class:`GraphQLHTTPHandler`; with ``cors`` set, CORS preflight
    (OPTIONS) requests are answered by Starlette's ``CORSMiddleware``. The WebSocket transport
    will be a ``WebSocketRoute`` at the same ``path``: Starlette dispatches on the scope type,
    so both routes can share the path. ``batching=True`` accepts JSON arrays of up to
    ``max_batch_size`` requests in one POST (see :mod:`fraiseql.asgi.batch`).
    ``instrumentation`` observes every GraphQL request; ``routes`` are served beside it
    (health checks, metrics). An executor that can subscribe (a :class:`fraiseql.Schema`) is
    also served over WebSocket at ``path`` (``graphql-transport-ws``, see
    :mod:`fraiseql.asgi.ws`), with ``websocket_init_timeout`` and
    ``max_subscriptions_per_connection``; the context getter then gets the ``WebSocket``.
    ``csrf_prevention`` and ``csrf_required_headers`` configure the
    CSRF rule (see :class:`GraphQLHTTPHandler`; ``"auto"``: requests with cookies must prove
    they were preflighted); ``csrf_require_header_on_get`` and ``csrf_get_header_names`` are
    their older spellings. ``auth`` authenticates every request and WebSocket before the
    context getter runs (see :class:`GraphQLHTTPHandler` and :mod:`fraiseql.asgi.ws`).
    ``uploads`` (a :class:`fraiseql.Uploads`) accepts file uploads, multipart requests of the
    GraphQL multipart request spec (see :mod:`fraiseql.asgi.uploads`); without it they get 415.
    """
    handler = GraphQLHTTPHandler(
        executor,
        graphiql=graphiql,
        context_getter=context_getter,
        max_body_size=max_body_size,
        body_timeout=body_timeout,
        max_batch_size=max_batch_size if batching else None,
        csrf_prevention=csrf_prevention,
        csrf_required_headers=csrf_required_headers,
        csrf_require_header_on_get=csrf_require_header_on_get,
        csrf_get_header_names=csrf_get_header_names,
        instrumentation=instrumentation,
        auth=auth,
        uploads=uploads,
    )
    # methods=None: every method reaches the handler, which answers 405 in GraphQL form itself.
    all_routes: list[BaseRoute] = [Route(path, handler, name="graphql", include_in_schema=False)]
    websocket = websocket_route(
        executor,
        path,
        context_getter=context_getter,
        init_timeout=websocket_init_timeout,
        max_subscriptions=max_subscriptions_per_connection,
        max_message_size=max_body_size,
        instrumentation=instrumentation,
        auth=auth,
    )
    if websocket is not None:
        all_routes.append(websocket)
    if handler.graphiql:
        all_routes.append(graphiql_assets_route(path))
    all_routes.extend(routes)
    middleware: list[Middleware] = [cors.middleware()] if cors is not None else []
    return FraiseQLApp(
        graphql_path=path,
        graphql_handler=handler,
        websocket_handler=websocket.app if websocket is not None else None,
        routes=all_routes,
        middleware=middleware,
        lifespan=lifespan_from_hooks(tuple(on_startup), tuple(on_shutdown)),
    )
