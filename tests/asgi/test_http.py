"""The GraphQL-over-HTTP handler through a real ASGI stack (httpx -> Starlette -> handler)."""

import logging
from typing import Any

import httpx
import pytest
from starlette.types import Message

from fraiseql.asgi import GraphQLHTTPHandler
from fraiseql.asgi.http import _replay

JSON = "application/json"
GQL = "application/graphql-response+json"


def echo(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]["echo"]
    return data


async def test_post_runs_the_operation(client: httpx.AsyncClient, executor: Any) -> None:
    response = await client.post(
        "/graphql",
        json={
            "query": "query Q($n: Int) { a }",
            "variables": {"n": 1},
            "operationName": "Q",
            "extensions": {"k": "v"},
        },
    )
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert echo(response) == {
        "operationType": "query",
        "query": "query Q($n: Int) { a }",
        "variables": {"n": 1},
        "operationName": "Q",
        "extensions": {"k": "v"},
        "contextKeys": ["request"],
        "user": None,
    }
    assert len(executor.executed) == 1


async def test_get_runs_a_query(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "query Q($id: ID!) { user(id: $id) { name } }",
            "variables": '{"id": "QVBJcy5ndXJ1"}',
            "operationName": "Q",
        },
    )
    assert echo(response)["variables"] == {"id": "QVBJcy5ndXJ1"}
    assert echo(response)["operationName"] == "Q"


async def test_post_mutation_runs(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "mutation { a }"})
    assert echo(response)["operationType"] == "mutation"


async def test_get_mutation_is_405_and_never_executed(
    client: httpx.AsyncClient, executor: Any
) -> None:
    for accept in (JSON, GQL):
        response = await client.get(
            "/graphql", params={"query": "mutation { a }"}, headers={"Accept": accept}
        )
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert response.headers["content-type"] == f"{accept}; charset=utf-8"
        assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert len(executor.prepared) == 2
    assert executor.executed == []


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
async def test_other_methods_are_405(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, "/graphql")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    if method != "HEAD":
        assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=----x",
        "application/graphql",
        "application/json; charset=iso-8859-1",
    ],
)
async def test_post_with_csrf_unsafe_or_unsupported_content_type_is_415(
    client: httpx.AsyncClient, executor: Any, content_type: str
) -> None:
    response = await client.post(
        "/graphql", content=b'{"query": "mutation { a }"}', headers={"Content-Type": content_type}
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert executor.prepared == []


async def test_post_without_content_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", content=b'{"query": "{ a }"}')
    assert response.status_code == 415


async def test_post_with_graphql_response_json_content_type(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b'{"query": "{ a }"}', headers={"Content-Type": GQL}
    )
    assert echo(response)["query"] == "{ a }"


# Accept negotiation and status codes (GraphQL-over-HTTP draft, "Body" and "Status Codes").


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (JSON, JSON),
        (GQL, GQL),
        (f"{GQL}, {JSON}", GQL),
        (f"{GQL};q=0.5, {JSON}", JSON),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),
    ],
)
async def test_accept_negotiation(
    client: httpx.AsyncClient, accept: str | None, media_type: str
) -> None:
    headers = {} if accept is None else {"Accept": accept}
    response = await client.post("/graphql", json={"query": "{ a }"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert "accept" in response.headers["vary"].lower()


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "*/*;q=0", f"{JSON};q=0"])
async def test_nothing_acceptable_is_406(
    client: httpx.AsyncClient, executor: Any, accept: str
) -> None:
    response = await client.post("/graphql", json={"query": "{ a }"}, headers={"Accept": accept})
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"
    assert executor.prepared == []


@pytest.mark.parametrize(
    ("body", "accept", "status"),
    [
        # Parse error, validation error: request errors raised by prepare().
        ({"query": "{ bad"}, JSON, 200),
        ({"query": "{ bad"}, GQL, 400),
        ({"query": "{ unknownField }"}, JSON, 200),
        ({"query": "{ unknownField }"}, GQL, 400),
        # Variable coercion error: a request error raised by execute().
        ({"query": "query($n: Int!) { needsInt }", "variables": {"n": "x"}}, JSON, 200),
        ({"query": "query($n: Int!) { needsInt }", "variables": {"n": "x"}}, GQL, 400),
    ],
)
async def test_request_error_status_depends_on_media_type(
    client: httpx.AsyncClient, body: dict[str, Any], accept: str, status: int
) -> None:
    response = await client.post("/graphql", json=body, headers={"Accept": accept})
    assert response.status_code == status
    assert response.headers["content-type"] == f"{accept}; charset=utf-8"
    payload = response.json()
    assert "data" not in payload
    assert payload["errors"][0]["message"]


