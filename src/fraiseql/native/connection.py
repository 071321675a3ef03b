"""Connection pages on the C core: each edge's node rendered natively, inside a written envelope.

A connection page is small and regular: edges (a cursor and a node each), page info and a total.
The edges hold the bytes and the work: when the page's edges are an :class:`EdgeRows` (as auto
connections read them), the C core writes each ``edges`` selection whole, nodes and cursors
(``render_edges``), with one plan per ``node`` selection (aliases may select the node several
times, with different fields). The rest of the envelope (``pageInfo``, ``totalCount``,
``__typename``, in the selection's key order) is written here from the page's Python values, as
are edges given as a list of dicts (each node by the C core's ``render_one``).

Whenever the C core declines a node (a null in a non-null field, a value to convert, unusual
JSON) or the envelope holds a value it does not expect, the whole page is rendered again by the
Python builder, so errors, their paths and null propagation are the Python builder's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from fraiseql.execution.shapes import LEAF, LIST, OBJECT, FieldPlan, Shape
from fraiseql.sql.select import EdgeRows

Writer = Callable[[Any], bytes]
"""Writes the JSON of one value of the envelope; raises :class:`Declined` when it cannot."""

CompileNode = Callable[[Shape], Any]
"""The C plan of a node shape, or ``None`` when the C core does not cover it."""

RenderNode = Callable[[Any, Any], bytes | None]
"""The C core's ``render_one``: a node's JSON text to bytes, or ``None`` to let Python decide."""

RenderEdges = Callable[[Any, list[Any], list[Any], bytes], bytes | None]
"""The C core's ``render_edges``: the edges of an :class:`EdgeRows`, cursors included."""


class Declined(Exception):  # noqa: N818 - a signal, handled by the caller
    """The page needs the Python builder."""


class _NotCovered(Exception):  # noqa: N818 - a signal, handled here
    """The selection needs the Python builder."""


def compile_envelope(
    shape: Shape,
    compile_node: CompileNode,
    render_node: RenderNode,
    render_edges: RenderEdges | None = None,
) -> Writer | None:
    """The writer of a connection page selected by ``shape``, or ``None`` if Python must do it.

    A selection without any ``node`` is left to Python too: there is nothing to speed up, and
    the Python builder parses every node's text even when it selects none of them.
    """
    if shape.kind != OBJECT:
        return None
    nodes: list[Any] = []
    try:
        member = _connection_member(compile_node, render_node, render_edges, nodes)
        writer = _object(shape, member)
    except _NotCovered:
        return None
    return writer if nodes else None


Member = Callable[[FieldPlan], Writer]
"""Compiles the writer of one selected field of an object (by its ``FieldPlan``)."""


def _connection_member(
    compile_node: CompileNode,
    render_node: RenderNode,
    render_edges: RenderEdges | None,
    nodes: list[Any],
) -> Member:
    def edge_member(field: FieldPlan) -> Writer:
        assert field.shape is not None
        if field.name != "node":
            return _value(field.shape)
        native = compile_node(field.shape)
        if native is None:
            raise _NotCovered
        nodes.append(native)
        return _node(native, render_node)

    def connection_member(field: FieldPlan) -> Writer:
        shape = field.shape
        assert shape is not None
        if field.name == "edges" and shape.kind == LIST and shape.item is not None:
            if shape.item.kind != OBJECT:
                raise _NotCovered
            as_dicts = _list(shape, _object(shape.item, edge_member))
            native = None if render_edges is None else _edge_fields(shape.item, compile_node)
            return _edges(as_dicts, native, render_edges)
        return _value(shape)

    return connection_member


# What render_edges writes for each selected field of an edge (see _native.c).
_EDGE_TYPENAME, _EDGE_CURSOR, _EDGE_NODE = 0, 1, 2


# The most selected fields of an edge render_edges takes (MAX_EDGE_FIELDS in _native.c).
_MAX_EDGE_FIELDS = 64


def _edge_fields(shape: Shape, compile_node: CompileNode) -> tuple[Any, ...] | None:
    """The edge selection as ``render_edges`` takes it, or ``None`` when it cannot write it."""
    if len(shape.fields) > _MAX_EDGE_FIELDS:
        return None
    fields: list[tuple[bytes, int, Any]] = []
    for field in shape.fields:
        prefix = orjson.dumps(field.key) + b":"
        if field.is_typename:
            fields.append((prefix, _EDGE_TYPENAME, orjson.dumps(shape.type_name)))
        elif field.name == "cursor" and field.shape is not None and field.shape.kind == LEAF:
            fields.append((prefix, _EDGE_CURSOR, None))
        elif field.name == "node" and field.shape is not None:
            native = compile_node(field.shape)
            if native is None:
                return None
            fields.append((prefix, _EDGE_NODE, native))
        else:
            return None
    return tuple(fields)


def _edges(as_dicts: Writer, native: Any, render_edges: RenderEdges | None) -> Writer:
    def write(value: Any) -> bytes:
        if not isinstance(value, EdgeRows):
            return as_dicts(value)
        if native is None or render_edges is None:
            return as_dicts(value.as_dicts(parse=False))
        rendered = render_edges(native, value.texts, value.keys, value.cursor_prefix)
        if rendered is None:
            raise Declined
        return rendered

    return write


def _node(native: Any, render_node: RenderNode) -> Writer:
    def write(text: Any) -> bytes:
        if not isinstance(text, str | bytes):
            raise Declined
        rendered = render_node(native, text)
        if rendered is None:
            raise Declined
        return rendered

    return write


def _value(shape: Shape) -> Writer:
    if shape.has_resolvers:
        raise _NotCovered
    if shape.kind == LEAF:
        return _leaf(shape)
    if shape.kind == OBJECT:
        return _object(shape, _field_value)
    if shape.kind == LIST and shape.item is not None:
        return _list(shape, _value(shape.item))
    raise _NotCovered  # abstract types: never in a connection envelope


def _field_value(field: FieldPlan) -> Writer:
    assert field.shape is not None
    return _value(field.shape)


def _leaf(shape: Shape) -> Writer:
    serialize, nullable, dumps = shape.serialize, shape.nullable, orjson.dumps
    assert serialize is not None

    def write(value: Any) -> bytes:
        if value is None:
            if nullable:
                return b"null"
            raise Declined
        try:
            return dumps(serialize(value))
        except Exception:  # the Python builder reports it, with its path
            raise Declined from None

    return write


def _list(shape: Shape, item: Writer) -> Writer:
    nullable = shape.nullable

    def write(value: Any) -> bytes:
        if value is None:
            if nullable:
                return b"null"
            raise Declined
        if not isinstance(value, list):
            raise Declined
        return b"[" + b",".join([item(entry) for entry in value]) + b"]"

    return write


def _object(shape: Shape, member: Member) -> Writer:
    nullable = shape.nullable
    members: list[tuple[bytes, str, Writer | None]] = []
    for field in shape.fields:
        prefix = orjson.dumps(field.key) + b":"
        if field.is_typename:
            members.append((prefix + orjson.dumps(shape.type_name), "", None))
            continue
        if field.resolver is not None or field.shape is None:
            raise _NotCovered
        members.append((prefix, field.source, member(field)))

    def write(value: Any) -> bytes:
        if value is None:
            if nullable:
                return b"null"
            raise Declined
        if not isinstance(value, dict):
            raise Declined
        parts = [
            prefix if writer is None else prefix + writer(value.get(source))
            for prefix, source, writer in members
        ]
        return b"{" + b",".join(parts) + b"}"

    return write
