"""Queries through the response cache, and what a mutation evicts before it answers.

A hit skips the database and the response builder: the stored bytes are the response. A miss
runs the query as usual and stores the response unless it has errors. A stale hit (past the
policy's ``ttl``, within ``stale_while_revalidate``) is served while the query runs again in
the background and replaces it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphql.execution.values import get_argument_values

from fraiseql.cache.response_cache import ResponseCache, any_tag, entity_tag, row_tag
from fraiseql.execution.outcome import ExecutionResponse, GraphQLRequest
from fraiseql.execution.plan import OperationPlan, PreparedDocumentOperation

if TYPE_CHECKING:
    from fraiseql.execution.executor import Executor

CACHE_HEADER = "X-FraiseQL-Cache"
"""Says how the response cache answered: ``hit``, ``stale``, ``miss`` (stored or not)."""


async def cached_read(
    executor: Executor,
    cache: ResponseCache,
    prepared: PreparedDocumentOperation,
    plan: OperationPlan,
    request: GraphQLRequest,
    coerced: Any,
    context: dict[str, Any],
    settings: list[tuple[str, str]] | None,
) -> ExecutionResponse:
    """Answer a cacheable query from the cache, or run it and keep its response."""
    policy = plan.cache_policy
    denied: list[tuple[str, int]] = []  # what the checks refuse changes the response too
    for root in plan.roots:
        if root.guards:
            refused = executor.denied_fields(root.guards, context)
            denied += [(root.key, i) for i, guard in enumerate(root.guards) if id(guard) in refused]
    key = cache.key(prepared.normalized, request.variables, settings, context, policy, denied)
    if key is None:
        cache.uncacheable += 1
        return await executor.read(prepared, plan, request, coerced, context, settings)
    since = cache.sequence
    hit = await cache.lookup(key)
    if hit is not None:
        if hit.stale:

            async def refresh() -> None:
                began = cache.sequence
                response = await executor.read(prepared, plan, request, coerced, context, settings)
                if not response.has_errors:
                    await cache.store(key, response.body, policy, tags(plan, coerced), began)

            cache.refresh(key, refresh)
        return ExecutionResponse(hit.body, headers={CACHE_HEADER: "stale" if hit.stale else "hit"})
    response = await executor.read(prepared, plan, request, coerced, context, settings)
    if response.has_errors:
        cache.uncacheable += 1
    else:
        await cache.store(key, response.body, policy, tags(plan, coerced), since)
    response.headers[CACHE_HEADER] = "miss"
    return response


def tags(plan: OperationPlan, coerced: Any) -> list[str]:
    """The tags of a response: the entities its fields read, by id where it read one row."""
    found: list[str] = []
    for root in plan.roots:
        model = root.model
        if model is None or model.entity is None:
            continue
        entity = model.entity
        found.append(any_tag(entity))
        row_id = None
        if model.kind == "one" and root.definition is not None:
            arguments = root.cached_arguments or get_argument_values(
                root.definition, root.nodes[0], coerced
            )
            row_id = arguments.get("id")
        found.append(entity_tag(entity) if row_id is None else row_tag(entity, str(row_id)))
    return found


async def invalidate_written(cache: ResponseCache, plan: OperationPlan) -> None:
    """Evict the entries of the entities an operation's auto mutations wrote.

    Done before the mutation answers, so that this replica never serves what it just
    changed; other replicas evict when the function's ``fraiseql_notify`` reaches them.
    """
    written = {
        root.model.entity
        for root in plan.roots
        if root.model is not None and root.model.kind == "mutation" and root.model.entity
    }
    if written:
        await cache.invalidate([any_tag(entity) for entity in sorted(written)])
