"""Subscription operations: planned once when subscribed, then run once per event.

A subscription goes through the same steps as a query (document cache, limits, variables,
plan, claims, ``requires=`` checks) when it starts. What is left per event is one statement,
``SELECT ... WHERE <where> AND id = ANY(<the event's ids>)`` under the subscriber's settings,
whose text was built at subscription time (only the ids change), and the response builder
over each row. Subscribers whose operation, variables, settings and refused fields are the
same share a :attr:`SubscriptionOperation.key`, so the hub runs that statement once for all
of them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from graphql.execution.values import get_argument_values

from fraiseql.db.repository import QueryRepository
from fraiseql.db.session import RequestSession
from fraiseql.execution.errors import FraiseQLError, format_exception
from fraiseql.execution.outcome import GraphQLRequest, RequestError
from fraiseql.execution.plan import PreparedDocumentOperation, RootPlan
from fraiseql.native.projector import NullBubble, materialize
from fraiseql.observability.record import CURRENT
from fraiseql.sql.select import Statement, select_list

if TYPE_CHECKING:
    from fraiseql.execution.executor import Executor

logger = logging.getLogger("fraiseql.subscriptions")

_PLACEHOLDER_IDS = [str(uuid.UUID(int=0))]


@dataclass(slots=True, eq=False)
class SubscriptionOperation:
    """A started subscription: its plan, its settings and, for an auto one, its statement.

    ``entity`` and ``events`` say which database events concern it (``None`` for a custom,
    generator-backed subscription). ``statement`` has the event's ids at ``ids_index``.
    """

    key: tuple[Any, ...]
    root: RootPlan
    prepared: PreparedDocumentOperation
    variables: Any
    context: dict[str, Any]
    settings: list[tuple[str, str]] | None
    denied: frozenset[int]
    arguments: dict[str, Any]
    entity: str | None = None
    events: tuple[str, ...] = ()
    statement: Statement | None = None
    ids_index: int = -1
    body_prefix: bytes = field(default=b"", init=False)

    def __post_init__(self) -> None:
        self.body_prefix = b'{"data":{' + self.root.member_prefix


def start_subscription(
    executor: Executor,
    prepared: PreparedDocumentOperation,
    request: GraphQLRequest,
    context: dict[str, Any],
) -> SubscriptionOperation:
    """Check and plan a subscription; ``RequestError`` when it cannot start.

    Everything a query would refuse is refused here, before the client waits for events:
    bad variables, claims, a refused root field, a ``where`` the filter compiler rejects.
    """
    if prepared.operation_type != "subscription":
        raise RequestError(
            [{"message": "Not a subscription.", "extensions": {"code": "BAD_REQUEST"}}]
        )
    record = CURRENT.get()
    if record is not None:
        name = prepared.operation.name
        record.instrumentation.executing(
            record, name.value if name else None, "subscription", request.variables, context
        )
    coerced, plan, settings = executor.begin(
        prepared, request, context, executor.model.subscriptions
    )
    roots = [root for root in plan.roots if root.model is not None]
    if len(roots) != 1 or len(plan.roots) != 1:  # validation allows one root field only
        raise RequestError(
            [
                {
                    "message": "A subscription selects exactly one root field.",
                    "extensions": {"code": "BAD_REQUEST"},
                }
            ]
        )
    root = roots[0]
    model, field_plan = root.model, root.field
    assert model is not None and field_plan is not None and root.definition is not None
    denied = executor.denied_fields(root.guards, context) if root.guards else frozenset()
    if id(field_plan) in denied:
        raise RequestError(
            [
                {
                    "message": f"Not authorized to access "
                    f"{field_plan.parent_type}.{field_plan.name}.",
                    "locations": field_plan.locations,
                    "extensions": {"code": "FORBIDDEN"},
                }
            ]
        )
    try:
        arguments = get_argument_values(root.definition, root.nodes[0], coerced)
    except Exception as error:
        raise RequestError([format_exception(error, locations=field_plan.locations)]) from None
    variables_key = orjson.dumps(request.variables or {}, option=orjson.OPT_SORT_KEYS)
    settings_key = tuple(settings or ())
    shares = root.shape is not None and not root.shape.has_resolvers
    key: tuple[Any, ...] = (
        id(prepared),
        id(root),
        variables_key,
        settings_key,
        denied,
        None if shares else object(),  # resolvers may read any of the context: no sharing
    )
    operation = SubscriptionOperation(
        key, root, prepared, coerced, context, settings, denied, arguments
    )
    if model.kind != "subscription":
        return operation
    target = model.target
    assert target is not None and model.entity is not None
    try:
        statement = select_list(
            executor.model,
            target,
            where=arguments.get("where"),
            order_by=None,
            limit=model.max_page_size,
            offset=0,
            drop=root.pruned,
            as_bytes=True,
            ids=_PLACEHOLDER_IDS,
        )
    except FraiseQLError as error:
        raise RequestError([format_exception(error, locations=field_plan.locations)]) from None
    operation.entity = model.entity
    operation.events = model.definition.events
    operation.statement = statement
    operation.ids_index = _ids_index(statement)
    return operation


def _ids_index(statement: Statement) -> int:
    """Where the ids sit among the statement's parameters (after those of ``where``)."""
    for index in range(len(statement.params) - 1, -1, -1):
        if statement.params[index] == _PLACEHOLDER_IDS:
            return index
    raise AssertionError("the subscription statement has no ids parameter")