@pytest.mark.parametrize("accept", [JSON, GQL])
async def test_null_data_from_a_field_error_is_200(client: httpx.AsyncClient, accept: str) -> None:
    # Execution ran, so this is a (partial) response, not a request error: 200 for both types.
    response = await client.post(
        "/graphql", json={"query": "{ nullRoot }"}, headers={"Accept": accept}
    )
    assert response.status_code == 200
    assert response.json()["data"] is None


@pytest.mark.parametrize("accept", [JSON, GQL])
@pytest.mark.parametrize(
    "body",
    [
        b"NONSENSE",
        b'{"query":',
        b'{"qeury": "{ a }"}',
        b'{"query": "{ a }", "variables": [7]}',
        b'{"query": 1}',
        b'{"query": "{ a }", "operationName": 1}',
        b'{"query": "{ a }", "extensions": []}',
        b"[]",
        b"",
        b'{"query": "\xff\xfe"}',
    ],
)
async def test_malformed_post_is_400_for_both_media_types(
    client: httpx.AsyncClient, executor: Any, body: bytes, accept: str
) -> None:
    response = await client.post(
        "/graphql", content=body, headers={"Content-Type": JSON, "Accept": accept}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == f"{accept}; charset=utf-8"
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert executor.prepared == []


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"query": "{ a }", "variables": "{not json"},
        {"query": "{ a }", "variables": "[1, 2]"},
        {"query": "{ a }", "extensions": "nope"},
    ],
)
async def test_malformed_get_is_400(
    client: httpx.AsyncClient, executor: Any, params: dict[str, str]
) -> None:
    response = await client.get("/graphql", params=params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert executor.prepared == []


async def test_get_with_invalid_utf8_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql?query=%7B%20%FF%20%7D")
    assert response.status_code == 400


async def test_non_ascii_utf8_round_trips(client: httpx.AsyncClient) -> None:
    name = "Zo\u00eb \u2603 \U0001f353"
    response = await client.post(
        "/graphql", json={"query": "query($n: String) { a }", "variables": {"n": name}}
    )
    assert echo(response)["variables"] == {"n": name}


@pytest.mark.parametrize("accept", [JSON, GQL])
async def test_subscription_over_http_is_refused_without_executing(
    client: httpx.AsyncClient, executor: Any, accept: str
) -> None:
    response = await client.post(
        "/graphql", json={"query": "subscription { ticks }"}, headers={"Accept": accept}
    )
    assert response.status_code == (400 if accept == GQL else 200)
    assert response.json()["errors"][0]["extensions"]["code"] == "OPERATION_NOT_SUPPORTED"
    assert executor.executed == []


async def test_executor_headers_are_sent(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ withHeader }"})
    assert response.headers["x-executor"] == "fake"


# Internal errors are masked.


@pytest.mark.parametrize("query", ["{ crash }", "{ crashInPrepare }"])
@pytest.mark.parametrize("accept", [JSON, GQL])
async def test_internal_errors_are_masked_with_an_error_id(
    client: httpx.AsyncClient,
    executor: Any,
    caplog: pytest.LogCaptureFixture,
    query: str,
    accept: str,
) -> None:
    with caplog.at_level(logging.ERROR, logger="fraiseql.asgi"):
        response = await client.post("/graphql", json={"query": query}, headers={"Accept": accept})
    assert response.status_code == 500
    assert response.headers["content-type"] == f"{accept}; charset=utf-8"
    assert executor.secret not in response.text
    assert "RuntimeError" not in response.text
    (error,) = response.json()["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    error_id = error["extensions"]["errorId"]
    assert len(error_id) == 32
    int(error_id, 16)
    (record,) = caplog.records
    assert error_id in record.getMessage()
    assert record.exc_info is not None
    assert executor.secret in str(record.exc_info[1])


async def test_non_http_scopes_are_refused(executor: Any) -> None:
    async def receive() -> Message:
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        raise AssertionError("unreachable")

    with pytest.raises(RuntimeError, match="HTTP only"):
        await GraphQLHTTPHandler(executor)({"type": "websocket"}, receive, send)


async def test_replayed_receive_defers_to_the_real_one() -> None:
    async def receive() -> Message:
        return {"type": "http.disconnect"}

    replay = _replay(b'{"query": "{ a }"}', receive)
    assert await replay() == {
        "type": "http.request",
        "body": b'{"query": "{ a }"}',
        "more_body": False,
    }
    assert await replay() == {"type": "http.disconnect"}
