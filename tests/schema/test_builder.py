from __future__ import annotations

from typing import Annotated

import pytest
from examples.blog.schema import QUERIES, TYPES
from graphql import graphql_sync

import fraiseql
from fraiseql import Connection, OrderBy, Schema, Where
from fraiseql.schema.refs import SchemaDefinitionError


@fraiseql.type(sql_source="tv_a")
class A:
    id: str
    b: B | None
    bs: list[B]


@fraiseql.type
class B:
    name: str


@fraiseql.query
async def a_list(info, where: Where[A] | None = None) -> list[A]: ...


def test_forward_references_and_reachable_types_are_resolved() -> None:
    sdl = Schema(queries=[a_list]).print_schema()
    assert "type B {" in sdl
    assert "aList(where: AWhereInput = null): [A!]!" in sdl
    assert "bs: BListFilter" in sdl


def test_example_schema_sdl_has_generated_inputs() -> None:
    sdl = Schema(types=TYPES, queries=QUERIES).print_schema()
    for expected in (
        "input PostWhereInput {",
        "input StringFilter {",
        "icontains: String",
        "input LTreeFilter {",
        "ancestorOf: LTree",
        "input PostOrderByInput {",
        "enum OrderDirection {",
        "type PostConnection {",
        "type PageInfo {",
        "postsConnection(",
        "input PostCommentListFilter {",
        "some: PostCommentWhereInput",
        "tags: StringListFilter",
        "status: PostStatusFilter",
        "displayName: String!",
    ):
        assert expected in sdl, expected


def test_introspection_works() -> None:
    schema = Schema(types=TYPES, queries=QUERIES)
    result = graphql_sync(schema.graphql_schema, '{ __type(name: "Post") { fields { name } } }')
    assert result.errors is None
    names = {f["name"] for f in result.data["__type"]["fields"]}
    assert {"id", "createdAt", "viewCount", "author", "comments"} <= names


COLOR = fraiseql.scalar("Color", serialize=str, parse_value=str)


def test_two_schemas_in_one_process_are_independent() -> None:
    @fraiseql.type(sql_source="tv_x")
    class X:
        id: str
        shade: Annotated[str, COLOR]

    @fraiseql.query
    async def xs(info) -> list[X]: ...

    first = Schema(types=[X], queries=[xs])
    second = Schema(types=TYPES, queries=QUERIES)
    assert "scalar Color" in first.print_schema()
    assert "Color" not in second.print_schema()
    assert first.graphql_schema.get_type("String") is second.graphql_schema.get_type("String")
    assert first.graphql_schema.get_type("X") is not None
    assert second.graphql_schema.get_type("X") is None


def test_unknown_annotation_names_the_field() -> None:
    @fraiseql.type(sql_source="tv_bad")
    class Bad:
        id: str
        thing: object

    @fraiseql.query
    async def bads(info) -> list[Bad]: ...

    with pytest.raises(SchemaDefinitionError, match=r"Bad\.thing"):
        Schema(types=[Bad], queries=[bads])


def test_anonymous_union_is_refused() -> None:
    @fraiseql.query
    async def either(info) -> A | B:
        return B(name="x")

    with pytest.raises(SchemaDefinitionError, match="union"):
        Schema(queries=[either])


def test_auto_query_needs_a_sql_source() -> None:
    @fraiseql.query
    async def bees(info) -> list[B]: ...

    with pytest.raises(SchemaDefinitionError, match="no sql_source"):
        Schema(queries=[bees])


def test_auto_query_refuses_unknown_arguments() -> None:
    @fraiseql.query
    async def odd(info, colour: str | None = None) -> list[A]: ...

    with pytest.raises(SchemaDefinitionError, match="colour"):
        Schema(queries=[odd])


def test_connection_query_arguments() -> None:
    @fraiseql.query
    async def page(
        info,
        where: Where[A] | None = None,
        order_by: list[OrderBy[A]] | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[A]: ...

    schema = Schema(queries=[page])
    assert schema.model.queries["page"].kind == "connection"


def test_duplicate_graphql_names_are_refused() -> None:
    @fraiseql.type(name="B")
    class OtherB:
        name: str

    @fraiseql.query
    async def both(info) -> list[A]: ...

    with pytest.raises(SchemaDefinitionError, match="two classes are named 'B'"):
        Schema(types=[OtherB], queries=[both])


def test_a_schema_needs_a_query() -> None:
    with pytest.raises(SchemaDefinitionError, match="at least one query"):
        Schema(types=[A])


def test_output_type_as_argument_is_refused() -> None:
    @fraiseql.query
    async def takes_output(info, value: B) -> int:
        return 1

    with pytest.raises(SchemaDefinitionError, match="not an input type"):
        Schema(queries=[takes_output])
