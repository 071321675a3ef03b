"""A fake executor and clients for testing the HTTP transport in isolation.

The fake stands in for the real executor only here, where the transport is the unit under test;
the real executor and database are exercised end to end elsewhere. Its behaviour is keyed by the
query text, so each test says what the executor should do by what it sends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive

from fraiseql.asgi import build_asgi_app
from fraiseql.execution.outcome import (
    ExecutionResponse,
    GraphQLRequest,
    PreparedOperation,
    RequestError,
)

SECRET = "password=hunter2 at db.internal"


@dataclass
class FakeExecutor:
    """Implements the OperationExecutor protocol; records what it was asked to do."""

    prepared: list[GraphQLRequest] = field(default_factory=list)
    executed: list[tuple[GraphQLRequest, dict[str, Any]]] = field(default_factory=list)
    secret: str = SECRET
    cancelled: bool = False
    started: anyio.Event | None = None

    def prepare(self, request: GraphQLRequest) -> PreparedOperation:
        self.prepared.append(request)
        query = request.query or ""
        if query.startswith("{ bad"):
            raise RequestError([{"message": "Syntax Error: Expected Name, found <EOF>."}])
        if "unknownField" in query:
            raise RequestError([{"message": "Cannot query field 'unknownField' on 'Query'."}])
        if "crashInPrepare" in query:
            raise RuntimeError(SECRET)
        if query.startswith("mutation"):
            return PreparedOperation("mutation")
        if query.startswith("subscription"):
            return PreparedOperation("subscription")
        return PreparedOperation("query")

    async def execute(
        self, prepared: PreparedOperation, request: GraphQLRequest, context: dict[str, Any]
    ) -> ExecutionResponse:
        self.executed.append((request, context))
        query = request.query or ""
        variables = request.variables or {}
        if "crash" in query:
            raise RuntimeError(SECRET)
        if "needsInt" in query and not isinstance(variables.get("n"), int):
            raise RequestError([{"message": "Variable '$n' got invalid value; Int expected."}])
        if "nullRoot" in query:
            body = {"errors": [{"message": "boom", "path": ["nullRoot"]}], "data": None}
            return ExecutionResponse(orjson.dumps(body), has_errors=True, data_is_null=True)
        if "slow" in query:
            if self.started is not None:
                self.started.set()
            try:
                await anyio.sleep_forever()
            except anyio.get_cancelled_exc_class():
                self.cancelled = True
                raise
        echo = {
            "operationType": prepared.operation_type,
            "query": query,
            "variables": request.variables,
            "operationName": request.operation_name,
            "extensions": request.extensions,
            "contextKeys": sorted(context),
            "user": context.get("user"),
        }
        headers = {"X-Executor": "fake"} if "withHeader" in query else {}
        return ExecutionResponse(orjson.dumps({"data": {"echo": echo}}), headers=headers)


@pytest.fixture
def executor() -> FakeExecutor:
    return FakeExecutor()


@pytest.fixture
def app(executor: FakeExecutor) -> Starlette:
    return build_asgi_app(executor)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


CallASGI = Callable[..., Awaitable[list[Message]]]


@pytest.fixture
def call_asgi() -> CallASGI:
    """Drive an ASGI app with one HTTP request and a hand-written ``receive``; return what it sent.

    For the cases an HTTP client cannot express: chunked bodies counted as they are pulled,
    and clients that disconnect.
    """

    async def call(
        app: ASGIApp,
        receive: Receive,
        *,
        method: str = "POST",
        headers: list[tuple[bytes, bytes]] | None = None,
        query_string: bytes = b"",
    ) -> list[Message]:
        sent: list[Message] = []

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": query_string,
            "root_path": "",
            "headers": headers or [],
            "server": ("testserver", 80),
            "client": ("127.0.0.1", 1234),
        }
        await app(scope, receive, send)
        return sent

    return call
