"""FastAPI adapter: the GraphQL endpoint as an ``APIRouter`` (needs the ``fastapi`` extra).

The router carries the same :class:`~fraiseql.asgi.http.GraphQLHTTPHandler` as the Starlette
application. Application-wide concerns stay with the FastAPI application: add CORS with
``app.add_middleware`` (or ``CORSConfig.middleware()``) and startup/shutdown with its lifespan.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from starlette.routing import Route

from fraiseql.asgi.batch import DEFAULT_MAX_BATCH_SIZE
from fraiseql.asgi.body import DEFAULT_MAX_BODY_SIZE
from fraiseql.asgi.http import DEFAULT_CSRF_HEADERS, ContextGetter, GraphQLHTTPHandler
from fraiseql.execution.protocol import OperationExecutor

if TYPE_CHECKING:
    from fastapi import APIRouter


def graphql_router(
    executor: OperationExecutor,
    *,
    path: str = "/graphql",
    graphiql: bool = True,
    context_getter: ContextGetter | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    batching: bool = False,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    csrf_require_header_on_get: bool = False,
    csrf_get_header_names: Iterable[str] = DEFAULT_CSRF_HEADERS,
) -> APIRouter:
    """Build an ``APIRouter`` serving GraphQL over HTTP at ``path``; include it in your app.

    Raises ``ImportError`` with installation advice when FastAPI is not installed.
    """
    try:
        from fastapi import APIRouter
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "fraiseql.fastapi needs FastAPI: install it with `pip install 'fraiseql[fastapi]'`."
        ) from exc
    handler = GraphQLHTTPHandler(
        executor,
        graphiql=graphiql,
        context_getter=context_getter,
        max_body_size=max_body_size,
        max_batch_size=max_batch_size if batching else None,
        csrf_require_header_on_get=csrf_require_header_on_get,
        csrf_get_header_names=csrf_get_header_names,
    )
    router = APIRouter()
    # A plain Starlette route to an ASGI app, with no method list: every method reaches the
    # handler, which answers 405 itself. FastAPI copies such routes on ``include_router``.
    router.routes.append(Route(path, handler, name="graphql", include_in_schema=False))
    return router
