"""FastAPI adapter: the GraphQL endpoint as an ``APIRouter`` (needs the ``fastapi`` extra).

The router carries the same :class:`~fraiseql.asgi.http.GraphQLHTTPHandler` as the Starlette
application, instrumented the same way when given an installed
:class:`~fraiseql.observability.Observability`, with its metrics route and, on request, the
health routes. Application-wide concerns stay with the FastAPI application: add CORS with
``app.add_middleware`` (or ``CORSConfig.middleware()``), and pass :func:`lifespan` (or a
lifespan of your own that does the same) to open the pool and start the observability hooks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from starlette.routing import Route
from starlette.types import Lifespan

from fraiseql.app import lifespan_hooks
from fraiseql.asgi.app import lifespan_from_hooks
from fraiseql.asgi.batch import DEFAULT_MAX_BATCH_SIZE
from fraiseql.asgi.body import DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY_SIZE
from fraiseql.asgi.csrf import DEFAULT_CSRF_HEADERS, CSRFPrevention
from fraiseql.asgi.graphiql import GraphiQLOption
from fraiseql.asgi.graphiql_assets import graphiql_assets_route
from fraiseql.asgi.http import ContextGetter, GraphQLHTTPHandler
from fraiseql.asgi.ws import DEFAULT_INIT_TIMEOUT, DEFAULT_MAX_SUBSCRIPTIONS, websocket_route
from fraiseql.execution.protocol import OperationExecutor
from fraiseql.observability.config import InstalledObservability
from fraiseql.observability.health import health_routes
from fraiseql.schema.schema import Schema
from fraiseql.security.auth import Authenticator, bind_auth
from fraiseql.uploads import Uploads

if TYPE_CHECKING:
    from fastapi import APIRouter


def graphql_router(
    executor: OperationExecutor,
    *,
    path: str = "/graphql",
    graphiql: GraphiQLOption = True,
    context_getter: ContextGetter | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    body_timeout: float | None = DEFAULT_BODY_TIMEOUT,
    batching: bool = False,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    csrf_prevention: CSRFPrevention = "auto",
    csrf_required_headers: Iterable[str] = DEFAULT_CSRF_HEADERS,
    csrf_require_header_on_get: bool = False,
    csrf_get_header_names: Iterable[str] | None = None,
    observability: InstalledObservability | None = None,
    health_paths: tuple[str, str] | None = None,
    websocket_init_timeout: float = DEFAULT_INIT_TIMEOUT,
    max_subscriptions_per_connection: int = DEFAULT_MAX_SUBSCRIPTIONS,
    auth: Authenticator | None = None,
    uploads: Uploads | None = None,
) -> APIRouter:
    """Build an ``APIRouter`` serving GraphQL over HTTP at ``path``; include it in your app.

    ``observability`` is what ``Observability(...).install(schema)`` returned: every request is
    then observed (logs, metrics, tracing, error records) and its routes (``/metrics``) are
    served beside ``path``; its startup and shutdown hooks are run by :func:`lifespan`.
    ``health_paths`` adds the liveness and readiness routes (for example
    ``fraiseql.observability.health.DEFAULT_HEALTH_PATHS``), readiness checking the
    executor's database. ``csrf_prevention`` and ``csrf_required_headers`` configure the CSRF
    rule as in :class:`~fraiseql.asgi.http.GraphQLHTTPHandler` (``"auto"`` by default; the two
    older ``csrf_*`` options are still accepted). A :class:`~fraiseql.Schema` with
    subscriptions is served over WebSocket (``graphql-transport-ws``) at ``path`` too, and over
    SSE by the HTTP route. ``auth`` (such as :class:`fraiseql.JWTAuth`) authenticates every
    request and WebSocket, and the executor's session settings take the claims and the role
    from the caller, as with :func:`fraiseql.create_app`. ``uploads`` accepts file uploads
    (multipart requests) as ``create_app`` does. Raises ``ImportError`` with
    installation advice when FastAPI is not installed.
    """
    try:
        from fastapi import APIRouter
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "fraiseql.fastapi needs FastAPI: install it with `pip install 'fraiseql[fastapi]'`."
        ) from exc
    if auth is not None:
        bind_auth(executor)
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
        instrumentation=observability.instrumentation if observability else None,
        auth=auth,
        uploads=uploads,
    )
    router = APIRouter()
    # A plain Starlette route to an ASGI app, with no method list: every method reaches the
    # handler, which answers 405 itself. FastAPI copies such routes on ``include_router``.
    router.routes.append(Route(path, handler, name="graphql", include_in_schema=False))
    websocket = websocket_route(
        executor,
        path,
        context_getter=context_getter,
        init_timeout=websocket_init_timeout,
        max_subscriptions=max_subscriptions_per_connection,
        max_message_size=max_body_size,
        instrumentation=observability.instrumentation if observability else None,
        auth=auth,
    )
    if websocket is not None:
        router.routes.append(websocket)
    if handler.graphiql:  # the page's files, at <path>/_graphiql/<name>
        router.routes.append(graphiql_assets_route(path))
    if health_paths is not None:
        router.routes.extend(health_routes(getattr(executor, "database", None), health_paths))
    if observability is not None:
        router.routes.extend(observability.routes)
    return router


def lifespan(schema: Schema, observability: InstalledObservability | None = None) -> Lifespan[Any]:
    """A FastAPI ``lifespan=``: open ``schema``'s pool, then start ``observability``'s hooks.

    At shutdown the hooks stop first (the error recorder drains its queue), then the pool
    closes; the same hooks, in the same order, as :func:`fraiseql.create_app`.
    """
    on_startup, on_shutdown = lifespan_hooks(schema, observability or InstalledObservability())
    return lifespan_from_hooks(on_startup, on_shutdown)
