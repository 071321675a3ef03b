import orjson
import pytest

from fraiseql.asgi.errors import TransportError
from fraiseql.asgi.params import (
    parse_query_string,
    request_from_json_body,
    request_from_query_params,
)
from fraiseql.execution.outcome import GraphQLRequest


def test_query_string_is_decoded_as_utf8() -> None:
    params = parse_query_string(b"query=%7B%20h%C3%A9%20%7D&operationName=Op&x=")
    assert params == {"query": "{ h\u00e9 }", "operationName": "Op", "x": ""}


@pytest.mark.parametrize(
    "query_string",
    [
        b"query=%FF",  # not UTF-8 once percent-decoded
        b"query=a&query=b",  # ambiguous
        b"&".join(b"p%d=1" % i for i in range(200)),  # too many fields
    ],
)
def test_bad_query_strings_are_400(query_string: bytes) -> None:
    with pytest.raises(TransportError) as info:
        parse_query_string(query_string)
    assert info.value.status == 400


def test_get_params() -> None:
    request = request_from_query_params(
        {
            "query": "query Q($id: ID!) { user(id: $id) { name } }",
            "variables": '{"id": "1"}',
            "operationName": "Q",
            "extensions": '{"trace": true}',
        }
    )
    assert request == GraphQLRequest(
        query="query Q($id: ID!) { user(id: $id) { name } }",
        variables={"id": "1"},
        operation_name="Q",
        extensions={"trace": True},
    )


def test_get_empty_or_null_optional_params_mean_absent() -> None:
    request = request_from_query_params(
        {"query": "{ a }", "variables": "null", "operationName": "", "extensions": ""}
    )
    assert request == GraphQLRequest(query="{ a }")


def test_get_operation_name_null_is_a_name() -> None:
    # GraphQL-over-HTTP draft, GET: operationName=null names an operation called "null".
    assert request_from_query_params({"query": "{ a }", "operationName": "null"}).operation_name


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "'query' parameter is required"),
        ({"query": "{ a }", "variables": "{not json"}, "'variables' parameter is not valid JSON"),
        ({"query": "{ a }", "variables": "[1]"}, "'variables' parameter must be a JSON object"),
        ({"query": "{ a }", "variables": '"s"'}, "'variables' parameter must be a JSON object"),
        ({"query": "{ a }", "extensions": "{"}, "'extensions' parameter is not valid JSON"),
        ({"query": "{ a }", "extensions": "1"}, "'extensions' parameter must be a JSON object"),
    ],
)
def test_get_malformed_params_are_400(params: dict[str, str], message: str) -> None:
    with pytest.raises(TransportError) as info:
        request_from_query_params(params)
    assert info.value.status == 400
    assert message in info.value.message


def test_post_body() -> None:
    body = orjson.dumps(
        {
            "query": "{ a }",
            "variables": {"x": [1, 2]},
            "operationName": "A",
            "extensions": {"e": 1},
            "unknownKey": "ignored",
        }
    )
    assert request_from_json_body(body) == GraphQLRequest(
        query="{ a }", variables={"x": [1, 2]}, operation_name="A", extensions={"e": 1}
    )


def test_post_nulls_mean_absent() -> None:
    body = b'{"query": "{ a }", "variables": null, "operationName": null, "extensions": null}'
    assert request_from_json_body(body) == GraphQLRequest(query="{ a }")


def test_post_non_ascii_utf8_is_accepted() -> None:
    body = '{"query": "{ a }", "variables": {"name": "Zo\u00eb \u2603 \U0001f353"}}'.encode()
    assert request_from_json_body(body).variables == {"name": "Zo\u00eb \u2603 \U0001f353"}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"NONSENSE",
        b'{"query":',
        b'{"query": "\xff"}',  # invalid UTF-8
        b'\xef\xbb\xbf{"query": "{ a }"}',  # byte order mark
        b"[]",
        b'"{ a }"',
        b"null",
        b"[" * 5000 + b"]" * 5000,  # nesting deeper than the parser allows
        b'{"qeury": "{ a }"}',
        b'{"query": null}',
        b'{"query": 1}',
        b'{"query": true}',
        b'{"query": ["{ a }"]}',
        b'{"query": {"a": 1}}',
        b'{"query": "{ a }", "variables": [7]}',
        b'{"query": "{ a }", "variables": "{}"}',
        b'{"query": "{ a }", "extensions": "x"}',
        b'{"query": "{ a }", "operationName": 1}',
        b'{"query": "{ a }", "operationName": {}}',
    ],
)
def test_post_malformed_bodies_are_400(body: bytes) -> None:
    with pytest.raises(TransportError) as info:
        request_from_json_body(body)
    assert info.value.status == 400
    assert info.value.code == "BAD_REQUEST"
