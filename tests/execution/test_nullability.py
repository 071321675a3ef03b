"""Null propagation (GraphQL spec §6.4.4): a null in a non-null position nulls the nearest
nullable parent and is reported once, with the field's path and locations.

Every case is also run by graphql-core over the same schema and root value; both responses must
be equal. The schema has only custom root fields, so it needs no database.
"""

from __future__ import annotations

from typing import Any

import pytest

import fraiseql
from fraiseql import Schema

from .oracle import (
    INVALID_RESPONSE_VALUE,
    assert_same_response,
    custom_root,
    execute_reference,
    location,
)

INVALID = {"code": INVALID_RESPONSE_VALUE}


@fraiseql.type
class Leaf:
    name: str
    note: str | None = None
    size: int | None = None


@fraiseql.type
class Branch:
    label: str
    leaf: Leaf
    maybe_leaf: Leaf | None
    leaves: list[Leaf]
    loose: list[Leaf | None] | None
    matrix: list[list[int]] | None


@fraiseql.type
class Tree:
    branch: Branch | None
    other: Branch | None
    strict_branch: Branch


@fraiseql.query
def tree(info) -> Tree | None:
    return info.context["tree"]  # type: ignore[no-any-return]


@fraiseql.query
def strict_tree(info) -> Tree:
    return info.context["tree"]  # type: ignore[no-any-return]


@fraiseql.query
def nothing(info) -> str:
    return info.context.get("nothing")  # type: ignore[no-any-return]


@fraiseql.query
def greeting(info) -> str | None:
    return "hello"


SCHEMA = Schema(types=[Tree], queries=[tree, strict_tree, nothing, greeting])


def leaf(name: str | None = "a", **extra: Any) -> dict[str, Any]:
    return {"name": name, **extra}


def branch(**overrides: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "label": "b",
        "leaf": leaf(),
        "maybe_leaf": leaf("m"),
        "leaves": [leaf("x"), leaf("y")],
        "loose": [leaf("p"), None],
        "matrix": [[1, 2], [3]],
    }
    value.update(overrides)
    return value


async def run_both(query: str, context: dict[str, Any]) -> dict[str, Any]:
    """FraiseQL's response, after checking that graphql-core's is the same."""
    actual = await SCHEMA.run(query, context=context)
    expected = await execute_reference(
        SCHEMA, query, root_value=custom_root(SCHEMA), context=context
    )
    assert_same_response(actual, expected, query)
    return actual


def non_null(field: str) -> str:
    return f"Cannot return null for non-nullable field {field}."


async def test_null_in_a_nullable_field_is_no_error() -> None:
    query = "{ tree { branch { maybeLeaf { name note } loose { name } } } }"
    result = await run_both(query, {"tree": {"branch": branch(maybe_leaf=None)}})
    assert result == {
        "data": {"tree": {"branch": {"maybeLeaf": None, "loose": [{"name": "p"}, None]}}}
    }


async def test_null_bubbles_to_the_nullable_object_field() -> None:
    query = "{ tree { branch { label maybeLeaf { note name } } } }"
    result = await run_both(query, {"tree": {"branch": branch(maybe_leaf=leaf(None))}})
    assert result == {
        "errors": [
            {
                "message": non_null("Leaf.name"),
                "locations": [location(query, "name")],
                "path": ["tree", "branch", "maybeLeaf", "name"],
                "extensions": INVALID,
            }
        ],
        "data": {"tree": {"branch": {"label": "b", "maybeLeaf": None}}},
    }


async def test_null_bubbles_through_non_null_objects() -> None:
    query = "{ tree { other { label } branch { label leaf { name } } } }"
    context = {"tree": {"branch": branch(leaf=leaf(None)), "other": branch(label="o")}}
    result = await run_both(query, context)
    assert result == {
        "errors": [
            {
                "message": non_null("Leaf.name"),
                "locations": [location(query, "name")],
                "path": ["tree", "branch", "leaf", "name"],
                "extensions": INVALID,
            }
        ],
        "data": {"tree": {"other": {"label": "o"}, "branch": None}},
    }


async def test_null_bubbles_up_to_the_nullable_root_field() -> None:
    query = "{ greeting tree { strictBranch { leaf { name } } } }"
    result = await run_both(query, {"tree": {"strict_branch": branch(leaf=leaf(None))}})
    assert result == {
        "errors": [
            {
                "message": non_null("Leaf.name"),
                "locations": [location(query, "name")],
                "path": ["tree", "strictBranch", "leaf", "name"],
                "extensions": INVALID,
            }
        ],
        "data": {"greeting": "hello", "tree": None},
    }


