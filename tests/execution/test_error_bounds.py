"""Errors do not echo unbounded client text: messages, error count and error size are bounded.

The rule is :mod:`fraiseql.execution.error_bounds`'s: runs over 100 characters without a space or
a quote are cut, messages over 1000 characters are cut, a response has at most 100 errors in a
64 KiB ``errors`` array, the last one telling how many were left out.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import orjson
from examples.blog.schema import QUERIES, TYPES
from graphql import parse, validate

import fraiseql
from fraiseql import FraiseQLError, Schema
from fraiseql.asgi import build_asgi_app
from fraiseql.execution.error_bounds import (
    ELLIPSIS,
    MAX_ERRORS,
    MAX_ERRORS_BYTES,
    MAX_MESSAGE_LENGTH,
    MAX_NAME_LENGTH,
    TOO_MANY_ERRORS,
    bound_errors,
    shorten_message,
)

BLOG = Schema(types=TYPES, queries=QUERIES)
"""The blog's schema without a database: request errors never reach one."""

# The largest JSON array the limits allow, plus ``{"errors":`` and ``}`` around it.
MAX_BODY = MAX_ERRORS_BYTES + len(b'{"errors":}')


_LONGER_RUN = re.compile(rf"[^\s'\"`]{{{MAX_NAME_LENGTH + 2},}}")
"""A run longer than a shortened one (its 100 characters and the ellipsis)."""


def _size(errors: list[dict[str, Any]]) -> int:
    return len(orjson.dumps(errors))


# --- the rule ------------------------------------------------------------------------------------


def test_short_messages_are_the_same_object() -> None:
    message = "Cannot query field 'nope' on type 'Post'. Did you mean 'node'?"
    assert shorten_message(message) is message
    exact = "x" * MAX_NAME_LENGTH
    assert shorten_message(f"Unknown type '{exact}'.") == f"Unknown type '{exact}'."


def test_long_runs_keep_their_start_and_the_quotes_around_them() -> None:
    name = "a" * 5000
    message = f"Cannot query field '{name}' on type 'Query'."
    assert shorten_message(message) == (
        f"Cannot query field '{'a' * MAX_NAME_LENGTH}{ELLIPSIS}' on type 'Query'."
    )
    literal = f'Int cannot represent non-integer value: "{"b" * 300}"'
    assert shorten_message(literal).endswith(f'"{"b" * MAX_NAME_LENGTH}{ELLIPSIS}"')


def test_long_messages_are_cut() -> None:
    message = "Refused: " + "ab " * 2000
    shortened = shorten_message(message)
    assert shortened == message[:MAX_MESSAGE_LENGTH] + ELLIPSIS


def test_a_megabyte_message_of_runs_at_the_limit_is_cut() -> None:
    message = ("r" * MAX_NAME_LENGTH + " ") * 10_000  # 1 MiB; every run exactly at the limit
    assert len(shorten_message(message)) == MAX_MESSAGE_LENGTH + 1


def test_errors_that_fit_are_returned_as_they_are() -> None:
    errors = [{"message": f"error {i}", "extensions": {"code": "X"}} for i in range(MAX_ERRORS)]
    assert bound_errors(errors) is errors
    assert bound_errors([]) == []


def test_too_many_errors_end_with_a_count_of_the_rest() -> None:
    errors = [{"message": f"error {i}"} for i in range(250)]
    bounded = bound_errors(errors)
    assert len(bounded) == MAX_ERRORS
    assert bounded[: MAX_ERRORS - 1] == errors[: MAX_ERRORS - 1]
    assert bounded[-1] == {
        "message": "151 more errors were left out: a response carries at most 100 errors "
        "in 64 KiB.",
        "extensions": {"code": TOO_MANY_ERRORS, "omitted": 151},
    }
    assert bound_errors(bounded) is bounded  # idempotent


