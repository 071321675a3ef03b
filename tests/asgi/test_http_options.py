"""The handler's options: the context getter (the CSRF options are in test_csrf.py)."""

from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request

from fraiseql.asgi import build_asgi_app


def echo(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]["echo"]
    return data


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_async_context_getter(executor: Any) -> None:
    async def context_getter(request: Request) -> dict[str, Any]:
        return {"user": request.headers.get("x-user"), "request": "overridden"}

    app = build_asgi_app(executor, context_getter=context_getter)
    async with _client(app) as client:
        response = await client.post("/graphql", json={"query": "{ a }"}, headers={"X-User": "ann"})
    assert echo(response)["user"] == "ann"
    assert echo(response)["contextKeys"] == ["request", "user"]
    (_, context) = executor.executed[0]
    assert isinstance(context["request"], Request)


async def test_sync_context_getter_can_read_the_body(executor: Any) -> None:
    def context_getter(request: Request) -> dict[str, Any]:
        return {"user": request.method}

    seen: list[bytes] = []

    async def body_reading_getter(request: Request) -> dict[str, Any]:
        seen.append(await request.body())
        return {}

    for getter in (context_getter, body_reading_getter):
        app = build_asgi_app(executor, context_getter=getter)
        async with _client(app) as client:
            response = await client.post("/graphql", json={"query": "{ a }"})
        assert response.status_code == 200
    assert echo(response)["contextKeys"] == ["request"]
    assert orjson.loads(seen[0]) == {"query": "{ a }"}


async def test_context_getter_http_exception_propagates(executor: Any) -> None:
    def context_getter(request: Request) -> dict[str, Any]:
        raise HTTPException(401, headers={"WWW-Authenticate": "Bearer"})

    app = build_asgi_app(executor, context_getter=context_getter)
    async with _client(app) as client:
        response = await client.post("/graphql", json={"query": "{ a }"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert executor.executed == []


async def test_context_getter_failure_is_masked(executor: Any) -> None:
    def context_getter(request: Request) -> dict[str, Any]:
        raise KeyError(executor.secret)

    app = build_asgi_app(executor, context_getter=context_getter)
    async with _client(app) as client:
        response = await client.post("/graphql", json={"query": "{ a }"})
    assert response.status_code == 500
    assert executor.secret not in response.text
