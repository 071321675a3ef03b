"""The one SQL statement of each auto root field: by id/identifier, a list, or a page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from fraiseql.schema.model import SchemaModel, TypeModel
from fraiseql.sql.cursor import cursor_prefix, decode_cursor, encode_cursor, ordering_signature
from fraiseql.sql.identifiers import Parameters, quote_identifier, quote_literal, quote_qualified
from fraiseql.sql.order import OrderKey, keyset_condition, order_by_clause, order_keys
from fraiseql.sql.search import SearchClause, declared_search, search_clause
from fraiseql.sql.where import TRUE, WhereCompiler, _and

ROW_ALIAS = "t"


@dataclass(slots=True)
class Statement:
    """SQL text with its bind parameters."""

    sql: str
    params: list[Any]


@dataclass(slots=True)
class PageStatement(Statement):
    """A connection page: the statement and what is needed to read its rows back."""

    keys: list[OrderKey] = field(default_factory=list)
    signature: str = ""
    reverse: bool = False
    limit: int = 0
    with_total: bool = False
    with_previous: bool = False
    with_next: bool = False


def _source(model: TypeModel) -> tuple[str, str, dict[str, str]]:
    definition = model.definition
    assert definition.sql_source is not None
    table = f"{quote_qualified(definition.sql_source)} AS {ROW_ALIAS}"
    data = f"{ROW_ALIAS}.{quote_identifier(definition.data_column)}"
    columns: dict[str, str] = {}
    if definition.id_column and model.field_by_python_name("id") is not None:
        columns["id"] = f"{ROW_ALIAS}.{quote_identifier(definition.id_column)}"
    if definition.identifier_column and model.field_by_python_name("identifier") is not None:
        columns["identifier"] = f"{ROW_ALIAS}.{quote_identifier(definition.identifier_column)}"
    return table, data, columns


def document_column(data: str, drop: Sequence[str] = (), *, as_bytes: bool = False) -> str:
    """The select-list expression of a row's document: its JSON text, minus the keys in ``drop``.

    ``drop`` holds top-level keys from schema metadata (see ``execution/pruning.py``), written as
    quoted literals. With ``as_bytes`` the text comes back as ``bytes`` (``textsend`` gives the
    text in the client encoding, UTF-8 for asyncpg), which the response builders read without
    the driver decoding it into a ``str`` first (``bench/bytes_feed.py``). This is the only place
    a statement says how the document is returned.
    """
    if drop:
        keys = ", ".join(quote_literal(key) for key in drop)
        text = f"({data} - ARRAY[{keys}]::text[])::text"
    else:
        text = f"{data}::text"
    return f"textsend({text})" if as_bytes else text


def _search(
    schema: SchemaModel, model: TypeModel, search: Any, params: Parameters, data: str
) -> SearchClause | None:
    """The clause of a ``search`` input (``None`` when there is none)."""
    if search is None:
        return None
    declared = declared_search(model)
    column = declared.column if declared is not None else None
    stored = f"{ROW_ALIAS}.{quote_identifier(column)}" if column else None
    return search_clause(schema, model, search, params, data, stored)


def _tie_breaker(model: TypeModel) -> OrderKey | None:
    column = model.definition.id_column
    if column is None:
        return None
    expression = f"{ROW_ALIAS}.{quote_identifier(column)}"
    return OrderKey(expression, "uuid", descending=False, nullable=False, label="@id")


def select_one(
    model: TypeModel, by: str, value: str, *, drop: Sequence[str] = (), as_bytes: bool = False
) -> Statement:
    """The document whose ``id`` or ``identifier`` column equals ``value``, without ``drop``.

    An identifier may be unique per tenant only: read without a tenant's policies, several rows
    can match, and the one with the smallest id is answered, whatever plan PostgreSQL picks
    (without the order, a generic plan could answer another than a custom one).
    """
    table, data, _ = _source(model)
    id_column = model.definition.id_column
    column_name = id_column if by == "id" else model.definition.identifier_column
    assert column_name is not None
    params = Parameters()
    cast = "uuid" if by == "id" else "text"
    condition = (
        f"{ROW_ALIAS}.{quote_identifier(column_name)} = CAST({params.text(value)} AS {cast})"
    )
    order = ""
    if by != "id" and id_column is not None:
        order = f" ORDER BY {ROW_ALIAS}.{quote_identifier(id_column)}"
    document = document_column(data, drop, as_bytes=as_bytes)
    return Statement(
        f"SELECT {document} FROM {table} WHERE {condition}{order} LIMIT 1", params.values
    )


def select_by_ids(
    model: TypeModel, ids: Sequence[Any], *, drop: Sequence[str] = (), as_bytes: bool = False
) -> Statement:
    """The ``id`` (as text) and document, less ``drop``, of each row whose ``id`` is in ``ids``."""
    table, data, _ = _source(model)
    column = model.definition.id_column
    assert column is not None
    id_column = f"{ROW_ALIAS}.{quote_identifier(column)}"
    return Statement(
        f"SELECT {id_column}::text, {document_column(data, drop, as_bytes=as_bytes)} FROM {table} "
        f"WHERE {id_column} = ANY ($1::uuid[])",
        [list(ids)],
    )


def select_list(
    schema: SchemaModel,
    model: TypeModel,
    *,
    where: Mapping[str, Any] | None,
    order_by: Sequence[Mapping[str, Any]] | None,
    limit: int,
    offset: int,
    drop: Sequence[str] = (),
    as_bytes: bool = False,
    ids: Sequence[str] | None = None,
    search: Any = None,
) -> Statement:
    """Documents matching ``where`` in ``order_by`` order, one page by limit and offset.

    The documents come back without their top-level keys in ``drop``; the filter and the order
    read the whole documents. ``ids`` further keeps only the rows whose ``id`` is among them
    (the rows a subscription event names). ``search`` (a ``SearchInput``) keeps the rows whose
    text matches it, and lets ``order_by`` use ``_rank``.
    """
    table, data, columns = _source(model)
    params = Parameters()
    found = _search(schema, model, search, params, data)
    condition = WhereCompiler(schema, params).compile(model, where, data, columns)
    if found is not None:
        condition = found.condition if condition == TRUE else _and([found.condition, condition])
    in_order: str | None = None
    if ids is not None:
        column = model.definition.id_column
        assert column is not None
        id_column = f"{ROW_ALIAS}.{quote_identifier(column)}"
        placeholder = params.add(list(ids))
        condition = f"({condition}) AND {id_column} = ANY ({placeholder}::uuid[])"
        # Without an ordering of its own, the rows come in the order of the ids (events).
        in_order = f"array_position({placeholder}::uuid[], {id_column})"
    keys = order_keys(schema, model, order_by, data, columns, rank=found)
    tie = _tie_breaker(model)
    if tie is not None:
        keys.append(tie)
    sql = f"SELECT {document_column(data, drop, as_bytes=as_bytes)} FROM {table} WHERE {condition}"
    if in_order is not None and not order_by and found is None:
        sql += f" ORDER BY {in_order}"
    elif keys:
        sql += f" ORDER BY {order_by_clause(keys)}"
    sql += f" LIMIT {params.add(limit)}::bigint"
    if offset:
        sql += f" OFFSET {params.add(offset)}::bigint"
    return Statement(sql, params.values)


def select_page(
    schema: SchemaModel,
    model: TypeModel,
    *,
    where: Mapping[str, Any] | None,
    order_by: Sequence[Mapping[str, Any]] | None,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    with_total: bool,
    with_previous: bool,
    with_next: bool,
    drop: Sequence[str] = (),
    as_bytes: bool = False,
    search: Any = None,
) -> PageStatement:
    """One page of a connection (keyset pagination), with the extras that were selected.

    Rows come back as ``(data, key values)``, followed by ``total, has_previous, has_next`` when
    any of them is asked for (then a page with no rows is one row of nulls and the extras).
    Exactly one of ``first``/``last`` must be set by the caller. The nodes come back without
    their top-level keys in ``drop``; filters, order and cursors read the whole documents.
    ``search`` is as for :func:`select_list`; a ``_rank`` key's cursors hold the rank.
    """
    table, data, columns = _source(model)
    params = Parameters()
    found = _search(schema, model, search, params, data)
    condition = WhereCompiler(schema, params).compile(model, where, data, columns)
    if found is not None:
        condition = found.condition if condition == TRUE else _and([found.condition, condition])
    keys = order_keys(schema, model, order_by, data, columns, rank=found)
    tie = _tie_breaker(model)
    if tie is None:
        from fraiseql.execution.errors import FraiseQLError

        raise FraiseQLError(
            f"{model.name} has no id column to paginate by", code="INTERNAL_SERVER_ERROR"
        )
    keys.append(tie)
    signature = ordering_signature([k.label + (" desc" if k.descending else "") for k in keys])
    window = [condition]
    outside_after: str | None = None
    outside_before: str | None = None
    if after is not None:
        values = decode_cursor(after, signature, len(keys))
        after_condition = keyset_condition(keys, values, params)
        window.append(after_condition)
        outside_after = f"({after_condition}) IS NOT TRUE"
    if before is not None:
        values = decode_cursor(before, signature, len(keys))
        before_condition = keyset_condition(keys, values, params, reverse=True)
        window.append(before_condition)
        outside_before = f"({before_condition}) IS NOT TRUE"
    reverse = first is None
    limit = (first if first is not None else last) or 0
    document = document_column(data, drop, as_bytes=as_bytes)
    key_array = "ARRAY[" + ", ".join(f"({k.expression})::text" for k in keys) + "]::text[]"
    ordering = order_by_clause(keys, reverse=reverse)
    limit_placeholder = params.add(limit + 1)

    def page(numbered: bool) -> str:
        number = f", row_number() OVER (ORDER BY {ordering}) AS n" if numbered else ""
        return (
            f"SELECT {document} AS d, {key_array} AS k{number} FROM {table} "
            f"WHERE {_and(window)} ORDER BY {ordering} LIMIT {limit_placeholder}::bigint"
        )

    statement = PageStatement(
        sql=page(numbered=False),
        params=params.values,
        keys=keys,
        signature=signature,
        reverse=reverse,
        limit=limit,
    )
    # hasPreviousPage when paging forward after a cursor (hasNextPage when paging backward
    # before one): do rows outside the cursor's side exist? Only computed when selected.
    extras: list[str] = []
    if with_total:
        extras.append(f"(SELECT count(*) FROM {table} WHERE {condition}) AS total")
        statement.with_total = True
    if with_previous and not reverse and outside_after is not None:
        extras.append(
            f"EXISTS (SELECT 1 FROM {table} WHERE {condition} AND {outside_after}) AS prev"
        )
        statement.with_previous = True
    if with_next and reverse and outside_before is not None:
        extras.append(
            f"EXISTS (SELECT 1 FROM {table} WHERE {condition} AND {outside_before}) AS next"
        )
        statement.with_next = True
    if not extras:
        return statement
    total = "x.total" if statement.with_total else "NULL::bigint"
    previous = "x.prev" if statement.with_previous else "NULL::boolean"
    following = "x.next" if statement.with_next else "NULL::boolean"
    statement.sql = (
        f"SELECT p.d, p.k, {total}, {previous}, {following} "
        f"FROM (SELECT {', '.join(extras)}) AS x "
        f"LEFT JOIN LATERAL ({page(True)}) AS p ON TRUE ORDER BY p.n"
    )
    return statement


@dataclass(slots=True)
class EdgeRows:
    """The edges of a connection page as read: each node's JSON text and its ordering keys.

    Cursors are made when they are written: by the C core inside the edges it renders, or by
    :meth:`as_dicts` for the Python builder.
    """

    signature: str
    texts: list[Any]
    keys: list[list[str | None]]

    @property
    def cursor_prefix(self) -> bytes:
        """What every cursor payload of this page starts with (see ``cursor_prefix``)."""
        return cursor_prefix(self.signature)

    def as_dicts(self, *, parse: bool) -> list[dict[str, Any]]:
        """``{"node": ..., "cursor": ...}`` per edge; the node parsed when ``parse``."""
        loads = orjson.loads
        return [
            {"node": loads(text) if parse else text, "cursor": encode_cursor(self.signature, key)}
            for text, key in zip(self.texts, self.keys, strict=True)
        ]


def read_page(
    statement: PageStatement, rows: Sequence[Any], *, parse_nodes: bool = True
) -> dict[str, Any]:
    """The connection (edges with cursors, page info, total) of a page statement's rows.

    With ``parse_nodes`` each edge is a dict holding the parsed document and its cursor; without,
    the edges are one :class:`EdgeRows` holding the documents' JSON text (the response builder
    then reads the text and makes the cursors itself).
    """
    total = previous = following = None
    if rows and len(rows[0]) > 2:
        total, previous, following = rows[0][2], rows[0][3], rows[0][4]
    page_rows = [row for row in rows if row[0] is not None]
    has_more = len(page_rows) > statement.limit
    page_rows = page_rows[: statement.limit]
    if statement.reverse:
        page_rows.reverse()
    signature = statement.signature
    edge_rows = EdgeRows(signature, [row[0] for row in page_rows], [row[1] for row in page_rows])
    if statement.reverse:
        has_next, has_previous = bool(following), has_more
    else:
        has_next, has_previous = has_more, bool(previous)
    keys = edge_rows.keys
    return {
        "edges": edge_rows.as_dicts(parse=True) if parse_nodes else edge_rows,
        "page_info": {
            "has_next_page": has_next,
            "has_previous_page": has_previous,
            "start_cursor": encode_cursor(signature, keys[0]) if keys else None,
            "end_cursor": encode_cursor(signature, keys[-1]) if keys else None,
        },
        "total_count": total,
    }