def test_large_errors_stop_at_the_byte_budget() -> None:
    errors = [
        {"message": f"error {i}", "extensions": {"code": "X", "detail": "d " * 500}}
        for i in range(90)
    ]
    bounded = bound_errors(errors)
    assert _size(bounded) <= MAX_ERRORS_BYTES
    assert bounded[:-1] == errors[: len(bounded) - 1]
    assert 50 < len(bounded) < 90
    assert bounded[-1]["extensions"] == {"code": TOO_MANY_ERRORS, "omitted": 91 - len(bounded)}
    one = bound_errors([{"message": "huge", "extensions": {"detail": "d " * 40_000}}])
    assert one == [
        {
            "message": "1 more error was left out: a response carries at most 100 errors "
            "in 64 KiB.",
            "extensions": {"code": TOO_MANY_ERRORS, "omitted": 1},
        }
    ]


# --- request errors: parse, validation, variables, operation name ------------------------------


async def test_a_long_unknown_field_name_is_shortened() -> None:
    result = await BLOG.run("{ %s }" % ("a" * 5000))
    (error,) = result["errors"]
    assert error["message"] == (
        f"Cannot query field '{'a' * MAX_NAME_LENGTH}{ELLIPSIS}' on type 'Query'."
    )
    assert error["locations"] == [{"line": 1, "column": 3}]
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}


async def test_short_validation_messages_are_graphql_cores_own() -> None:
    query = "query Q($v: Int) { nope posts(nope: 1) { id titel ...F @nope } __typename }"
    expected = [
        e.formatted["message"] for e in validate(BLOG.graphql_schema, parse(query), max_errors=99)
    ]
    result = await BLOG.run(query)
    assert [e["message"] for e in result["errors"]] == expected
    assert len(expected) >= 5


async def test_every_kind_of_echoed_name_is_shortened() -> None:
    name, upper, digits = "n" * 5000, "N" * 5000, "9" * 5000
    templates = [  # LONG is where the long text goes
        ("{ posts(LONG: 1) { id } }", name),  # argument
        ("{ posts { ...LONG } }", name),  # fragment
        ("{ posts @LONG { id } }", name),  # directive
        ("{ posts { id } } fragment F on LONG { id }", name),  # type
        ("query Q($x: LONG) { posts { id } }", name),  # type of a variable
        ("query Q($LONG: Int) { posts { id } }", name),  # unused variable
        ("query LONG { posts { id } } { posts { id } }", ""),  # not echoed: anonymous and named
        ("query LONG { posts { id } } query LONG { posts { id } }", name),  # repeated name
        ('{ posts(limit: "LONG") { id } }', name),  # string literal
        ("{ posts(where: {status: {eq: LONG}}) { id } }", upper),  # enum literal
        ("{ posts(where: {LONG: {eq: 1}}) { id } }", name),  # input field
        ('{ posts(limit: 1 "LONG") { id } }', name),  # syntax error
        ("{ posts(limit: LONG) { id } }", digits),  # int literal
    ]
    documents = [(t.replace("LONG", text or name), text) for t, text in templates]
    for document, echoed in documents:
        result = await BLOG.run(document)
        messages = [error["message"] for error in result["errors"]]
        assert messages, document[:40]
        for message in messages:
            assert not _LONGER_RUN.search(message), message
            assert len(message) < 4 * (MAX_NAME_LENGTH + 1) + 200, message
        if echoed:
            cut = echoed[: MAX_NAME_LENGTH - 1] + ELLIPSIS  # the run may start with "@" or "$"
            assert any(cut in message for message in messages), messages
        assert len(orjson.dumps(result)) < 2000


async def test_invalid_variable_values_are_shortened() -> None:
    cases: list[tuple[str, Any]] = [
        ("query Q($x: Int) { posts(limit: $x) { id } }", "a" * 100_000),
        ("query Q($x: Int) { posts(limit: $x) { id } }", "ab " * 30_000),
        ("query Q($x: Int) { posts(limit: $x) { id } }", 10**4000),
        ("query Q($x: PostStatus) { posts(where: {status: {eq: $x}}) { id } }", "A" * 100_000),
        ("query Q($x: PostWhereInput) { posts(where: $x) { id } }", {"k" * 100_000: 1}),
    ]
    for query, value in cases:
        result = await BLOG.run(query, {"x": value})
        (error,) = result["errors"]
        assert error["message"].startswith("Variable '$x' has invalid value: ")
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert len(error["message"]) <= MAX_MESSAGE_LENGTH + 1
        assert len(orjson.dumps(result)) < 1500


