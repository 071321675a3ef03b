"""Answering root fields: auto fields with one SQL statement each, custom ones in Python."""

from __future__ import annotations

import inspect
from typing import Any

from fraiseql.db.repository import QueryRepository
from fraiseql.execution.errors import FraiseQLError
from fraiseql.execution.info import Info
from fraiseql.execution.plan import RootPlan
from fraiseql.execution.shapes import OBJECT, Shape
from fraiseql.schema.model import RootFieldModel, SchemaModel
from fraiseql.sql.select import (
    PageStatement,
    Statement,
    read_page,
    select_list,
    select_one,
    select_page,
)


def _selected(shape: Shape | None, name: str) -> Shape | bool | None:
    """The shape of field ``name`` if selected on an object shape (``True`` for leaves)."""
    if shape is None or shape.kind != OBJECT:
        return None
    for field in shape.fields:
        if field.name == name:
            return field.shape or True
    return None


def _page_info_selects(shape: Shape | None, name: str) -> bool:
    """Whether any ``pageInfo`` (under any alias) selects field ``name``."""
    if shape is None or shape.kind != OBJECT:
        return False
    return any(
        field.name == "pageInfo" and _selected(field.shape, name) is not None
        for field in shape.fields
    )


def _check_count(name: str, value: int | None, maximum: int) -> None:
    if value is None:
        return
    if value < 0:
        raise FraiseQLError(f"'{name}' must not be negative")
    if value > maximum:
        raise FraiseQLError(f"'{name}' must be at most {maximum} (the maximum page size)")


async def fetch_auto(
    schema: SchemaModel,
    root: RootFieldModel,
    plan: RootPlan,
    arguments: dict[str, Any],
    repository: QueryRepository,
) -> Any:
    """What PostgreSQL returns for an auto root field, read with one SQL statement.

    ``one``: the document's JSON text or ``None``; ``list``: the JSON texts of the rows;
    ``connection``: the connection as a dict whose edges hold the JSON text of their node. The
    documents lack the top-level keys the plan prunes (``RootPlan.pruned``).
    """
    statement = auto_statement(schema, root, plan, arguments)
    if root.kind == "one":
        return await repository.fetch_value(statement)
    rows = await repository.fetch_rows(statement)
    return auto_source(root.kind, statement, rows)


def auto_source(kind: str, statement: Statement, rows: list[Any]) -> Any:
    """What :func:`fetch_auto` returns for a list or connection field, from its statement's rows."""
    if kind == "list":
        return [row[0] for row in rows]
    assert isinstance(statement, PageStatement)
    return read_page(statement, rows, parse_nodes=False)


def auto_statement(
    schema: SchemaModel, root: RootFieldModel, plan: RootPlan, arguments: dict[str, Any]
) -> Statement:
    """The one statement of an auto root field (``one``, ``list`` or ``connection``).

    Constant arguments: the statement of the first request, kept on the plan. Arguments out of
    range raise ``FraiseQLError``.
    """
    cached = plan.cached_statement
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    target = root.target
    assert target is not None
    statement: Statement
    if root.kind == "one":
        by_id, by_identifier = arguments.get("id"), arguments.get("identifier")
        if (by_id is None) == (by_identifier is None):
            raise FraiseQLError(f"'{root.graphql_name}' needs exactly one of 'id' and 'identifier'")
        if by_id is not None:
            statement = select_one(target, "id", str(by_id), drop=plan.pruned, as_bytes=True)
        else:
            statement = select_one(
                target, "identifier", str(by_identifier), drop=plan.pruned, as_bytes=True
            )
    elif root.kind == "list":
        limit = arguments.get("limit")
        offset = arguments.get("offset") or 0
        _check_count("limit", limit, root.max_page_size)
        if offset < 0:
            raise FraiseQLError("'offset' must not be negative")
        statement = select_list(
            schema,
            target,
            where=arguments.get("where"),
            search=arguments.get("search"),
            order_by=arguments.get("order_by"),
            limit=root.max_page_size if limit is None else limit,
            offset=offset,
            drop=plan.pruned,
            as_bytes=True,
        )
    else:
        statement = _page_statement(schema, root, plan, arguments)
    plan.remember_statement(statement)
    return statement


def _page_statement(
    schema: SchemaModel, root: RootFieldModel, plan: RootPlan, arguments: dict[str, Any]
) -> Statement:
    target = root.target
    assert target is not None
    first, last = arguments.get("first"), arguments.get("last")
    if first is not None and last is not None:
        raise FraiseQLError("give 'first' or 'last', not both")
    _check_count("first", first, root.max_page_size)
    _check_count("last", last, root.max_page_size)
    if first is None and last is None:
        first = root.default_page_size
    return select_page(
        schema,
        target,
        where=arguments.get("where"),
        search=arguments.get("search"),
        order_by=arguments.get("order_by"),
        first=first,
        after=arguments.get("after"),
        last=last,
        before=arguments.get("before"),
        with_total=_selected(plan.shape, "totalCount") is not None,
        with_previous=_page_info_selects(plan.shape, "hasPreviousPage"),
        with_next=_page_info_selects(plan.shape, "hasNextPage"),
        drop=plan.pruned,
        as_bytes=True,
    )


async def resolve_custom(root: RootFieldModel, arguments: dict[str, Any], info: Info) -> Any:
    """Call a custom root resolver with ``info`` (when it takes it) and its arguments."""
    function = root.definition.function
    result = function(info, **arguments) if root.info_parameter else function(**arguments)
    if inspect.isawaitable(result):
        result = await result
    return result
