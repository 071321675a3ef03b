"""``Schema``: the declarations of one API turned into a runnable, printable GraphQL schema."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from typing import Any

import asyncpg
import orjson
from graphql import GraphQLSchema
from graphql import print_schema as print_graphql_schema

from fraiseql.cache.backend import CacheBackend
from fraiseql.cache.memory import MemoryCache
from fraiseql.cache.response_cache import ResponseCache, UserKey, default_user_key
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.db.replicas import ReadReplicas
from fraiseql.execution.executor import Executor
from fraiseql.execution.idempotency import Idempotency, IdempotencyKeys
from fraiseql.execution.outcome import (
    ExecutionResponse,
    GraphQLRequest,
    PreparedOperation,
    RequestError,
)
from fraiseql.execution.plan import PreparedDocumentOperation
from fraiseql.execution.read_your_writes import ReadYourWrites
from fraiseql.execution.subscribe import (
    SubscriptionOperation,
    read_event,
    start_subscription,
    stream_custom,
)
from fraiseql.native.canonical import OUTPUT_FORMATS
from fraiseql.schema.builder import DEFAULT_MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, build_model
from fraiseql.schema.federation import install_federation, subgraph_sdl
from fraiseql.schema.graphql_types import GraphQLTypeFactory
from fraiseql.schema.model import SchemaModel
from fraiseql.security.claims import SessionSettings
from fraiseql.security.limits import QueryLimits
from fraiseql.security.persisted import PersistedQueries
from fraiseql.security.rls import RLSConfigurationError, rls_problems
from fraiseql.subscriptions.events import Event
from fraiseql.subscriptions.hub import DEFAULT_MAX_QUEUED, EventHub
from fraiseql.subscriptions.listener import EventListener
from fraiseql.types.scalars import BUILTIN_SCALARS


def _has_cache_policy(model: SchemaModel) -> bool:
    return any(root.cache is not None for root in model.queries.values())


LISTEN_URL_ENV = "FRAISEQL_LISTEN_DATABASE_URL"
"""Where the event listener connects when not where the pool does (LISTEN needs a session:
behind PgBouncer in transaction mode, point it at PostgreSQL itself)."""

READ_DATABASE_URL_ENV = "FRAISEQL_READ_DATABASE_URL"
"""Read replicas' URLs, separated by commas, when ``Schema(read_database_url=)`` is not given."""

logger = logging.getLogger("fraiseql.schema")