async def test_null_in_a_non_null_root_field_makes_data_null() -> None:
    query = "{ greeting strictTree { strictBranch { leaf { name } } } }"
    result = await run_both(query, {"tree": {"strict_branch": branch(leaf=leaf(None))}})
    assert result == {
        "errors": [
            {
                "message": non_null("Leaf.name"),
                "locations": [location(query, "name")],
                "path": ["strictTree", "strictBranch", "leaf", "name"],
                "extensions": INVALID,
            }
        ],
        "data": None,
    }


async def test_a_non_null_root_field_returning_null() -> None:
    query = "query Q {\n  greeting\n  nothing\n}"
    result = await run_both(query, {})
    assert result == {
        "errors": [
            {
                "message": non_null("Query.nothing"),
                "locations": [{"line": 3, "column": 3}],
                "path": ["nothing"],
                "extensions": INVALID,
            }
        ],
        "data": None,
    }


async def test_null_item_of_a_non_null_list() -> None:
    query = "{ tree { other { label } branch { leaves { name } } } }"
    context = {"tree": {"branch": branch(leaves=[leaf("x"), None, None]), "other": branch()}}
    result = await run_both(query, context)
    assert result == {
        "errors": [
            {
                "message": non_null("Branch.leaves"),
                "locations": [location(query, "leaves")],
                "path": ["tree", "branch", "leaves", 1],
                "extensions": INVALID,
            }
        ],
        "data": {"tree": {"other": {"label": "b"}, "branch": None}},
    }


async def test_several_nulls_in_one_non_null_list_give_one_error() -> None:
    query = "{ tree { branch { leaves { name } } } }"
    leaves = [leaf("x"), leaf(None), leaf("z"), leaf(None)]
    result = await run_both(query, {"tree": {"branch": branch(leaves=leaves)}})
    assert result["data"] == {"tree": {"branch": None}}
    assert result["errors"] == [
        {
            "message": non_null("Leaf.name"),
            "locations": [location(query, "name")],
            "path": ["tree", "branch", "leaves", 1, "name"],
            "extensions": INVALID,
        }
    ]


async def test_nullable_list_items_are_nulled_one_by_one() -> None:
    query = "{ tree { branch { loose { name } } } }"
    loose = [leaf("p"), leaf(None), None, leaf("q"), leaf(None)]
    result = await run_both(query, {"tree": {"branch": branch(loose=loose)}})
    assert result["data"] == {
        "tree": {"branch": {"loose": [{"name": "p"}, None, None, {"name": "q"}, None]}}
    }
    assert [e["path"] for e in result["errors"]] == [
        ["tree", "branch", "loose", 1, "name"],
        ["tree", "branch", "loose", 4, "name"],
    ]


async def test_null_in_a_nested_list() -> None:
    query = "{ tree { branch { label matrix } } }"
    result = await run_both(query, {"tree": {"branch": branch(matrix=[[1, 2], [3, None]])}})
    assert result == {
        "errors": [
            {
                "message": non_null("Branch.matrix"),
                "locations": [location(query, "matrix")],
                "path": ["tree", "branch", "matrix", 1, 1],
                "extensions": INVALID,
            }
        ],
        "data": {"tree": {"branch": {"label": "b", "matrix": None}}},
    }


async def test_errors_in_sibling_branches_are_each_reported_once() -> None:
    query = "{ tree { branch { maybeLeaf { name } } other { maybeLeaf { name } label } } }"
    context = {
        "tree": {
            "branch": branch(maybe_leaf=leaf(None)),
            "other": branch(maybe_leaf=leaf(None), label="o"),
        }
    }
    result = await run_both(query, context)
    assert result["data"] == {
        "tree": {"branch": {"maybeLeaf": None}, "other": {"maybeLeaf": None, "label": "o"}}
    }
    assert sorted(e["path"] for e in result["errors"]) == [
        ["tree", "branch", "maybeLeaf", "name"],
        ["tree", "other", "maybeLeaf", "name"],
    ]
    assert [e["locations"] for e in result["errors"]] == [
        [location(query, "name", 0)],
        [location(query, "name", 1)],
    ]


async def test_error_path_uses_aliases_and_locations_point_into_fragments() -> None:
    query = """query {
  tree {
    b: branch {
      ...F
    }
  }
}

fragment F on Branch {
  label
  l: leaf { n: name }
}"""
    result = await run_both(query, {"tree": {"branch": branch(leaf=leaf(None))}})
    assert result == {
        "errors": [
            {
                "message": non_null("Leaf.name"),
                "locations": [{"line": 11, "column": 13}],
                "path": ["tree", "b", "l", "n"],
                "extensions": INVALID,
            }
        ],
        "data": {"tree": {"b": None}},
    }


