"""Connection root fields through the executor: the exact response bytes, and who renders them.

The same expected bytes must come out under ``FRAISEQL_IMPL=c`` (each node by the C core inside
a written envelope) and ``FRAISEQL_IMPL=python`` (the projector): aliases on edges and nodes,
fragments on the connection, edge and page info, ``__typename``, ``@skip``/``@include``, empty
pages, and a row whose document lacks a non-null field (the error, its path and the null
propagation are the Python builder's). A spy checks that typical pages really take the C path
when the C core is active.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
import pytest
from tests.conftest import temporary_database

import fraiseql
from fraiseql import Connection, OrderBy, Schema, Where
from fraiseql.execution.outcome import GraphQLRequest
from fraiseql.native import active_builder
from fraiseql.native.builder import PYTHON_BUILDER, Rendered
from fraiseql.types.scalars import UUID


@fraiseql.type(sql_source="tv_gadget")
class Gadget:
    """A read model with a non-null and a nullable field."""

    id: UUID
    identifier: str
    name: str
    size: int | None
    tags: list[str]


@fraiseql.query
async def gadgets(
    info,
    where: Where[Gadget] | None = None,
    order_by: list[OrderBy[Gadget]] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Gadget]:
    """Gadgets as a Relay connection."""


@fraiseql.query
async def maybe_gadgets(
    info,
    where: Where[Gadget] | None = None,
    order_by: list[OrderBy[Gadget]] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Gadget] | None:
    """Gadgets as a nullable Relay connection."""


def _uuid(index: int) -> str:
    return f"00000000-0000-0000-0000-{index:012d}"


DOCUMENTS = [
    {"id": _uuid(1), "identifier": "g1", "name": "one", "size": 1, "tags": ["a"]},
    {"id": _uuid(2), "identifier": "g2", "name": "two", "size": None, "tags": []},
    {"id": _uuid(3), "identifier": "g3", "name": 'th"ree é', "size": 3, "tags": ["b", "c"]},
    {"id": _uuid(4), "identifier": "g4", "size": 4, "tags": []},  # no name: a non-null field
]


@pytest.fixture(scope="module")
async def gadget_schema(server_dsn: str) -> AsyncIterator[Schema]:
    """A database holding ``DOCUMENTS`` in ``tv_gadget``, and a schema over it."""
    async with temporary_database(server_dsn, collate_c=True) as dsn:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(
                "CREATE TABLE tv_gadget (id uuid PRIMARY KEY, identifier text NOT NULL UNIQUE, "
                "data jsonb NOT NULL)"
            )
            await connection.executemany(
                "INSERT INTO tv_gadget (id, identifier, data) VALUES ($1, $2, $3::jsonb)",
                [(d["id"], d["identifier"], orjson.dumps(d).decode()) for d in DOCUMENTS],
            )
        finally:
            await connection.close()
        schema = Schema(types=[Gadget], queries=[gadgets, maybe_gadgets], database_url=dsn)
        await schema.open()
        try:
            yield schema
        finally:
            await schema.close()


@pytest.fixture
def python_renders(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the connection pages the Python builder renders."""
    calls: list[int] = []
    original = PYTHON_BUILDER.render_connection

    def spy(plan: Any, page: Any) -> Rendered:
        calls.append(1)
        return original(plan, page)

    monkeypatch.setattr(PYTHON_BUILDER, "render_connection", spy)
    return calls


async def body_of(schema: Schema, query: str, variables: dict[str, Any] | None = None) -> bytes:
    """The response bytes of one request."""
    request = GraphQLRequest(query, variables, None)
    response = await schema.execute(schema.prepare(request), request, {})
    return response.body