async def read_event(
    executor: Executor, operation: SubscriptionOperation, ids: list[str]
) -> list[bytes]:
    """The response bodies of an event's rows for one subscription (group): one statement.

    Rows the subscriber's claims or its ``where`` keep out are simply not returned, so nobody
    receives a row they could not query.
    """
    statement = operation.statement
    assert statement is not None
    params = list(statement.params)
    bodies: list[bytes] = []
    limit = operation.root.model.max_page_size if operation.root.model else 100
    # One statement needs no transaction of its own, unless resolvers may run more or the
    # settings must be set first (a session with settings is always transactional).
    single = operation.root.shape is not None and not operation.root.shape.has_resolvers
    async with RequestSession(
        executor.database, transactional=not single, settings=operation.settings
    ) as session:
        repository = QueryRepository(executor.model, session)
        make_info = executor.info_factory(
            operation.prepared, operation.variables, operation.context, repository
        )
        for start in range(0, len(ids), limit):
            params[operation.ids_index] = ids[start : start + limit]
            rows = await repository.fetch_rows(Statement(statement.sql, params))
            for row in rows:
                bodies.append(await _body(executor, operation, "one", row[0], make_info))
    return bodies


async def _body(
    executor: Executor,
    operation: SubscriptionOperation,
    kind: str,
    source: Any,
    make_info: Any,
) -> bytes:
    errors: list[dict[str, Any]] = []
    try:
        value = await executor.complete(
            operation.root,
            kind,
            source,
            operation.variables,
            make_info,
            operation.denied,
            errors,
        )
        body: bytes = operation.body_prefix + value + b"}"
    except NullBubble:
        body = b'{"data":null'
    if errors:
        return b'{"errors":' + orjson.dumps(errors) + b"," + body[1:] + b"}"
    return body + b"}"


async def stream_custom(
    executor: Executor, operation: SubscriptionOperation
) -> AsyncIterator[bytes]:
    """The responses of a generator-backed subscription, one per value it yields.

    The resolver gets ``info`` (with a repository under the subscriber's settings, whose
    connection is given back to the pool after each value) and its arguments. An exception it
    raises ends the stream with one last response carrying the (masked) error.
    """
    root = operation.root
    model, field_plan = root.model, root.field
    assert model is not None and field_plan is not None and root.shape is not None
    session = RequestSession(executor.database, settings=operation.settings)
    repository = QueryRepository(executor.model, session)
    make_info = executor.info_factory(
        operation.prepared, operation.variables, operation.context, repository
    )
    function = model.definition.function
    info = make_info(field_plan, [root.key])
    arguments = operation.arguments
    generator = function(info, **arguments) if model.info_parameter else function(**arguments)
    try:
        while True:
            try:
                value = await generator.__anext__()
                body = await _body(
                    executor, operation, "custom", materialize(root.shape, value), make_info
                )
            except StopAsyncIteration:
                return
            except Exception as error:
                if not isinstance(error, FraiseQLError):
                    logger.exception("subscription %s failed", root.name)
                entry = format_exception(
                    error, path=[root.key], locations=field_plan.locations, debug=executor.debug
                )
                yield b'{"errors":' + orjson.dumps([entry]) + b',"data":null}'
                return
            finally:
                await session.release()
            yield body
    finally:
        await generator.aclose()
        await session.release()
