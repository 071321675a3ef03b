"""``create_app``: a schema served over HTTP as one ASGI application."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from fraiseql.asgi.app import LifespanHook, build_asgi_app
from fraiseql.asgi.batch import DEFAULT_MAX_BATCH_SIZE
from fraiseql.asgi.cors import CORSConfig
from fraiseql.asgi.csrf import DEFAULT_CSRF_HEADERS, CSRFPrevention
from fraiseql.asgi.graphiql import GraphiQLOption
from fraiseql.asgi.http import ContextGetter
from fraiseql.asgi.ws import DEFAULT_INIT_TIMEOUT, DEFAULT_MAX_SUBSCRIPTIONS
from fraiseql.observability.config import InstalledObservability, Observability
from fraiseql.observability.health import DEFAULT_HEALTH_PATHS, health_routes
from fraiseql.schema.schema import Schema
from fraiseql.security.auth import Authenticator, bind_auth
from fraiseql.uploads import Uploads


def lifespan_hooks(
    schema: Schema, observed: InstalledObservability
) -> tuple[tuple[LifespanHook, ...], tuple[LifespanHook, ...]]:
    """Startup and shutdown hooks of an app around ``schema``'s pool.

    The pool opens first and closes last, so the observability hooks (the error recorder's
    writer) run while it is open.
    """
    return (schema.open, *observed.on_startup), (*observed.on_shutdown, schema.close)


def create_app(
    *,
    types: Iterable[type] = (),
    queries: Sequence[Callable[..., Any]] = (),
    mutations: Sequence[Callable[..., Any]] = (),
    subscriptions: Sequence[Callable[..., Any]] = (),
    schema: Schema | None = None,
    database_url: str | None = None,
    path: str = "/graphql",
    graphiql: GraphiQLOption = True,
    context_getter: ContextGetter | None = None,
    cors: CORSConfig | None = None,
    max_body_size: int = 1 << 20,
    body_timeout: float | None = 10.0,
    batching: bool = False,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    csrf_prevention: CSRFPrevention = "auto",
    csrf_required_headers: Iterable[str] = DEFAULT_CSRF_HEADERS,
    csrf_require_header_on_get: bool = False,
    debug: bool = False,
    observability: Observability | None = None,
    health_paths: tuple[str, str] | None = DEFAULT_HEALTH_PATHS,
    routes: Sequence[BaseRoute] = (),
    websocket_init_timeout: float = DEFAULT_INIT_TIMEOUT,
    max_subscriptions_per_connection: int = DEFAULT_MAX_SUBSCRIPTIONS,
    auth: Authenticator | None = None,
    uploads: Uploads | None = None,
    **schema_options: Any,
) -> Starlette:
    """Build the ASGI app of a schema: GraphQL at ``path``, the pool opened at startup.

    Give either a ready :class:`Schema` or the ``types``/``queries``/``mutations`` lists (plus
    ``database_url``, else ``FRAISEQL_DATABASE_URL``) to build one. ``batching=True`` accepts
    JSON arrays of up to ``max_batch_size`` requests in one POST (see ``fraiseql.asgi.batch``).
    ``observability`` turns on request logs, metrics, tracing and error recording;
    ``health_paths`` are the liveness and readiness endpoints (``None``: none); ``routes``
    are served beside GraphQL (pages, webhooks), before the health and metrics routes.
    ``subscriptions`` are served over WebSocket (``graphql-transport-ws``) and SSE at
    ``path``: a client has ``websocket_init_timeout`` seconds to send ``connection_init``
    and at most ``max_subscriptions_per_connection`` operations running at once.
    ``csrf_prevention`` says when a request a browser could send cross-site without a CORS
    preflight (a GET) must carry one of ``csrf_required_headers``: ``"auto"`` (the default)
    when it has cookies, ``"always"``, or ``"off"`` (see ``fraiseql.asgi.csrf``);
    ``csrf_require_header_on_get=True`` is the older spelling of ``"always"``.
    ``auth`` (such as :class:`fraiseql.JWTAuth`) authenticates every request, SSE stream and
    WebSocket; the caller is ``context["auth"]`` and the schema's session settings take the
    claims and the role from it (see ``fraiseql.security.auth.session_with_auth``).
    ``uploads`` (a :class:`fraiseql.Uploads`) accepts file uploads as multipart requests (the
    GraphQL multipart request spec) for ``fraiseql.Upload`` arguments; off by default (415).
    """
    if schema is not None and (
        types or queries or mutations or subscriptions or database_url or debug or schema_options
    ):
        raise TypeError(
            "create_app: give either schema= or the options to build one "
            "(types, queries, mutations, database_url, debug, ...), not both"
        )
    if schema is None:
        from fraiseql.db.pool import Database, PoolSettings

        database = schema_options.pop("database", None)
        if database is None:
            # Every setting read from the environment reaches the pool, not only the DSN.
            database = Database(PoolSettings.from_env(database_url))
        elif database_url is not None:
            raise TypeError("create_app: give database_url= or database=, not both")
        schema = Schema(
            types=types,
            queries=queries,
            mutations=mutations,
            subscriptions=subscriptions,
            database=database,
            debug=debug,
            **schema_options,
        )
    if auth is not None:
        bind_auth(schema)
    observed = observability.install(schema) if observability else InstalledObservability()
    health = health_routes(schema.database, health_paths) if health_paths else []
    on_startup, on_shutdown = lifespan_hooks(schema, observed)
    app = build_asgi_app(
        schema,
        path=path,
        graphiql=graphiql,
        context_getter=context_getter,
        cors=cors,
        max_body_size=max_body_size,
        body_timeout=body_timeout,
        batching=batching,
        max_batch_size=max_batch_size,
        csrf_prevention=csrf_prevention,
        csrf_required_headers=csrf_required_headers,
        csrf_require_header_on_get=csrf_require_header_on_get,
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        instrumentation=observed.instrumentation,
        routes=[*routes, *health, *observed.routes],
        websocket_init_timeout=websocket_init_timeout,
        max_subscriptions_per_connection=max_subscriptions_per_connection,
        auth=auth,
        uploads=uploads,
    )
    app.state.fraiseql_schema = schema
    app.state.fraiseql_observability = observed
    return app