TYPICAL = 'where: {identifier: {neq: "g4"}}'
CASES = [
    (
        f"{{ gadgets({TYPICAL}) {{ edges {{ node {{ id name size tags }} }} }} }}",
        {
            "data": {
                "gadgets": {
                    "edges": [
                        {"node": {"id": _uuid(1), "name": "one", "size": 1, "tags": ["a"]}},
                        {"node": {"id": _uuid(2), "name": "two", "size": None, "tags": []}},
                        {
                            "node": {
                                "id": _uuid(3),
                                "name": 'th"ree é',
                                "size": 3,
                                "tags": ["b", "c"],
                            }
                        },
                    ]
                }
            }
        },
    ),
    (
        f"""query($yes: Boolean!) {{ all: gadgets({TYPICAL}, first: 2) {{
            __typename
            total: totalCount
            items: edges {{ ...Edge item: node {{ __typename n: name }} }}
            ids: edges @include(if: $yes) {{ node {{ id }} node {{ size }} }}
            skipped: edges @skip(if: $yes) {{ node {{ id }} }}
            ... on GadgetConnection {{ info: pageInfo {{ ...Page hasPreviousPage }} }}
        }} }}
        fragment Edge on GadgetEdge {{ __typename }}
        fragment Page on PageInfo {{ __typename hasNextPage }}""",
        {
            "data": {
                "all": {
                    "__typename": "GadgetConnection",
                    "total": 3,
                    "items": [
                        {"__typename": "GadgetEdge", "item": {"__typename": "Gadget", "n": "one"}},
                        {"__typename": "GadgetEdge", "item": {"__typename": "Gadget", "n": "two"}},
                    ],
                    "ids": [
                        {"node": {"id": _uuid(1), "size": 1}},
                        {"node": {"id": _uuid(2), "size": None}},
                    ],
                    "info": {
                        "__typename": "PageInfo",
                        "hasNextPage": True,
                        "hasPreviousPage": False,
                    },
                }
            }
        },
    ),
    (
        """{ maybeGadgets(where: {identifier: {eq: "none"}}) {
            totalCount edges { cursor node { id } } pageInfo { startCursor endCursor hasNextPage }
        } }""",
        {
            "data": {
                "maybeGadgets": {
                    "totalCount": 0,
                    "edges": [],
                    "pageInfo": {"startCursor": None, "endCursor": None, "hasNextPage": False},
                }
            }
        },
    ),
]


@pytest.mark.parametrize(("query", "expected"), CASES)
async def test_typical_pages_render_the_expected_bytes(
    gadget_schema: Schema, python_renders: list[int], query: str, expected: dict[str, Any]
) -> None:
    body = await body_of(gadget_schema, query, {"yes": True})
    assert body == orjson.dumps(expected)
    assert bool(python_renders) == (active_builder().name == "python")


async def test_cursors_of_the_edges_are_the_page_info_cursors(gadget_schema: Schema) -> None:
    body = await body_of(
        gadget_schema,
        "{ gadgets(first: 2) { edges { cursor } e: edges { node { id } cursor } "
        "pageInfo { startCursor endCursor } } }",
    )
    page = orjson.loads(body)["data"]["gadgets"]
    cursors = [edge["cursor"] for edge in page["edges"]]
    assert [edge["cursor"] for edge in page["e"]] == cursors
    assert page["pageInfo"] == {"startCursor": cursors[0], "endCursor": cursors[1]}
    after = orjson.loads(
        await body_of(
            gadget_schema,
            "query($c: String) { gadgets(first: 1, after: $c) { edges { node { id } } } }",
            {"c": cursors[1]},
        )
    )
    assert after == {"data": {"gadgets": {"edges": [{"node": {"id": _uuid(3)}}]}}}


@pytest.mark.parametrize(
    ("root", "data"),
    [("gadgets", b"null"), ("maybeGadgets", b'{"maybeGadgets":null}')],
)
async def test_a_missing_non_null_field_nulls_the_connection(
    gadget_schema: Schema, python_renders: list[int], root: str, data: bytes
) -> None:
    query = f"{{ {root}(first: 10) {{ totalCount items: edges {{ item: node {{ id name }} }} }} }}"
    body = await body_of(gadget_schema, query)
    error = {
        "message": "Cannot return null for non-nullable field Gadget.name.",
        "locations": [{"line": 1, "column": query.index(" name ") + 2}],
        "path": [root, "items", 3, "item", "name"],
        "extensions": {"code": "INVALID_RESPONSE_VALUE"},
    }
    assert body == b'{"errors":' + orjson.dumps([error]) + b',"data":' + data + b"}"
    assert python_renders == [1]  # the C core declines the node: Python renders the page
