"""Differential tests of connection pages: C nodes in a written envelope against the Python builder.

``CResponseBuilder.render_connection`` renders each edge's node with the C core (one plan per
``node`` selection) and writes the envelope around them; ``PYTHON_BUILDER.render_connection``
completes the whole page with the projector. For random connection selections (aliases on
edges, node, pageInfo and totalCount; ``__typename`` at every level; fragments on the connection,
the edge and the page info; ``@skip``/``@include``) and random pages (empty ones, damaged node
documents, nulls in non-null positions) both must return the same bytes, errors and ``bubbled``
flag. Typical pages must take the C path, so the comparison cannot pass by always falling back.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fraiseql
from fraiseql import Connection, Schema
from fraiseql.execution.outcome import GraphQLRequest
from fraiseql.execution.shapes import FieldPlan, Shape
from fraiseql.native.builder import PYTHON_BUILDER
from fraiseql.native.c_builder import CompiledConnection
from fraiseql.native.connection import Declined
from fraiseql.sql.cursor import encode_cursor
from fraiseql.sql.select import EdgeRows

from .test_differential import C_BUILDER, C_PASS_ONLY, Thing, document, examples, outcome

pytestmark = C_PASS_ONLY


@fraiseql.query
async def things_page(info, first: int | None = None) -> Connection[Thing]:
    """A page of things."""


@fraiseql.query
async def maybe_things(info, first: int | None = None) -> Connection[Thing] | None:
    """A page of things, or null."""


SCHEMA = Schema(types=[Thing], queries=[things_page, maybe_things])

# Node selections: the first ones are covered by the C core, the last one is not (an enum with
# integer values), so the whole page takes the Python builder.
NODE_SELECTIONS = [
    "id name",
    "__typename id n: name viewCount tags inner { id label score }",
    "... on Thing { name @skip(if: true) at active } id",
    "ratio price born wake email ip net path ident mood moods matrix data",
    "...ThingFields inners { id extra }",
    "id level",
]
FRAGMENTS = {
    "ThingFields": "fragment ThingFields on Thing { __typename ident name }",
    "EdgeFields": "fragment EdgeFields on ThingEdge { cursor __typename }",
    "PageFields": "fragment PageFields on PageInfo { hasNextPage endCursor }",
}
FULL_NODE = (
    "id name viewCount ratio active price data born at wake email ip net path ident mood level "
    "moods tags matrix inner { id label score extra } inners { id label score extra }"
)
DIRECTIVES = ["", "", "", " @include(if: true)", " @skip(if: false)", " @skip(if: true)"]
PAGE_INFO_FIELDS = ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"]


def plan_of(query: str) -> FieldPlan:
    """The root field plan of a one-root query over SCHEMA."""
    prepared = SCHEMA.prepare(GraphQLRequest(query, None, None))
    plan = prepared.plan(  # type: ignore[attr-defined]
        SCHEMA.graphql_schema, SCHEMA.model.queries, SCHEMA.executor.serializers, {}
    )
    (root,) = plan.roots
    assert root.field is not None
    return root.field  # type: ignore[no-any-return]


def _node_shape() -> Shape:
    """The shape of a node selecting every field: the documents pages are made of."""
    field = plan_of(f"{{ thingsPage {{ edges {{ node {{ {FULL_NODE} }} }} }} }}")
    assert field.shape is not None
    (edges,) = field.shape.fields
    assert edges.shape is not None and edges.shape.item is not None
    (node,) = edges.shape.item.fields
    assert node.shape is not None
    return node.shape


NODE_SHAPE = _node_shape()


@st.composite
def part(draw: st.DrawFn, alias: str, body: str) -> str:
    """A field with maybe an alias and a directive."""
    prefix = f"{alias}: " if draw(st.booleans()) else ""
    return prefix + body.replace("@", draw(st.sampled_from(DIRECTIVES)) + " ", 1)


@st.composite
def connection_query(draw: st.DrawFn) -> str:
    """A random connection document over SCHEMA."""
    edges_parts = []
    for index in range(draw(st.integers(1, 2))):
        inside = []
        for node_index in range(draw(st.integers(1, 2))):
            selection = draw(st.sampled_from(NODE_SELECTIONS))
            inside.append(draw(part(f"n{node_index}", f"node @ {{ {selection} }}")))
        inside += draw(
            st.lists(st.sampled_from(["cursor", "__typename", "...EdgeFields"]), max_size=2)
        )
        inside = draw(st.permutations(inside))
        if draw(st.integers(0, 4)) == 0:
            inside = [f"... on ThingEdge {{ {' '.join(inside)} }}"]
        edges_parts.append(draw(part(f"e{index}", f"edges @ {{ {' '.join(inside)} }}")))
    top = list(edges_parts)
    if draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(PAGE_INFO_FIELDS), min_size=1, unique=True))
        if draw(st.booleans()):
            chosen.append("...PageFields")
        top.append(draw(part("info", f"pageInfo @ {{ {' '.join(chosen)} }}")))
    if draw(st.booleans()):
        top.append(draw(part("total", "totalCount @")))
    if draw(st.booleans()):
        top.append("__typename")
    top = draw(st.permutations(top))
    if draw(st.integers(0, 4)) == 0:
        top = [f"... on ThingConnection {{ {' '.join(top)} }}"]
    root = draw(st.sampled_from(["thingsPage", "maybeThings", "r: thingsPage"]))
    text = f"{{ {root} {{ {' '.join(top)} }} }}"
    used = [body for name, body in FRAGMENTS.items() if f"...{name}" in text]
    return " ".join([text, *used])


# Ordering key values as PostgreSQL's text: anything a cursor must escape, and nulls.
KEY_VALUE = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(['"', "\\", "\n", "é😀"]))


@st.composite
def page(draw: st.DrawFn, typical: bool) -> dict[str, Any]:
    """A connection page as ``read_page(..., parse_nodes=False)`` returns it (edges as
    :class:`EdgeRows`), or with its edges as a list of dicts."""
    nodes = draw(st.lists(document(NODE_SHAPE, typical), max_size=4))
    edges: Any
    if draw(st.booleans()):
        signature = draw(st.text(min_size=1, max_size=8))
        size = draw(st.integers(1, 3))
        keys = [draw(st.lists(KEY_VALUE, min_size=size, max_size=size)) for _ in nodes]
        edges = EdgeRows(signature, nodes, keys)
        cursors = [encode_cursor(signature, key) for key in keys]
    else:
        cursors = [draw(st.text(max_size=8)) for _ in nodes]
        edges = [{"node": n, "cursor": c} for n, c in zip(nodes, cursors, strict=True)]
    total: Any = draw(st.integers(len(nodes), 10**6))
    if not typical and draw(st.integers(0, 10)) == 0:
        total = None  # not asked for by the SQL: the Python builder reports the null
    return {
        "edges": edges,
        "page_info": {
            "has_next_page": draw(st.booleans()),
            "has_previous_page": draw(st.booleans()),
            "start_cursor": cursors[0] if cursors else None,
            "end_cursor": cursors[-1] if cursors else None,
        },
        "total_count": total,
    }


def assert_same(field: FieldPlan, source: dict[str, Any]) -> bytes | None:
    """C and Python agree on a page; returns what the C path itself wrote (None: it declined)."""
    compiled = C_BUILDER.compile_connection(field)
    assert isinstance(compiled, CompiledConnection)
    c = outcome(C_BUILDER.render_connection, compiled, source)
    python = outcome(PYTHON_BUILDER.render_connection, field, source)
    assert c == python, f"page={source!r}"
    if compiled.envelope is None:
        return None
    try:
        written = compiled.envelope(source)
    except Declined:
        return None
    assert python == ("renders", written, [], False)
    return written


def selects_node(field: FieldPlan) -> bool:
    """Whether any ``edges`` of the connection selects its ``node`` (``@skip`` may drop all)."""
    assert field.shape is not None
    return any(
        edge.name == "node"
        for edges in field.shape.fields
        if edges.name == "edges" and edges.shape is not None and edges.shape.item is not None
        for edge in edges.shape.item.fields
    )


@given(connection_query(), st.booleans(), st.data())
@examples(0.5)
def test_connection_pages_match_python(query: str, typical: bool, data: st.DataObject) -> None:
    field = plan_of(query)
    source = data.draw(page(typical))
    written = assert_same(field, source)
    covered = "level" not in query and selects_node(field)
    if typical and covered:
        assert written is not None, "a typical page must take the C path"


def _typical_node(**changes: Any) -> str:
    node = {"id": "00000000-0000-0000-0000-000000000001", "name": "a", "view_count": 3}
    node.update(changes)
    return orjson.dumps(node).decode()


def _page(*nodes: str, total: int | None = 2, rows: bool = False) -> dict[str, Any]:
    edges: Any = [{"node": node, "cursor": f"c{index}"} for index, node in enumerate(nodes)]
    if rows:  # as auto connections read them: cursors made from the keys when written
        edges = EdgeRows("sig", list(nodes), [[f"k{index}", None] for index in range(len(nodes))])
    return {
        "edges": edges,
        "page_info": {
            "has_next_page": True,
            "has_previous_page": False,
            "start_cursor": "c0" if nodes else None,
            "end_cursor": f"c{len(nodes) - 1}" if nodes else None,
        },
        "total_count": total,
    }


QUERY = """{ %s {
    __typename
    total: totalCount
    items: edges { c: cursor __typename item: node { __typename id name viewCount } }
    more: edges { node { id } }
    pageInfo { hasNextPage @skip(if: true) endCursor startCursor __typename }
} }"""


@pytest.mark.parametrize("root", ["thingsPage", "maybeThings"])
def test_an_empty_page_takes_the_c_path(root: str) -> None:
    written = assert_same(plan_of(QUERY % root), _page(total=0))
    assert written == (
        b'{"__typename":"ThingConnection","total":0,"items":[],"more":[],'
        b'"pageInfo":{"endCursor":null,"startCursor":null,"__typename":"PageInfo"}}'
    )


@pytest.mark.parametrize("rows", [False, True])
def test_a_typical_page_takes_the_c_path_in_selection_order(rows: bool) -> None:
    source = _page(_typical_node(), _typical_node(), rows=rows)
    written = assert_same(plan_of(QUERY % "thingsPage"), source)
    assert written is not None
    assert orjson.loads(written)["items"][1] == {
        "c": encode_cursor("sig", ["k1", None]) if rows else "c1",
        "__typename": "ThingEdge",
        "item": {
            "__typename": "Thing",
            "id": "00000000-0000-0000-0000-000000000001",
            "name": "a",
            "viewCount": 3,
        },
    }


@pytest.mark.parametrize("root", ["thingsPage", "maybeThings"])
def test_a_missing_non_null_field_nulls_the_connection_as_python_does(root: str) -> None:
    broken = orjson.dumps(
        {"id": "00000000-0000-0000-0000-000000000002", "view_count": 1}
    ).decode()  # no name
    field = plan_of(QUERY % root)
    source = _page(_typical_node(), broken, broken)
    assert assert_same(field, source) is None
    rendered = C_BUILDER.render_connection(C_BUILDER.compile_connection(field), source)
    assert [error["path"] for error in rendered.errors] == [[root, "items", 1, "item", "name"]]
    assert rendered.bubbled == (root == "thingsPage")


def test_a_null_total_count_is_reported_as_python_does() -> None:
    assert assert_same(plan_of(QUERY % "maybeThings"), _page(_typical_node(), total=None)) is None


def test_a_node_the_c_core_does_not_cover_makes_the_page_python() -> None:
    compiled = C_BUILDER.compile_connection(plan_of("{ thingsPage { edges { node { level } } } }"))
    assert isinstance(compiled, CompiledConnection) and compiled.envelope is None


def test_a_selection_without_nodes_is_left_to_python() -> None:
    field = plan_of("{ thingsPage { totalCount edges { cursor } pageInfo { hasNextPage } } }")
    compiled = C_BUILDER.compile_connection(field)
    assert isinstance(compiled, CompiledConnection) and compiled.envelope is None
    assert assert_same(field, _page(_typical_node(), total=1)) is None


def test_edge_rows_are_written_whole_by_the_c_core(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page read by an auto connection: no node goes through render_one, no cursor through
    encode_cursor in Python; one render_edges call per ``edges`` selection."""
    from fraiseql import _native
    from fraiseql.sql import select

    calls: list[str] = []
    monkeypatch.setattr(select, "encode_cursor", lambda *args: calls.append("encode_cursor") or "x")
    compiled = C_BUILDER.compile_connection(plan_of(QUERY % "thingsPage"))
    assert isinstance(compiled, CompiledConnection) and compiled.envelope is not None
    source = _page(_typical_node(), _typical_node(), rows=True)
    real_render_one = _native.render_one
    monkeypatch.setattr(
        _native, "render_one", lambda *args: calls.append("render_one") or real_render_one(*args)
    )
    assert compiled.envelope(source) is not None
    assert calls == []


