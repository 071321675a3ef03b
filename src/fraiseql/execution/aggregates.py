"""Answering an aggregate root field: its selection read into a request, one statement run.

The plan's shape says what is selected (aliases, fragments and ``@skip``/``@include`` already
resolved); each ``groupBy`` selection brings its own arguments. Everything is checked before
the statement runs: an empty ``by``, a ``limit`` beyond the maximum page size, an ordering on a
key not grouped by are errors and nothing reaches the database.
"""

from __future__ import annotations

from typing import Any

from graphql.execution.values import get_argument_values

from fraiseql.db.repository import QueryRepository
from fraiseql.execution.errors import FraiseQLError
from fraiseql.execution.plan import RootPlan
from fraiseql.execution.shapes import LIST, OBJECT, Shape
from fraiseql.native.builder import exact_loads
from fraiseql.schema.aggregate_types import AGGREGATES
from fraiseql.schema.aggregates import AggregateField, AggregateSpec, aggregate_spec
from fraiseql.schema.model import RootFieldModel, SchemaModel
from fraiseql.sql.aggregate import AggregateRequest, GroupRequest, Measures, select_aggregate

_SPECS: dict[int, tuple[Any, AggregateSpec]] = {}


def spec_of(schema: SchemaModel, root: RootFieldModel) -> AggregateSpec:
    """The aggregate fields of the root field's type (computed once per schema and type)."""
    target = root.target
    assert target is not None
    cached = _SPECS.get(id(target))
    if cached is None or cached[0] is not target:
        cached = (target, aggregate_spec(schema, target))
        _SPECS[id(target)] = cached
    return cached[1]


def _measures(shape: Shape | None, spec: AggregateSpec) -> Measures:
    """What the selection on an aggregate (or a group) object computes."""
    measures = Measures()
    if shape is None or shape.kind != OBJECT:
        return measures
    for plan in shape.fields:
        if plan.is_typename:
            continue
        if plan.name == "count":
            measures.count = True
        elif plan.name in AGGREGATES and plan.shape is not None:
            fields = spec.numeric if plan.name in ("sum", "avg") else spec.orderable
            by_key = {item.key: item for item in fields.values()}
            chosen = measures.members.setdefault(plan.name, {})
            for inner in plan.shape.fields:
                if not inner.is_typename:
                    chosen[inner.source] = by_key[inner.source]
    return measures


def _group(plan: Any, variables: Any, spec: AggregateSpec, root: RootFieldModel) -> GroupRequest:
    arguments = get_argument_values(plan.definition, plan.nodes[0], variables)
    by_key = {item.key: item for item in spec.groupable.values()}
    by: list[AggregateField] = []
    for key in arguments["by"]:
        if by_key[key] not in by:
            by.append(by_key[key])
    if not by:
        raise FraiseQLError("'groupBy' needs at least one field in 'by'")
    limit = arguments.get("limit")
    if limit is None:
        limit = root.max_page_size
    elif limit < 0:
        raise FraiseQLError("'limit' must not be negative")
    elif limit > root.max_page_size:
        raise FraiseQLError(f"'limit' must be at most {root.max_page_size} (the maximum page size)")
    item = plan.shape
    while item is not None and item.kind == LIST:
        item = item.item
    return GroupRequest(
        source=plan.source,
        by=by,
        measures=_measures(item, spec),
        having=arguments.get("having"),
        order_by=arguments.get("order_by") or arguments.get("orderBy"),
        limit=limit,
    )


def aggregate_request(
    schema: SchemaModel, root: RootFieldModel, shape: Shape | None, variables: Any
) -> AggregateRequest:
    """The request of an aggregate root field's selection."""
    spec = spec_of(schema, root)
    request = AggregateRequest(totals=_measures(shape, spec))
    if shape is not None and shape.kind == OBJECT:
        for plan in shape.fields:
            if plan.name == "groupBy" and not plan.is_typename:
                request.groups.append(_group(plan, variables, spec, root))
    return request


async def fetch_aggregate(
    schema: SchemaModel,
    root: RootFieldModel,
    plan: RootPlan,
    arguments: dict[str, Any],
    variables: Any,
    repository: QueryRepository,
) -> dict[str, Any]:
    """The result object of an aggregate root field, read with one SQL statement.

    Numbers keep their exact text (``exact_loads``), so ``Decimal`` sums stay exact.
    """
    target = root.target
    assert target is not None
    request = aggregate_request(schema, root, plan.shape, variables)
    statement = select_aggregate(
        schema, target, spec_of(schema, root), arguments.get("where"), request
    )
    text = await repository.fetch_value(statement)
    result: dict[str, Any] = exact_loads(text) if text is not None else {}
    return result
