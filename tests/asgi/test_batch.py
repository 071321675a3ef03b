"""Batched POSTs at the transport: off by default, capped, in order, each member on its own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request
from tests.asgi.conftest import SECRET, FakeExecutor

from fraiseql.asgi import build_asgi_app
from fraiseql.asgi.batch import DEFAULT_MAX_BATCH_SIZE, decode_post_body
from fraiseql.asgi.errors import TransportError
from fraiseql.asgi.http import GraphQLHTTPHandler


def _client(executor: FakeExecutor, **options: Any) -> httpx.AsyncClient:
    app = build_asgi_app(executor, **options)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_batching_is_off_by_default(executor: FakeExecutor) -> None:
    async with _client(executor) as client:
        response = await client.post("/graphql", json=[{"query": "{ a }"}])
    assert response.status_code == 400
    assert "batching" in response.json()["errors"][0]["message"]
    assert executor.prepared == []


async def test_members_run_in_order_and_answer_in_order(executor: FakeExecutor) -> None:
    batch = [{"query": "{ first }"}, {"query": "mutation { second }"}, {"query": "{ third }"}]
    async with _client(executor, batching=True) as client:
        response = await client.post("/graphql", json=batch)
    assert response.status_code == 200
    results = response.json()
    assert [r["data"]["echo"]["query"] for r in results] == [m["query"] for m in batch]
    assert results[1]["data"]["echo"]["operationType"] == "mutation"
    assert [request.query for request, _ in executor.executed] == [m["query"] for m in batch]


async def test_over_the_cap_is_refused_before_any_parsing(executor: FakeExecutor) -> None:
    async with _client(executor, batching=True, max_batch_size=3) as client:
        response = await client.post("/graphql", json=[{"query": "{ a }"}] * 4)
        prepared_after_refusal = list(executor.prepared)
        default = await client.post(
            "/graphql",
            json=[{"query": "{ a }"}] * 3,
            headers={"accept": "application/graphql-response+json"},
        )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BATCH_TOO_LARGE"
    assert error["message"] == "The batch holds 4 operations; the limit is 3."
    assert prepared_after_refusal == []  # refused before a single document was parsed
    assert default.status_code == 200
    assert len(default.json()) == 3


def test_default_cap_is_ten() -> None:
    assert DEFAULT_MAX_BATCH_SIZE == 10
    assert len(decode_post_body(b"[" + b",".join([b'{"query":"{a}"}'] * 10) + b"]", 10)) == 10
    with pytest.raises(TransportError):
        decode_post_body(b"[" + b",".join([b'{"query":"{a}"}'] * 11) + b"]", 10)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "at least one request"),
        (b'[{"query": "{ a }"}, 1]', "Member 1 of the batch must be a JSON object"),
        (b'[{"query": 3}]', "Member 0 of the batch: The 'query' parameter must be a string"),
        (b'[{"query": "{ a }", "variables": []}]', "'variables' parameter must be a JSON"),
    ],
)
async def test_malformed_batches_run_nothing(
    executor: FakeExecutor, body: bytes, message: str
) -> None:
    async with _client(executor, batching=True) as client:
        response = await client.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert message in response.json()["errors"][0]["message"]
    assert executor.prepared == []


async def test_a_failing_member_does_not_stop_the_others(executor: FakeExecutor) -> None:
    batch = [
        {"query": "{ bad"},
        {"query": "{ crash }"},
        {"query": "subscription { s }"},
        {"query": "{ needsInt }", "variables": {"n": "x"}},
        {"query": "{ fine }"},
    ]
    async with _client(executor, batching=True) as client:
        response = await client.post("/graphql", json=batch)
    assert response.status_code == 200
    assert SECRET not in response.text
    parse, crash, subscription, variables, fine = response.json()
    assert parse["errors"][0]["message"].startswith("Syntax Error") and "data" not in parse
    assert crash["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "errorId" in crash["errors"][0]["extensions"]
    assert subscription["errors"][0]["extensions"]["code"] == "OPERATION_NOT_SUPPORTED"
    assert "Int expected" in variables["errors"][0]["message"]
    assert fine["data"]["echo"]["query"] == "{ fine }"


async def test_context_getter_runs_once_and_each_member_gets_its_own_context(
    executor: FakeExecutor,
) -> None:
    calls: list[str] = []

    def context(request: Request) -> dict[str, Any]:
        calls.append(request.method)
        return {"user": "ada"}

    async with _client(executor, batching=True, context_getter=context) as client:
        response = await client.post("/graphql", json=[{"query": "{ a }"}, {"query": "{ b }"}])
    assert response.status_code == 200
    assert calls == ["POST"]
    contexts = [context for _, context in executor.executed]
    assert [c["user"] for c in contexts] == ["ada", "ada"]
    assert contexts[0] is not contexts[1]


async def test_a_refusing_context_getter_refuses_the_whole_batch(executor: FakeExecutor) -> None:
    def context(request: Request) -> dict[str, Any]:
        raise HTTPException(401, "who are you?")

    app = build_asgi_app(executor, batching=True, context_getter=context)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post("/graphql", json=[{"query": "{ a }"}])
    assert response.status_code == 401
    assert executor.executed == []


async def test_get_stays_single(executor: FakeExecutor) -> None:
    async with _client(executor, batching=True) as client:
        response = await client.get("/graphql", params={"query": '[{"query": "{ a }"}]'})
    # The query string's ``query`` is a document, never a batch: it reaches the executor as text.
    assert executor.prepared[0].query == '[{"query": "{ a }"}]'
    assert isinstance(response.json(), dict)


def test_handler_refuses_a_cap_below_one(executor: FakeExecutor) -> None:
    with pytest.raises(ValueError, match="max_batch_size"):
        GraphQLHTTPHandler(executor, max_batch_size=0)