@pytest.mark.parametrize(
    "arguments",
    [
        (),
        ((), [], []),
        ("fields", [], [], b""),
        (((b'"c":', 1, None),), ["{}"], [], b""),  # texts and keys of different lengths
        (((b'"c":', 1, None),), ("{}",), [["k"]], b""),  # a tuple instead of a list
        (((b'"c":', 1, None),), ["{}"], [["k"]], "prefix"),
        (((b'"c":', 9, None),), [], [], b""),  # unknown kind
        (((b'"c":', 2**70, None),), [], [], b""),  # a kind beyond a C long
        (((b'"c":', 0, "not bytes"),), [], [], b""),
        (((b'"c":', 2, object()),), [], [], b""),  # a node that is not a Plan
        (((b'"c":', 1),), [], [], b""),
        (tuple((b'"c":', 1, None) for _ in range(65)), [], [], b""),
    ],
)
def test_render_edges_rejects_malformed_arguments(arguments: tuple[Any, ...]) -> None:
    from fraiseql import _native

    with pytest.raises(TypeError):
        _native.render_edges(*arguments)


@pytest.mark.parametrize(
    "key",
    [
        "not a list",
        [1],  # a value that is neither text nor null
        ["\ud800"],  # a lone surrogate: no UTF-8 form, Python reports it
        [b"bytes"],
    ],
)
def test_render_edges_leaves_unusual_keys_to_python(key: Any) -> None:
    from fraiseql import _native

    fields = ((b'"c":', 1, None),)
    assert _native.render_edges(fields, ["{}"], [key], b'["1","s",[') is None
    assert _native.render_edges(fields, ["{}"], [["ok", None, '\\n"']], b'["1","s",[') is not None


def test_render_edges_leaves_unusual_nodes_to_python() -> None:
    from fraiseql import _native

    plan = _native.compile_plan(
        (
            1,
            False,
            0,
            b'"T"',
            ((b'"id":', b"id", False, (0, False, 0, None, None, None, None)),),
            None,
            None,
        )
    )
    fields = ((b'"n":', 2, plan),)
    for text in [None, 7, "{", '{"id": 1}', "[" * 10_000, "\ud800"]:
        assert _native.render_edges(fields, [text], [[]], b"") is None
    huge = '{"id": "' + "x" * 1_000_000 + '"}'
    assert (
        _native.render_edges(fields, [huge], [[]], b"")
        == b'[{"n":{"id":"' + b"x" * 1_000_000 + b'"}}]'
    )
