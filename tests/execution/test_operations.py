"""Requests as a whole: choosing the operation, coercing variables, request errors (a response
with ``errors`` and no ``data``), introspection next to data, and schemas side by side."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable
from typing import Any

import pytest
from graphql import execute, get_introspection_query, graphql_sync, parse

import fraiseql
from fraiseql import Schema

from .oracle import assert_same_response, custom_root, execute_reference, location


@fraiseql.enum
class Size(enum.Enum):
    SMALL = "s"
    LARGE = "l"


@fraiseql.input
class Filter:
    prefix: str
    size: Size | None = None


@fraiseql.type
class Item:
    name: str
    size: Size


ITEMS = [Item(name="apple", size=Size.SMALL), Item(name="avocado", size=Size.LARGE)]


@fraiseql.query
def items(info, filter: Filter | None = None, limit: int = 10) -> list[Item]:
    chosen = [
        item
        for item in ITEMS
        if filter is None
        or (item.name.startswith(filter.prefix) and filter.size in (None, item.size))
    ]
    return chosen[:limit]


@fraiseql.query
def echo(info, n: int, text: str | None = None) -> str:
    return f"{n}:{text}"


SCHEMA = Schema(types=[Item], queries=[items, echo])

TWO_OPERATIONS = """
query First { echo(n: 1) }
query Second($n: Int! = 2) { echo(n: $n) items { name } }
"""


def assert_request_error(result: dict[str, Any], message: str, code: str | None = None) -> None:
    """A request error: ``errors`` only, the first one with ``message`` in it."""
    assert "data" not in result, result
    assert result["errors"], result
    assert message in result["errors"][0]["message"], result["errors"]
    if code is not None:
        assert result["errors"][0]["extensions"]["code"] == code


async def test_operation_selected_by_name() -> None:
    assert await SCHEMA.run(TWO_OPERATIONS, operation_name="First") == {"data": {"echo": "1:None"}}
    assert await SCHEMA.run(TWO_OPERATIONS, {"n": 5}, "Second") == {
        "data": {"echo": "5:None", "items": [{"name": "apple"}, {"name": "avocado"}]}
    }


async def test_several_operations_need_an_operation_name() -> None:
    result = await SCHEMA.run(TWO_OPERATIONS)
    assert_request_error(
        result, "Must provide operation name if query contains multiple operations."
    )


@pytest.mark.parametrize("name", ["Third", "first", ""])
async def test_unknown_operation_name(name: str) -> None:
    result = await SCHEMA.run(TWO_OPERATIONS, operation_name=name)
    assert_request_error(result, f"Unknown operation named '{name}'.")


async def test_operation_name_of_an_anonymous_operation() -> None:
    assert await SCHEMA.run("{ echo(n: 3) }") == {"data": {"echo": "3:None"}}
    assert_request_error(
        await SCHEMA.run("{ echo(n: 3) }", operation_name="Named"),
        "Unknown operation named 'Named'.",
    )


@pytest.mark.parametrize(
    ("query", "variables", "name", "message"),
    [
        ("query($n: Int!) { echo(n: $n) }", {}, "n", "non-null type 'Int!' to be provided"),
        ("query($n: Int!) { echo(n: $n) }", None, "n", "non-null type 'Int!' to be provided"),
        ("query($n: Int!) { echo(n: $n) }", {"n": None}, "n", "not to be None"),
        ("query($n: Int!) { echo(n: $n) }", {"n": "three"}, "n", "non-integer value: 'three'"),
        ("query($n: Int!) { echo(n: $n) }", {"n": 2**31}, "n", "non 32-bit signed integer"),
        (
            "query($n: Int = 1, $t: String) { echo(n: $n, text: $t) }",
            {"t": 5},
            "t",
            "String cannot represent a non string value: 5",
        ),
        (
            "query($f: Filter) { items(filter: $f) { name } }",
            {"f": {"size": "SMALL"}},
            "f",
            "include required field 'prefix'",
        ),
        (
            "query($f: Filter) { items(filter: $f) { name } }",
            {"f": {"prefix": "a", "size": "MEDIUM"}},
            "f",
            "Value 'MEDIUM' does not exist in 'Size' enum",
        ),
        (
            "query($f: Filter) { items(filter: $f) { name } }",
            {"f": {"prefix": "a", "colour": "red"}},
            "f",
            "unknown field 'colour'",
        ),
    ],
)
async def test_bad_variables_are_request_errors(
    query: str, variables: dict[str, Any] | None, name: str, message: str
) -> None:
    result = await SCHEMA.run(query, variables)
    assert_request_error(result, message, "BAD_USER_INPUT")
    assert result["errors"][0]["message"].startswith(f"Variable '${name}' ")
    assert result["errors"][0]["locations"] == [location(query, f"${name}:")]
    # graphql-core reports the same errors (and, being a library, a null ``data``).
    reference = execute(SCHEMA.graphql_schema, parse(query), variable_values=variables)
    assert not isinstance(reference, Awaitable)
    assert reference.data is None
    assert result["errors"] == [
        {**e.formatted, "extensions": {"code": "BAD_USER_INPUT"}} for e in reference.errors or ()
    ]


async def test_good_variables_with_inputs_and_enums() -> None:
    query = "query($f: Filter, $l: Int = 10) { items(filter: $f, limit: $l) { name size } }"
    assert await SCHEMA.run(query, {"f": {"prefix": "a", "size": "LARGE"}}) == {
        "data": {"items": [{"name": "avocado", "size": "LARGE"}]}
    }
    assert await SCHEMA.run(query, {"f": {"prefix": "a"}, "l": 1}) == {
        "data": {"items": [{"name": "apple", "size": "SMALL"}]}
    }


@pytest.mark.parametrize(
    ("query", "message", "code"),
    [
        ("{ echo(n: 1) ", "Syntax Error", "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "Cannot query field 'nope' on type 'Query'.", "GRAPHQL_VALIDATION_FAILED"),
        ("{ echo }", "'Query.echo(n:)' of type 'Int!' is required", "GRAPHQL_VALIDATION_FAILED"),
        ('{ echo(n: "1") }', "Int cannot represent non-integer value", "GRAPHQL_VALIDATION_FAILED"),
        (
            "query($unused: Int) { echo(n: 1) }",
            "Variable '$unused' is never used.",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "mutation { echo(n: 1) }",
            "The mutation operation is not supported by the schema.",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("{ items { name } items { name: size } }", "conflict", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_invalid_documents_are_request_errors(query: str, message: str, code: str) -> None:
    assert_request_error(await SCHEMA.run(query), message, code)


@pytest.mark.parametrize("query", ["", "   \n"])
async def test_an_empty_query_is_a_request_error(query: str) -> None:
    assert_request_error(await SCHEMA.run(query), "Must provide a query string.")


async def test_a_valid_document_runs_again_after_a_request_error() -> None:
    query = "query($n: Int!) { echo(n: $n) }"
    assert "data" not in await SCHEMA.run(query, {"n": "x"})
    assert await SCHEMA.run(query, {"n": 7}) == {"data": {"echo": "7:None"}}
    assert "data" not in await SCHEMA.run(query, {})


async def test_plans_follow_the_values_of_directive_variables() -> None:
    """One document, run with alternating ``@skip``/``@include`` values (plans are cached)."""
    query = """query($a: Boolean!, $b: Boolean = false) {
        items { name @include(if: $a) ...S @skip(if: $b) }
        e: echo(n: 1) @include(if: $b)
    }
    fragment S on Item { size @skip(if: $a) }"""
    for a, b in [(True, False), (False, False), (True, True), (True, False), (False, None)]:
        variables: dict[str, Any] = {"a": a} if b is None else {"a": a, "b": b}
        result = await SCHEMA.run(query, variables)
        reference = await execute_reference(
            SCHEMA, query, variables, root_value=custom_root(SCHEMA)
        )
        assert_same_response(result, reference, str(variables))


# --- introspection ------------------------------------------------------------------------------


async def test_introspection_next_to_data_fields() -> None:
    query = """query($type: String!) {
        first: echo(n: 1)
        __schema { queryType { name } types { name } }
        items { name __typename }
        __type(name: $type) { name kind fields { name type { kind ofType { name } } } }
        __typename
        alias: __type(name: "Size") { enumValues { name } }
    }"""
    variables = {"type": "Item"}
    result = await SCHEMA.run(query, variables)
    reference = await execute_reference(SCHEMA, query, variables, root_value=custom_root(SCHEMA))
    assert_same_response(result, reference)
    data = result["data"]
    assert list(data) == ["first", "__schema", "items", "__type", "__typename", "alias"]
    assert data["__type"]["fields"][0] == {
        "name": "name",
        "type": {"kind": "NON_NULL", "ofType": {"name": "String"}},
    }
    assert {"name": "Filter"} in data["__schema"]["types"]


async def test_introspection_in_fragments_and_with_skip() -> None:
    query = """query($skip: Boolean!) {
        ...Intro
        echo(n: 2)
        __schema @skip(if: $skip) { queryType { name } }
    }
    fragment Intro on Query { t: __type(name: "Filter") { inputFields { name } } }"""
    for skip in (True, False):
        result = await SCHEMA.run(query, {"skip": skip})
        reference = await execute_reference(
            SCHEMA, query, {"skip": skip}, root_value=custom_root(SCHEMA)
        )
        assert_same_response(result, reference)
        assert ("__schema" in result["data"]) is not skip


async def test_the_full_introspection_query_matches_graphql_core() -> None:
    query = get_introspection_query(descriptions=True)
    result = await SCHEMA.run(query)
    assert result == graphql_sync(SCHEMA.graphql_schema, query).formatted


# --- schemas side by side -----------------------------------------------------------------------


@fraiseql.type(name="Animal")
class Cat:
    name: str
    meows: int


@fraiseql.type(name="Animal")
class Dog:
    name: str
    barks: bool


@fraiseql.query
def cat_animal(info) -> Cat:
    return Cat(name="tom", meows=3)


@fraiseql.query(name="animal")
def dog_animal(info) -> Dog:
    return Dog(name="rex", barks=True)


@fraiseql.query(name="animal")
def cat_as_animal(info) -> Cat:
    return Cat(name="tom", meows=3)


async def test_two_schemas_with_types_of_the_same_name_do_not_interfere() -> None:
    cats = Schema(types=[Cat, Size], queries=[cat_as_animal, echo])
    dogs = Schema(types=[Dog], queries=[dog_animal, items])
    assert "meows" in cats.print_schema() and "barks" not in cats.print_schema()
    assert "barks" in dogs.print_schema() and "meows" not in dogs.print_schema()
    for _ in range(2):  # the second round answers from each schema's document cache
        assert await cats.run("{ animal { name meows } }") == {
            "data": {"animal": {"name": "tom", "meows": 3}}
        }
        assert_request_error(
            await dogs.run("{ animal { name meows } }"),
            "Cannot query field 'meows' on type 'Animal'.",
        )
        assert await dogs.run("{ animal { name barks } }") == {
            "data": {"animal": {"name": "rex", "barks": True}}
        }
        assert_request_error(await cats.run("{ animal { barks } }"), "Cannot query field 'barks'")
        assert_request_error(await cats.run("{ items { name } }"), "Cannot query field 'items'")


async def test_the_same_classes_in_two_schemas_with_different_queries() -> None:
    small = Schema(types=[Item], queries=[echo])
    large = Schema(types=[Item, Cat], queries=[items, echo, cat_animal])
    assert small.graphql_schema.get_type("Item") is not large.graphql_schema.get_type("Item")
    assert small.graphql_schema.get_type("Animal") is None
    query = "{ echo(n: 4) items { size } catAnimal { name } }"
    results = await asyncio.gather(small.run(query), large.run(query), SCHEMA.run(query))
    assert_request_error(results[0], "Cannot query field 'items' on type 'Query'.")
    assert results[1] == {
        "data": {
            "echo": "4:None",
            "items": [{"size": "SMALL"}, {"size": "LARGE"}],
            "catAnimal": {"name": "tom"},
        }
    }
    assert_request_error(results[2], "Cannot query field 'catAnimal' on type 'Query'.")
    assert await small.run("{ echo(n: 4) }") == {"data": {"echo": "4:None"}}


async def test_a_type_name_clash_inside_one_schema_is_refused() -> None:
    with pytest.raises(TypeError, match="Animal"):
        Schema(types=[Cat, Dog], queries=[cat_animal])