async def test_a_long_unknown_operation_name_is_shortened() -> None:
    result = await BLOG.run("query A { posts { id } }", operation_name="o" * 5000)
    assert result["errors"][0]["message"] == (
        f"Unknown operation named '{'o' * MAX_NAME_LENGTH}{ELLIPSIS}'."
    )


async def test_many_long_unknown_fields_are_capped_in_count_and_size() -> None:
    query = "{ " + " ".join(f"f{i}x{'b' * 600}" for i in range(150)) + " }"
    result = await BLOG.run(query)
    errors = result["errors"]
    assert len(errors) == MAX_ERRORS  # 99 of graphql-core's errors, then its own abort notice
    assert errors[0]["message"] == (
        f"Cannot query field 'f0x{'b' * (MAX_NAME_LENGTH - 3)}{ELLIPSIS}' on type 'Query'."
    )
    assert errors[-1]["message"].startswith("Too many validation errors")
    assert _size(errors) < 30_000


async def test_errors_past_the_byte_budget_are_counted_in_a_last_error() -> None:
    literal = "ab " * 200  # 600 characters with spaces: only the message length bounds it
    query = "{ posts { " + " ".join(f'id @include(if: "{literal}")' for _ in range(99)) + " } }"
    result = await BLOG.run(query)
    errors = result["errors"]
    assert _size(errors) <= MAX_ERRORS_BYTES
    assert errors[0]["message"].startswith('Boolean cannot represent a non boolean value: "ab ab')
    assert errors[-1]["extensions"]["code"] == TOO_MANY_ERRORS
    assert errors[-1]["extensions"]["omitted"] == 99 - (len(errors) - 1)
    assert 60 < len(errors) < 99


async def test_http_bodies_of_request_errors_are_bounded() -> None:
    app = build_asgi_app(BLOG)
    transport = httpx.ASGITransport(app=app)
    query = "{ " + " ".join(f"f{i}x{'b' * 600}" for i in range(150)) + " }"
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post("/graphql", json={"query": query})
        assert len(response.content) < MAX_BODY
        assert len(response.json()["errors"]) == MAX_ERRORS
        repeated = "p" * 5000
        response = await client.get(f"/graphql?{repeated}=1&{repeated}=2&query=%7Bposts%7Bid%7D%7D")
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        f"The '{'p' * MAX_NAME_LENGTH}{ELLIPSIS}' parameter is given more than once."
    )


# --- field errors of an executed operation -------------------------------------------------------


@fraiseql.type
class Item:
    """An item whose ``check`` fails, echoing its argument."""

    index: int

    @fraiseql.field()
    def check(self, info, word: str = "x") -> str | None:
        raise FraiseQLError(f"Item {self.index} refuses the word {word!r}.")


@fraiseql.query
def items(info, count: int = 1) -> list[Item]:
    return [Item(index=i) for i in range(count)]


ITEMS = Schema(types=[Item], queries=[items])


async def test_field_errors_are_shortened_and_capped() -> None:
    word = "w" * 5000
    result = await ITEMS.run(
        "query($word: String!) { items(count: 300) { index check(word: $word) } }",
        {"word": word},
    )
    assert [item["index"] for item in result["data"]["items"]] == list(range(300))
    errors = result["errors"]
    assert len(errors) == MAX_ERRORS
    assert errors[0] == {
        "message": f"Item 0 refuses the word '{'w' * MAX_NAME_LENGTH}{ELLIPSIS}'.",
        "locations": [{"line": 1, "column": 51}],
        "path": ["items", 0, "check"],
        "extensions": {"code": "BAD_USER_INPUT"},
    }
    assert errors[-1]["extensions"] == {"code": TOO_MANY_ERRORS, "omitted": 201}
    assert _size(errors) <= MAX_ERRORS_BYTES


async def test_a_few_short_field_errors_are_unchanged() -> None:
    result = await ITEMS.run('{ items(count: 2) { check(word: "hi") } }')
    assert result["errors"] == [
        {
            "message": f"Item {i} refuses the word 'hi'.",
            "locations": [{"line": 1, "column": 21}],
            "path": ["items", i, "check"],
            "extensions": {"code": "BAD_USER_INPUT"},
        }
        for i in range(2)
    ]