class Schema:
    """A GraphQL schema built from explicit lists of types and queries.

    Nothing is registered globally: two ``Schema`` objects in one process are independent.
    With ``database_url`` (or a :class:`Database`) the schema can execute operations; without
    one it can still be printed and introspected. ``limits`` (depth, aliases, tokens, cost) are
    checked before anything runs; ``production=True`` also turns off introspection, "did you
    mean" suggestions and ``debug``. ``session`` sets tenant claims, the role and the statement
    timeout in every request transaction (see :class:`SessionSettings`); ``persisted_queries``
    registers documents by hash and can restrict the API to them (allow-list mode).
    ``require_rls=True`` applies the startup RLS check of ``@type(require_rls=True)`` to the
    source of every type. ``subscriptions`` are root subscription fields (see
    ``fraiseql.subscription``); each live one holds at most ``subscription_queue_size``
    undelivered responses. ``cache`` is the response cache's backend (default: a
    ``MemoryCache`` once a field or type has a ``CachePolicy``; see ``docs/guides/caching.md``),
    ``cache_user_key`` tells the user of a request for private policies.
    ``prune_documents=False`` makes every auto root field read whole
    documents, instead of leaving in the database the top-level fields that a selection does
    not read when one of them is an object or a list of objects and no kept one is a list of
    objects (see ``docs/guides/WRITING_QUERIES.md``). ``relay_nodes=True`` makes every type with a
    ``sql_source`` and a UUID ``id`` implement Relay's ``Node { nodeId: ID! }`` and adds the
    ``node(nodeId:)`` and ``nodes(nodeIds:)`` queries (see ``docs/guides/WRITING_QUERIES.md``).
    ``read_database_url`` (one URL, a list, or ``FRAISEQL_READ_DATABASE_URL`` with URLs separated
    by commas) or ``read_databases`` are streaming replicas for queries; mutations and
    subscriptions stay on the primary, and a read that sends a mutation's ``X-FraiseQL-LSN``
    back waits up to ``replica_wait`` seconds for a replica to have replayed it, else runs on the
    primary (``read_your_writes`` sets the cookie; see ``docs/deployment/READ_REPLICAS.md``).
    ``federation=True`` makes the schema an Apollo Federation v2 subgraph: every type with a
    ``sql_source`` and a UUID ``id`` is an entity with ``@key(fields: "id")``, and the schema
    gains ``_service { sdl }`` and ``_entities(representations:)`` (see
    ``docs/guides/federation.md``). ``idempotency`` (a :class:`fraiseql.Idempotency`) honours
    ``Idempotency-Key`` on mutations: a retry with the same key gets the first answer back and
    the mutation runs once (see ``docs/guides/WRITING_MUTATIONS.md``).
    """

    def __init__(
        self,
        *,
        types: Iterable[type] = (),
        queries: Sequence[Callable[..., Any]] = (),
        mutations: Sequence[Callable[..., Any]] = (),
        subscriptions: Sequence[Callable[..., Any]] = (),
        database_url: str | None = None,
        database: Database | None = None,
        max_page_size: int = DEFAULT_MAX_PAGE_SIZE,
        default_page_size: int = DEFAULT_PAGE_SIZE,
        document_cache_size: int = 1000,
        limits: QueryLimits | None = None,
        session: SessionSettings | None = None,
        persisted_queries: PersistedQueries | None = None,
        production: bool = False,
        debug: bool = False,
        require_rls: bool = False,
        prune_documents: bool = True,
        subscription_queue_size: int = DEFAULT_MAX_QUEUED,
        cache: CacheBackend | None = None,
        cache_user_key: UserKey = default_user_key,
        relay_nodes: bool = False,
        read_database_url: str | Sequence[str] | None = None,
        read_databases: Sequence[Database] = (),
        replica_wait: float = 0.5,
        read_your_writes: ReadYourWrites | None = None,
        federation: bool = False,
        idempotency: Idempotency | None = None,
    ) -> None:
        self.require_rls = require_rls
        self.model: SchemaModel = build_model(
            types=types,
            queries=queries,
            mutations=mutations,
            subscriptions=subscriptions,
            max_page_size=max_page_size,
            default_page_size=default_page_size,
            relay_nodes=relay_nodes,
        )
        if federation:
            install_federation(self.model, limits or QueryLimits(), default_page_size)
        factory = GraphQLTypeFactory(self.model)
        self.graphql_schema: GraphQLSchema = factory.schema()
        if federation:
            self.model.subgraph_sdl = subgraph_sdl(self.graphql_schema, self.model)
        if database is None and database_url is not None:
            database = Database(PoolSettings.from_env(database_url))
        self.database = database
        serializers = {definition.name: definition.serialize for definition in BUILTIN_SCALARS}
        serializers.update(factory.custom_serializers())
        serializers.update(OUTPUT_FORMATS)
        self.cache: ResponseCache | None = None
        """The response cache, when a field or type has a ``CachePolicy`` or ``cache`` is given."""
        if cache is not None or _has_cache_policy(self.model):
            self.cache = ResponseCache(cache or MemoryCache(), user_key=cache_user_key)
        self.executor = Executor(
            self.model,
            self.graphql_schema,
            database,
            serializers=serializers,
            document_cache_size=document_cache_size,
            limits=limits or (QueryLimits.production() if production else QueryLimits()),
            session_settings=session,
            persisted=persisted_queries,
            debug=debug and not production,
            prune_documents=prune_documents,
            cache=self.cache,
        )
        self.replicas = _read_replicas(database, read_database_url, read_databases, replica_wait)
        """The read replicas queries may run on (``None``: every statement on ``database``)."""
        self.executor.replicas = self.replicas
        if read_your_writes is not None:
            self.executor.read_your_writes = read_your_writes
        self.idempotency = IdempotencyKeys(idempotency) if idempotency is not None else None
        """Idempotency keys of mutations (``fraiseql.Idempotency``), ``None`` when off."""
        self.executor.idempotency = self.idempotency
        self.events: EventHub | None = None
        """The fan-out of database events to auto subscriptions (with a database and some)."""
        self.listener: EventListener | None = None
        """The LISTEN connection feeding :attr:`events`, started by :meth:`open`."""
        follows_events = any(
            root.kind == "subscription" for root in self.model.subscriptions.values()
        )
        if database is not None and follows_events:
            self.events = EventHub(
                self._read_event,
                max_queued=subscription_queue_size,
                max_concurrent_reads=max(1, database.settings.max_size // 2),
            )
        if database is not None and (self.events is not None or self.cache is not None):
            self.listener = EventListener(
                os.environ.get(LISTEN_URL_ENV) or database.settings.dsn,
                self._on_event,
                self._on_reconnect,
            )

    def print_schema(self) -> str:
        """The schema in GraphQL SDL."""
        return print_graphql_schema(self.graphql_schema)

    def prepare(self, request: GraphQLRequest) -> PreparedOperation:
        """Parse, validate and select an operation (see ``OperationExecutor``)."""
        return self.executor.prepare(request)

    def execute(
        self, prepared: PreparedOperation, request: GraphQLRequest, context: dict[str, Any]
    ) -> Coroutine[Any, Any, ExecutionResponse]:
        """Run a prepared operation (see ``OperationExecutor``): await what this returns.

        The executor's coroutine itself, not one awaiting it: one frame less per request.
        """
        return self.executor.execute(prepared, request, context)

    async def run(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Execute a query and return the decoded response (for tests and scripts)."""
        request = GraphQLRequest(query, variables, operation_name)
        try:
            prepared = self.prepare(request)
            response = await self.execute(prepared, request, context or {})
        except RequestError as error:
            return {"errors": error.errors}
        return orjson.loads(response.body)  # type: ignore[no-any-return]

    def subscribe(
        self, prepared: PreparedOperation, request: GraphQLRequest, context: dict[str, Any]
    ) -> AsyncIterator[bytes]:
        """Start a subscription: the response bodies it produces, until closed with ``aclose``.

        Raises ``RequestError`` when it cannot start (see ``start_subscription``). An auto
        subscription waits for database events (the listener runs while the app is open);
        a custom one runs its generator.
        """
        assert isinstance(prepared, PreparedDocumentOperation)
        operation = start_subscription(self.executor, prepared, request, context)
        if operation.entity is None:
            return stream_custom(self.executor, operation)
        if self.events is None:
            raise RuntimeError("this schema has no database to take events from")
        return self.events.subscribe(operation)

    def subscription_counters(self) -> dict[str, tuple[str, str, float]]:
        """What the fan-out and the listener counted, for the metrics endpoint."""
        hub, listener = self.events, self.listener
        if hub is None or listener is None:
            return {}
        return {
            "live": ("gauge", "Live auto subscriptions.", hub.subscriptions),
            "groups": ("gauge", "Groups of subscriptions sharing one read.", hub.groups),
            "events": ("counter", "Database events received.", hub.events),
            "reads": ("counter", "Statements run to read events.", hub.reads),
            "failed_reads": ("counter", "Event reads that failed.", hub.failed_reads),
            "overflows": (
                "counter",
                "Subscriptions closed because their subscriber fell behind.",
                hub.overflows,
            ),
            "listener_connected": (
                "gauge",
                "1 while the LISTEN connection is up.",
                1 if listener.backend_pid is not None else 0,
            ),
            "listener_reconnections": (
                "counter",
                "Times the LISTEN connection was lost and opened again.",
                listener.reconnections,
            ),
            "malformed_notifications": (
                "counter",
                "Notifications on the events channel that were not events.",
                listener.malformed,
            ),
        }

    def _on_event(self, event: Event) -> None:
        if self.events is not None:
            self.events.publish(event)
        if self.cache is not None:
            self.cache.on_event(event)

    def _on_reconnect(self) -> None:
        if self.events is not None:
            self.events.missed()
        if self.cache is not None:
            # Changes made while nobody listened were not evicted: start over.
            self.cache.clear_soon()

    async def _read_event(self, operation: SubscriptionOperation, ids: list[str]) -> list[bytes]:
        return await read_event(self.executor, operation, ids)

    async def open(self) -> None:
        """Open the database pool and check RLS for the types that require it.

        When the database cannot be reached, this returns anyway: requests are answered with
        503 and ``Retry-After`` while the pool is retried in the background, and the RLS check
        runs when it first comes up (a failing check is logged at CRITICAL level and the
        requests keep getting 503). With the database reachable, a failing RLS check raises
        ``RLSConfigurationError`` here, which stops the application's startup.
        """
        if self.database is None:
            return
        await self.database.open_in_background(self._on_open)
        if self.replicas is not None:
            await self.replicas.open()
        if self.listener is not None:
            self.listener.start()
        if self.idempotency is not None:
            self.idempotency.start(self.database)

    async def _on_open(self, pool: asyncpg.Pool) -> None:
        if self.idempotency is not None:
            await self.idempotency.check(pool)
        await self._check_read_helpers(pool)
        await self._check_rls(pool)

    async def _check_read_helpers(self, pool: asyncpg.Pool) -> None:
        """Read through plain casts when the database lacks the helpers of ``CONTRACT_SQL``."""
        functions = sorted(set(self.model.casts.values()))
        if not functions:
            return
        async with pool.acquire() as connection:
            found = await connection.fetchval(
                "SELECT count(*) FROM unnest($1::text[]) AS f(name) "
                "WHERE to_regprocedure(f.name || '(text)') IS NOT NULL",
                functions,
            )
        if found != len(functions):
            logger.warning(
                "the database lacks %s (fraiseql.db.commands.CONTRACT_SQL creates it): DateTime "
                "filters and orderings use plain casts, which no index can serve",
                ", ".join(functions),
            )
            self.model.casts.clear()

    async def _check_rls(self, pool: asyncpg.Pool) -> None:
        sources = sorted(
            {
                model.definition.sql_source
                for model in self.model.types.values()
                if (self.require_rls or model.definition.require_rls)
                and model.definition.sql_source
            }
        )
        if not sources:
            return
        async with pool.acquire() as connection:
            role = self.executor.session_settings.role if self.executor.session_settings else None
            role = role or await connection.fetchval("SELECT current_user")
            problems = await rls_problems(connection, sources, role)
        if problems:
            raise RLSConfigurationError(
                "row-level security is required but not enforced: " + "; ".join(problems)
            )

    async def close(self) -> None:
        """End the subscriptions, stop listening, close the database pool."""
        if self.idempotency is not None:
            await self.idempotency.stop()
        if self.events is not None:
            await self.events.close()
        if self.listener is not None:
            await self.listener.stop()
        if self.cache is not None:
            await self.cache.close()
        if self.replicas is not None:
            await self.replicas.close()
        if self.database is not None:
            await self.database.close()


def _read_replicas(
    database: Database | None,
    urls: str | Sequence[str] | None,
    databases: Sequence[Database],
    wait: float,
) -> ReadReplicas | None:
    """The schema's read replicas, from URLs, ready pools, or ``FRAISEQL_READ_DATABASE_URL``."""
    if urls is None and not databases:
        urls = os.environ.get(READ_DATABASE_URL_ENV) or None
    listed = urls.split(",") if isinstance(urls, str) else list(urls or ())
    listed = [url.strip() for url in listed if url.strip()]
    if not listed and not databases:
        return None
    if database is None:
        raise ValueError("read replicas need a primary database (database_url= or database=)")
    pools = [*databases, *(Database(PoolSettings.from_env(url)) for url in listed)]
    return ReadReplicas(pools, wait=wait)
