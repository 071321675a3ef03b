"""The one execution path: prepare (cached) → plan (cached) → resolve root fields → build bytes."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

import asyncpg
import orjson
from graphql import GraphQLError, GraphQLSchema, execute
from graphql.execution.values import get_argument_values

from fraiseql.cache.response_cache import ResponseCache
from fraiseql.db import session_state
from fraiseql.db.pool import Database
from fraiseql.db.replicas import ReadReplicas
from fraiseql.db.repository import QueryRepository
from fraiseql.db.session import RequestSession, take_connection
from fraiseql.db.sqlstate import RetryableTransactionError, data_exception_text
from fraiseql.execution.aggregates import fetch_aggregate
from fraiseql.execution.cached import cached_read, invalidate_written
from fraiseql.execution.document_cache import DocumentCache
from fraiseql.execution.error_bounds import bound_errors
from fraiseql.execution.errors import FraiseQLError, format_exception, format_graphql_error
from fraiseql.execution.federation import fetch_federation
from fraiseql.execution.idempotency import IdempotencyKeys
from fraiseql.execution.info import Info
from fraiseql.execution.mutations import (
    ENTITY_JSON,
    MutateHelperMissingError,
    payload_json,
    run_custom_mutation,
    run_mutation,
    with_entity,
)
from fraiseql.execution.outcome import (
    ExecutionResponse,
    GraphQLRequest,
    PreparedOperation,
    RequestError,
    ServiceUnavailable,
)
from fraiseql.execution.plan import OperationPlan, PreparedDocumentOperation, RootPlan
from fraiseql.execution.read_your_writes import PRIMARY, ReadYourWrites
from fraiseql.execution.relay import fetch_node
from fraiseql.execution.resolver_pass import ResolverPass
from fraiseql.execution.root_fields import auto_source, auto_statement, fetch_auto, resolve_custom
from fraiseql.execution.shapes import FieldPlan
from fraiseql.native import active_builder
from fraiseql.native.builder import PYTHON_BUILDER, Rendered, parse_nodes
from fraiseql.native.projector import NullBubble, Projector, materialize
from fraiseql.observability import hooks
from fraiseql.observability.record import CURRENT
from fraiseql.schema.model import RootFieldModel, SchemaModel
from fraiseql.security.claims import ClaimsError, SessionSettings
from fraiseql.security.input_lists import variable_list_errors
from fraiseql.security.limits import QueryLimits
from fraiseql.security.persisted import PersistedQueries

logger = logging.getLogger("fraiseql.execution")

_BUILT_KINDS = frozenset({"one", "list", "connection"})
"""Auto root fields whose read-model JSON the response builder renders (no resolver, no denial)."""


def _request_error(message: str, code: str) -> RequestError:
    return RequestError([{"message": message, "extensions": {"code": code}}])


class Executor:
    """Runs operations of one schema; implements the transports' ``OperationExecutor``."""

    def __init__(
        self,
        model: SchemaModel,
        schema: GraphQLSchema,
        database: Database | None,
        *,
        serializers: Mapping[str, Callable[[Any], Any]],
        document_cache_size: int = 1000,
        limits: QueryLimits | None = None,
        session_settings: SessionSettings | None = None,
        persisted: PersistedQueries | None = None,
        debug: bool = False,
        prune_documents: bool = True,
        cache: ResponseCache | None = None,
    ) -> None:
        self.model = model
        self.schema = schema
        self.database = database
        self.serializers = serializers
        root_sizes = {name: root.max_page_size for name, root in model.queries.items()}
        self.documents = DocumentCache(
            schema, max_size=document_cache_size, limits=limits, root_sizes=root_sizes
        )
        self.debug = debug
        self.builder = active_builder()
        self.mutation_attempts = 3
        self.session_settings = session_settings
        self.persisted = persisted
        self.prune_documents = prune_documents
        self.fold_mutations = True
        """Run a lone auto mutation as one statement; off once the database lacks the helper."""
        self.cache = cache
        """The response cache (for operations whose fields all have a ``CachePolicy``)."""
        self.replicas: ReadReplicas | None = None
        """Read replicas for queries (mutations and subscriptions use ``database``)."""
        self.read_your_writes = ReadYourWrites()
        """How mutations hand out their log position and reads send it back (with replicas)."""
        self.idempotency: IdempotencyKeys | None = None
        """Idempotency keys of mutations (``Schema(idempotency=...)``), ``None``: not honoured."""

    # -- prepare -------------------------------------------------------------------------------

    def prepare(self, request: GraphQLRequest) -> PreparedOperation:
        """Parse and validate (cached), then select the operation."""
        query = request.query
        if self.persisted is not None:
            query = self.persisted.resolve(request)
        if not isinstance(query, str) or not query.strip():
            raise _request_error("Must provide a query string.", "BAD_REQUEST")
        record = CURRENT.get()
        if record is None:
            entry = self.documents.get(query)
        else:
            record.phase_start("parse")
            hits = self.documents.hits
            entry = self.documents.get(query)
            record.phase_end("parse")
            record.instrumentation.describe(record, query, self.documents.hits > hits)
        if entry.errors:
            raise RequestError(entry.errors)
        if self.persisted is not None:
            self.persisted.register(request, query)  # APQ: only documents that validate
        name = request.operation_name
        prepared = entry.prepared.get(name)
        if prepared is not None:
            return prepared  # type: ignore[no-any-return]
        if name is None:
            if len(entry.operations) != 1:
                raise _request_error(
                    "Must provide operation name if query contains multiple operations.",
                    "BAD_REQUEST",
                )
            operation = next(iter(entry.operations.values()))
        else:
            found = entry.operations.get(name)
            if found is None:
                raise _request_error(f"Unknown operation named '{name}'.", "BAD_REQUEST")
            operation = found
        prepared = PreparedDocumentOperation(operation, entry.fragments)
        entry.prepared[name] = prepared
        return prepared

    # -- execute -------------------------------------------------------------------------------

    async def execute(
        self,
        prepared: PreparedOperation,
        request: GraphQLRequest,
        context: dict[str, Any],
    ) -> ExecutionResponse:
        """Run a prepared operation; the response is complete JSON bytes."""
        assert isinstance(prepared, PreparedDocumentOperation)
        is_mutation = prepared.operation_type == "mutation"
        if not is_mutation and prepared.operation_type != "query":
            raise _request_error(
                f"{prepared.operation_type.capitalize()} operations are not supported "
                "by this schema.",
                "OPERATION_NOT_SUPPORTED",
            )
        record = CURRENT.get()
        if record is not None:
            name = prepared.operation.name
            record.instrumentation.executing(
                record,
                name.value if name else None,
                prepared.operation_type,
                request.variables,
                context,
            )
        roots = self.model.mutations if is_mutation else self.model.queries
        coerced, plan, settings = self.begin(prepared, request, context, roots)
        if not is_mutation:
            if self.cache is not None and plan.cache_policy is not None:
                return await cached_read(
                    self, self.cache, prepared, plan, request, coerced, context, settings
                )
            if self.replicas is None:  # one coroutine less than through read()
                lone = plan.lone_read
                if lone is not None and record is None and self._alone(settings):
                    return await self._read_alone(lone, coerced, settings)
                return await self._read_on(
                    self.database, prepared, plan, request, coerced, context, settings
                )
            return await self.read(prepared, plan, request, coerced, context, settings)
        report_lsn = self.replicas is not None
        keyed = None
        if self.idempotency is not None:
            keyed = self.idempotency.keyed(prepared, request, context, settings)
        for _attempt in range(self.mutation_attempts):
            # A key is claimed and its answer stored in the mutation's own transaction, which
            # the one statement of fraiseql_mutate cannot hold.
            folded = keyed is None and self._folds(plan, settings)
            try:
                async with RequestSession(
                    self.database,
                    readonly=False,
                    settings=settings,
                    folded=folded,
                    report_lsn=report_lsn,
                ) as session:
                    repository = QueryRepository(self.model, session)
                    if keyed is None:
                        response = await self._run(
                            prepared, plan, request, coerced, context, repository
                        )
                    else:
                        response = await keyed.run(
                            session,
                            functools.partial(
                                self._run, prepared, plan, request, coerced, context, repository
                            ),
                        )
                if self.cache is not None:
                    await invalidate_written(self.cache, plan)
                if session.commit_lsn is not None:
                    self.read_your_writes.stamp(response, session.commit_lsn, context)
                return response
            except RetryableTransactionError:
                logger.info("mutation transaction lost a race; running it again")
            except MutateHelperMissingError:
                # The statement failed before doing anything: run it the older way, and from
                # now on (the helper comes with CONTRACT_SQL; loading it again adds it).
                logger.warning(
                    "the database has no fraiseql_mutate (run fraiseql.db.commands.CONTRACT_SQL "
                    "again for one-round-trip mutations); using a request transaction"
                )
                self.fold_mutations = False
        hooks.request_refused("TRANSACTION_CONFLICT", "mutation lost every retry to concurrency")
        return ExecutionResponse(
            body=orjson.dumps(
                {
                    "errors": [
                        {
                            "message": "The database could not complete the mutation because "
                            "of concurrent changes; try again.",
                            "extensions": {"code": "TRANSACTION_CONFLICT"},
                        }
                    ],
                    "data": None,
                }
            ),
            has_errors=True,
            data_is_null=True,
        )

    async def read(
        self,
        prepared: PreparedDocumentOperation,
        plan: OperationPlan,
        request: GraphQLRequest,
        coerced: Any,
        context: dict[str, Any],
        settings: list[tuple[str, str]] | None,
    ) -> ExecutionResponse:
        """Run a planned query: one session (one statement without a transaction if it can).

        With read replicas the query runs on one of them when it can (see
        :meth:`ReadReplicas.choose`), else, or when the replica fails it, on the primary.
        """
        replicas = self.replicas
        if replicas is not None:
            position = self.read_your_writes.min_position(context)
            replica = None if position == PRIMARY else await replicas.choose(position)
            if replica is not None:
                try:
                    return await self._read_on(
                        replica.database, prepared, plan, request, coerced, context, settings
                    )
                except ServiceUnavailable as error:
                    replicas.failed(replica, error)
        return await self._read_on(
            self.database, prepared, plan, request, coerced, context, settings
        )

    async def _read_on(
        self,
        database: Database | None,
        prepared: PreparedDocumentOperation,
        plan: OperationPlan,
        request: GraphQLRequest,
        coerced: Any,
        context: dict[str, Any],
        settings: list[tuple[str, str]] | None,
    ) -> ExecutionResponse:
        async with RequestSession(
            database, transactional=not plan.single_statement, settings=settings
        ) as session:
            repository = QueryRepository(self.model, session)
            return await self._run(prepared, plan, request, coerced, context, repository)

    def _alone(self, settings: list[tuple[str, str]] | None) -> bool:
        """Whether a lone read can skip the request session (see :meth:`_read_alone`).

        Settings need the session's transaction, unless the pool keeps them on connections.
        """
        database = self.database
        return database is not None and (not settings or database.settings.keep_settings)

    async def _read_alone(
        self,
        root: RootPlan,
        variables: Any,
        settings: list[tuple[str, str]] | None,
    ) -> ExecutionResponse:
        """An operation that is one plain auto read: its statement on a connection of its own.

        What :meth:`_read_on` does for it, without the request session and repository around
        the one statement (their locks, lazy transaction and resolver context have nothing to
        do here): the same statement, errors and bytes, with a third of the Python.
        """
        database = self.database
        model = root.model
        assert database is not None and model is not None and root.shape is not None
        errors: list[dict[str, Any]] = []
        value: bytes | None
        try:
            arguments = root.cached_arguments
            if arguments is None:
                assert root.definition is not None
                arguments = get_argument_values(root.definition, root.nodes[0], variables)
                root.remember_arguments(arguments)
            statement = auto_statement(self.model, model, root, arguments)
            keep = database.settings.keep_settings
            connection = await take_connection(database, for_request=keep)
            try:
                if keep:
                    await session_state.apply(
                        connection, settings or [], database.settings.statement_timeout_ms
                    )
                if model.kind == "one":
                    source = await connection.fetchval(statement.sql, *statement.params)
                else:
                    rows = await connection.fetch(statement.sql, *statement.params)
                    source = auto_source(model.kind, statement, rows)
            finally:
                if not database.release_now(connection):
                    await database.release(connection)
        except Exception as error:
            try:
                value = await self._failed(error, root, None, errors)
            except NullBubble:
                value = None
        else:
            try:
                value = self._built(root, model.kind, source, errors)
            except NullBubble:
                value = None
        data = b"null" if value is None else b"{" + root.member_prefix + value + b"}"
        return self._response(data, errors)

    def begin(
        self,
        prepared: PreparedDocumentOperation,
        request: GraphQLRequest,
        context: dict[str, Any],
        roots: Mapping[str, RootFieldModel],
    ) -> tuple[Any, OperationPlan, list[tuple[str, str]] | None]:
        """What every operation starts with: its variables coerced, its plan, its settings.

        Raises ``RequestError`` for variables that do not coerce (or hold oversized lists) and
        for claims that cannot be database settings.
        """
        record = CURRENT.get()
        oversized = variable_list_errors(request.variables, self.documents.limits.max_list_length)
        if oversized:
            raise RequestError(oversized)
        coerced = prepared.coerce_variables(self.schema, request.variables)
        if isinstance(coerced, list):
            raise RequestError([format_graphql_error(e, "BAD_USER_INPUT") for e in coerced])
        if record is not None:
            record.phase_start("plan")
        plan = prepared.plan(
            self.schema, roots, self.serializers, coerced.coerced, prune=self.prune_documents
        )
        if record is not None:
            record.phase_end("plan")
        settings = None
        if self.session_settings is not None:
            try:
                settings = self.session_settings.settings_for(context)
            except ClaimsError as error:
                raise _request_error(str(error), "INVALID_CLAIMS") from None
        return coerced, plan, settings

    def _folds(self, plan: OperationPlan, settings: list[tuple[str, str]] | None) -> bool:
        """Whether the mutation runs as one statement that carries the request's settings.

        A statement timeout is armed when a statement starts, so one set inside the statement
        would not bound it: with one, the request keeps its transaction.
        """
        return (
            self.fold_mutations
            and plan.single_auto_mutation
            and not any(name == "statement_timeout" for name, _ in settings or ())
        )

    async def _run(
        self,
        prepared: PreparedDocumentOperation,
        plan: OperationPlan,
        request: GraphQLRequest,
        variables: Any,
        context: dict[str, Any],
        repository: QueryRepository,
    ) -> ExecutionResponse:
        members: list[bytes] | None = []
        errors: list[dict[str, Any]] = []
        introspected = self._introspect(plan, request, errors)
        dumps = orjson.dumps
        for root in plan.roots:
            if root.name == "__typename":
                value = dumps(plan.root_type_name)
            elif root.model is None:
                value = dumps(introspected.get(root.key) if introspected else None)
            else:
                try:
                    value = await self._root_value(
                        root,
                        variables,
                        context,
                        prepared,
                        repository,
                        errors,
                        own_savepoint=plan.mutation_count > 1,
                    )
                except NullBubble:
                    members = None
                    break
            assert members is not None
            members.append(root.member_prefix + value)
        data = b"null" if members is None else b"{" + b",".join(members) + b"}"
        return self._response(data, errors)

    @staticmethod
    def _response(data: bytes, errors: list[dict[str, Any]]) -> ExecutionResponse:
        """The response of an operation: its ``data`` JSON and its field errors (bounded)."""
        if not errors:
            return ExecutionResponse(body=b'{"data":' + data + b"}", data_is_null=data == b"null")
        errors = bound_errors(errors)
        record = CURRENT.get()
        if record is not None:
            record.instrumentation.response_errors(record, errors)
        body = b'{"errors":' + orjson.dumps(errors) + b',"data":' + data + b"}"
        return ExecutionResponse(body=body, has_errors=True, data_is_null=data == b"null")

    def _introspect(
        self, plan: OperationPlan, request: GraphQLRequest, errors: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        if plan.introspection is None:
            return None
        result = execute(self.schema, plan.introspection, variable_values=request.variables)
        if hasattr(result, "__await__"):  # never: introspection resolvers are synchronous
            raise RuntimeError("introspection returned an awaitable")
        errors.extend(format_graphql_error(e) for e in result.errors or ())
        return result.data

    async def _root_value(
        self,
        root: RootPlan,
        variables: Any,
        context: dict[str, Any],
        prepared: PreparedDocumentOperation,
        repository: QueryRepository,
        errors: list[dict[str, Any]],
        *,
        own_savepoint: bool = False,
    ) -> Any:
        """The completed value of one root field; field errors go to ``errors``."""
        model, shape, field = root.model, root.shape, root.field
        assert model is not None and shape is not None and field is not None
        assert root.definition is not None
        denied = self.denied_fields(root.guards, context) if root.guards else frozenset()
        if denied and id(field) in denied:
            errors.append(
                {
                    "message": f"Not authorized to access {field.parent_type}.{field.name}.",
                    "locations": field.locations,
                    "path": [root.key],
                    "extensions": {"code": "FORBIDDEN"},
                }
            )
            return self._null_root(shape.nullable)

        make_info = self.info_factory(prepared, variables, context, repository)

        try:
            arguments = root.cached_arguments
            if arguments is None:
                arguments = get_argument_values(root.definition, root.nodes[0], variables)
                root.remember_arguments(arguments)
            source: Any
            if model.kind == "mutation":
                source = await run_mutation(
                    model,
                    arguments,
                    repository,
                    own_savepoint=own_savepoint,
                    drop=root.pruned,
                    read_entity=root.reads_entity,
                    loads=root.loads,
                    read_sql=root.read_back_sql,
                )
            elif model.kind == "custom":
                info = make_info(field, [root.key])
                if model.definition.operation == "mutation":
                    source = await run_custom_mutation(
                        model, arguments, info, own_savepoint=own_savepoint
                    )
                else:
                    source = await resolve_custom(model, arguments, info)
                source = materialize(shape, source)
            elif model.kind == "aggregate":
                source = await fetch_aggregate(
                    self.model, model, root, arguments, variables, repository
                )
            elif model.kind in ("node", "nodes"):
                source = await fetch_node(
                    self.model, model, arguments, repository, context, root.loads
                )
            elif model.kind in ("service", "entities"):
                source = await fetch_federation(
                    self.model, model, arguments, repository, context, root.loads
                )
            elif model.kind == "one" and root.cached_statement is not None:
                # The commonest root field, straight to its statement (fetch_auto's first case).
                source = await repository.fetch_value(root.cached_statement)
            else:
                source = await fetch_auto(self.model, model, root, arguments, repository)
        except Exception as error:
            return await self._failed(error, root, repository.session, errors)
        return await self.complete(root, model.kind, source, variables, make_info, denied, errors)

    async def _failed(
        self,
        error: Exception,
        root: RootPlan,
        session: RequestSession | None,
        errors: list[dict[str, Any]],
    ) -> bytes:
        """The value of a root field whose statement or resolver raised ``error``.

        A field error goes to ``errors`` (masked, logged with an id, unless it is meant for the
        client) and the value is null; what the whole request must answer is raised instead: a
        lost race (retried), a lost connection or an unavailable pool (503), a missing helper.
        After a statement error the read ``session`` starts over (``None``: the statement had a
        connection of its own, already given back).
        """
        model, shape, field = root.model, root.shape, root.field
        assert model is not None and shape is not None and field is not None
        if isinstance(error, (RetryableTransactionError, ServiceUnavailable)):
            raise error
        if isinstance(error, MutateHelperMissingError):
            raise error
        if isinstance(error, (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError)):
            # The connection broke under the request: the pool replaces it on its next use.
            logger.warning("database connection lost during %s: %s", root.name, error)
            raise ServiceUnavailable(
                "The database connection was lost. Try again.", retry_after=1, unreachable=True
            ) from None
        if isinstance(error, (FraiseQLError, GraphQLError)):
            errors.append(format_exception(error, path=[root.key], locations=field.locations))
            return self._null_root(shape.nullable)
        if isinstance(error, asyncpg.DataError):
            if session is not None:
                await session.reset()
            reason = data_exception_text(error.sqlstate or "")
            logger.info("data exception in %s (SQLSTATE %s): %s", root.name, error.sqlstate, error)
            message = f"Invalid value for '{root.name}': {reason}."
            errors.append(
                format_exception(FraiseQLError(message), path=[root.key], locations=field.locations)
            )
            return self._null_root(shape.nullable)
        if isinstance(error, asyncpg.PostgresError):
            if (
                isinstance(error, asyncpg.TransactionRollbackError)
                and model.definition.operation == "query"
            ):
                # Cancelled by a conflict (on a standby: with the replay of the primary's
                # log). Nothing was written: it can run again, on the primary with replicas.
                logger.info("query %s cancelled by a conflict: %s", root.name, error)
                raise ServiceUnavailable(
                    "The read was cancelled by a concurrent change. Try again.",
                    retry_after=1,
                ) from None
            if session is not None:
                await session.reset()
        errors.append(
            format_exception(error, path=[root.key], locations=field.locations, debug=self.debug)
        )
        return self._null_root(shape.nullable)

    def info_factory(
        self,
        prepared: PreparedDocumentOperation,
        variables: Any,
        context: dict[str, Any],
        repository: QueryRepository,
    ) -> Callable[[FieldPlan, list[str | int]], Info]:
        """Builds the ``info`` of each resolver call of one request."""

        def make_info(plan: FieldPlan, path_keys: list[str | int]) -> Info:
            return Info(
                field_name=plan.name,
                parent_type=plan.parent_type,
                path=path_keys,
                field_nodes=plan.nodes,
                context=context,
                schema=self.schema,
                operation=prepared.operation,
                variables=variables.coerced,
                repository=repository,
            )

        return make_info

    async def complete(
        self,
        root: RootPlan,
        kind: str,
        source: Any,
        variables: Any,
        make_info: Callable[[FieldPlan, list[str | int]], Info],
        denied: frozenset[int],
        errors: list[dict[str, Any]],
    ) -> Any:
        """The response JSON of one root field from what its statement or resolver gave.

        ``kind`` says what ``source`` is: a read model's JSON (``one``), their list or a page
        for auto fields; a Python value for the others (an aggregate's result object too).
        Field errors go to ``errors``.
        """
        shape, field = root.shape, root.field
        assert shape is not None and field is not None
        record = CURRENT.get()
        if record is not None:
            record.phase_start("build")
        rendered: Rendered
        # An auto mutation's payload (not a batch's) is built like a document, from its JSON.
        payload = kind == "mutation" and ENTITY_JSON in source
        plain = not shape.has_resolvers and not denied
        if payload and not plain:
            source = with_entity(source, root.loads)
        if (kind in _BUILT_KINDS or payload) and plain:
            if payload:
                rendered = self.builder.render_one(root.compiled, payload_json(source))
            else:
                rendered = self._render(root, kind, source)
        else:
            loads = root.loads
            if kind == "one" and source is not None:
                source = loads(source)
            elif kind == "list":
                source = [loads(row) for row in source]
            elif kind == "connection":
                source = parse_nodes(source, loads)
            resolved = None
            if shape.has_resolvers:
                resolver_pass = ResolverPass(self.model, variables, make_info, denied)
                await resolver_pass.run(shape, source, (None, root.key))
                resolved = resolver_pass.resolved
            rendered = PYTHON_BUILDER.render_value(
                field, source, Projector(resolved, debug=self.debug, denied=denied)
            )
        if record is not None:
            record.phase_end("build")
        errors.extend(rendered.errors)
        if rendered.bubbled and not shape.nullable:
            raise NullBubble
        return rendered.value

    def _render(self, root: RootPlan, kind: str, source: Any) -> Rendered:
        """The builder's rendering of an auto read's source (``one``, ``list``, ``connection``)."""
        if kind == "one":
            return self.builder.render_one(root.compiled, source)
        if kind == "list":
            return self.builder.render_rows(root.compiled, source)
        return self.builder.render_connection(root.compiled, source)

    def _built(self, root: RootPlan, kind: str, source: Any, errors: list[dict[str, Any]]) -> bytes:
        """A plain auto read's value, rendered by the builder; its field errors go to ``errors``.

        Raises ``NullBubble`` when a null reached a non-null root field.
        """
        rendered = self._render(root, kind, source)
        errors.extend(rendered.errors)
        assert root.shape is not None
        if rendered.bubbled and not root.shape.nullable:
            raise NullBubble
        return rendered.value

    @staticmethod
    def denied_fields(guards: tuple[FieldPlan, ...], context: dict[str, Any]) -> frozenset[int]:
        """The guarded fields whose checks refuse this request (a failing check refuses)."""
        denied = set()
        for guard in guards:
            for check in guard.requires:
                try:
                    allowed = bool(check(context))
                except Exception:
                    logger.exception("authorization check of %s failed", guard.name)
                    allowed = False
                if not allowed:
                    denied.add(id(guard))
                    break
        return frozenset(denied)

    @staticmethod
    def _null_root(nullable: bool) -> bytes:
        if not nullable:
            raise NullBubble
        return b"null"
