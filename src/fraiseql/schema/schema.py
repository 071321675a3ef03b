"""``Schema``: the declarations of one API turned into a runnable, printable GraphQL schema."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import asyncpg
import orjson
from graphql import GraphQLSchema
from graphql import print_schema as print_graphql_schema

from fraiseql.db.pool import Database, PoolSettings
from fraiseql.execution.executor import Executor
from fraiseql.execution.outcome import (
    ExecutionResponse,
    GraphQLRequest,
    PreparedOperation,
    RequestError,
)
from fraiseql.native.canonical import OUTPUT_FORMATS
from fraiseql.schema.builder import DEFAULT_MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, build_model
from fraiseql.schema.graphql_types import GraphQLTypeFactory
from fraiseql.schema.model import SchemaModel
from fraiseql.security.claims import SessionSettings
from fraiseql.security.limits import QueryLimits
from fraiseql.security.persisted import PersistedQueries
from fraiseql.security.rls import RLSConfigurationError, rls_problems
from fraiseql.types.scalars import BUILTIN_SCALARS

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
    source of every type. ``prune_documents=False`` makes every auto root field read whole
    documents, instead of leaving in the database the top-level fields that a selection does
    not read when one of them is an object or a list of objects and no kept one is a list of
    objects (see ``docs/guides/queries.md``).
    """

    def __init__(
        self,
        *,
        types: Iterable[type] = (),
        queries: Sequence[Callable[..., Any]] = (),
        mutations: Sequence[Callable[..., Any]] = (),
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
    ) -> None:
        self.require_rls = require_rls
        self.model: SchemaModel = build_model(
            types=types,
            queries=queries,
            mutations=mutations,
            max_page_size=max_page_size,
            default_page_size=default_page_size,
        )
        factory = GraphQLTypeFactory(self.model)
        self.graphql_schema: GraphQLSchema = factory.schema()
        if database is None and database_url is not None:
            database = Database(PoolSettings.from_env(database_url))
        self.database = database
        serializers = {definition.name: definition.serialize for definition in BUILTIN_SCALARS}
        serializers.update(factory.custom_serializers())
        serializers.update(OUTPUT_FORMATS)
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
        )

    def print_schema(self) -> str:
        """The schema in GraphQL SDL."""
        return print_graphql_schema(self.graphql_schema)

    def prepare(self, request: GraphQLRequest) -> PreparedOperation:
        """Parse, validate and select an operation (see ``OperationExecutor``)."""
        return self.executor.prepare(request)

    async def execute(
        self, prepared: PreparedOperation, request: GraphQLRequest, context: dict[str, Any]
    ) -> ExecutionResponse:
        """Run a prepared operation (see ``OperationExecutor``)."""
        return await self.executor.execute(prepared, request, context)

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

    async def _on_open(self, pool: asyncpg.Pool) -> None:
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
        """Close the database pool."""
        if self.database is not None:
            await self.database.close()