async def test_merged_fields_report_every_location() -> None:
    query = "{ tree { branch { leaf { name } leaf { name note } } } }"
    result = await run_both(query, {"tree": {"branch": branch(leaf=leaf(None))}})
    assert result["errors"] == [
        {
            "message": non_null("Leaf.name"),
            "locations": [location(query, "name", 0), location(query, "name", 1)],
            "path": ["tree", "branch", "leaf", "name"],
            "extensions": INVALID,
        }
    ]
    assert result["data"] == {"tree": {"branch": None}}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("big", "Int cannot represent non-integer value: 'big'"),
        (2**40, "Int cannot represent non 32-bit signed integer value: 1099511627776"),
        (1.5, "Int cannot represent non-integer value: 1.5"),
    ],
)
async def test_a_value_that_does_not_serialize_is_a_field_error(value: Any, message: str) -> None:
    query = "{ tree { branch { leaf { name size } } } }"
    result = await run_both(query, {"tree": {"branch": branch(leaf=leaf("a", size=value))}})
    assert result == {
        "errors": [
            {
                "message": message,
                "locations": [location(query, "size")],
                "path": ["tree", "branch", "leaf", "size"],
                "extensions": INVALID,
            }
        ],
        "data": {"tree": {"branch": {"leaf": {"name": "a", "size": None}}}},
    }


async def test_a_value_that_does_not_serialize_in_a_non_null_field_bubbles() -> None:
    query = "{ tree { branch { label } other { label } } }"
    context = {"tree": {"branch": branch(label={"not": "a string"}), "other": branch()}}
    result = await run_both(query, context)
    assert result["data"] == {"tree": {"branch": None, "other": {"label": "b"}}}
    assert [e["path"] for e in result["errors"]] == [["tree", "branch", "label"]]


@fraiseql.type
class Account:
    name: str

    @fraiseql.field()
    def nickname(self, info) -> str:
        return info.context.get("nickname")  # type: ignore[no-any-return]

    @fraiseql.field()
    async def balance(self, info) -> int:
        raise fraiseql.FraiseQLError("Balance unavailable", code="UNAVAILABLE")

    @fraiseql.field()
    def motto(self, info) -> str | None:
        return None


@fraiseql.type
class Bank:
    account: Account | None
    accounts: list[Account] | None


@fraiseql.query
def bank(info) -> Bank:
    return Bank(account=Account(name="ann"), accounts=[Account(name="bo"), Account(name="cy")])


RESOLVER_SCHEMA = Schema(types=[Bank], queries=[bank])


async def test_field_resolver_returning_null_for_a_non_null_field() -> None:
    query = "{ bank { account { name motto nickname } } }"
    result = await RESOLVER_SCHEMA.run(query, context={})
    assert result == {
        "errors": [
            {
                "message": non_null("Account.nickname"),
                "locations": [location(query, "nickname")],
                "path": ["bank", "account", "nickname"],
                "extensions": INVALID,
            }
        ],
        "data": {"bank": {"account": None}},
    }


async def test_field_resolver_error_in_a_non_null_field_is_the_only_error() -> None:
    query = "{ bank { accounts { name balance } account { name } } }"
    result = await RESOLVER_SCHEMA.run(query)
    assert result == {
        "errors": [
            {
                "message": "Balance unavailable",
                "locations": [location(query, "balance")],
                "path": ["bank", "accounts", 0, "balance"],
                "extensions": {"code": "UNAVAILABLE"},
            }
        ],
        "data": {"bank": {"accounts": None, "account": {"name": "ann"}}},
    }


async def test_a_value_that_is_not_an_object_is_a_field_error() -> None:
    query = "{ tree { branch { label maybeLeaf { name } } } }"
    result = await SCHEMA.run(query, context={"tree": {"branch": branch(maybe_leaf="oops")}})
    assert result == {
        "errors": [
            {
                "message": "Expected an object of type Leaf.",
                "locations": [location(query, "maybeLeaf")],
                "path": ["tree", "branch", "maybeLeaf"],
                "extensions": INVALID,
            }
        ],
        "data": {"tree": {"branch": {"label": "b", "maybeLeaf": None}}},
    }


async def test_a_value_that_is_not_a_list_is_a_field_error() -> None:
    query = "{ tree { branch { loose { name } leaves { name } } } }"
    result = await SCHEMA.run(query, context={"tree": {"branch": branch(loose="abc")}})
    assert result == {
        "errors": [
            {
                "message": "Expected a list for field Branch.loose, got str.",
                "locations": [location(query, "loose")],
                "path": ["tree", "branch", "loose"],
                "extensions": INVALID,
            }
        ],
        "data": {"tree": {"branch": {"loose": None, "leaves": [{"name": "x"}, {"name": "y"}]}}},
    }


async def test_tuples_complete_as_lists() -> None:
    query = "{ tree { branch { leaves { name } matrix } } }"
    value = branch(leaves=(leaf("t"), leaf("u")), matrix=((1,), (2, 3)))
    result = await run_both(query, {"tree": {"branch": value}})
    assert result == {
        "data": {
            "tree": {"branch": {"leaves": [{"name": "t"}, {"name": "u"}], "matrix": [[1], [2, 3]]}}
        }
    }
