"""FraiseQLApp: GraphQL requests skip Starlette's stack and answer exactly as through it."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from fraiseql.asgi import build_asgi_app
from fraiseql.asgi.direct import FraiseQLApp

QUERY = {"query": "{ echo }"}


def _client(app: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


class Recording:
    """A pure ASGI middleware that records the paths it saw (its presence forces the stack)."""

    def __init__(self, app: ASGIApp, seen: list[str]) -> None:
        self.app, self.seen = app, seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.seen.append(scope.get("path", ""))
        await self.app(scope, receive, send)


async def _answers(app: Any, **request: Any) -> tuple[int, bytes, dict[str, str]]:
    async with _client(app) as client:
        response = await client.post("/graphql", **request)
    headers = {k: v for k, v in response.headers.items() if k != "content-length"}
    return response.status_code, response.content, headers


async def test_direct_and_stacked_answers_are_identical(executor: Any) -> None:
    direct = build_asgi_app(executor)
    stacked = build_asgi_app(executor)
    seen: list[str] = []
    stacked.user_middleware.append(Middleware(Recording, seen=seen))
    for request in ({"json": QUERY}, {"content": b"{", "headers": {"content-type": "x/y"}}):
        assert await _answers(direct, **request) == await _answers(stacked, **request)
    assert seen == ["/graphql", "/graphql"]  # the middleware did run on the stacked app


async def test_http_exceptions_of_the_context_getter_answer_as_starlette_does(
    executor: Any,
) -> None:
    def refuse(request: Request) -> dict[str, Any]:
        raise HTTPException(401, "who are you?", headers={"WWW-Authenticate": "Bearer"})

    direct = build_asgi_app(executor, context_getter=refuse)
    stacked = build_asgi_app(executor, context_getter=refuse)
    stacked.user_middleware.append(Middleware(Recording, seen=[]))
    status, body, headers = await _answers(direct, json=QUERY)
    assert (status, body) == (401, b"who are you?")
    assert headers["www-authenticate"] == "Bearer"
    assert await _answers(stacked, json=QUERY) == (status, body, headers)


async def test_context_getter_sees_the_app(executor: Any) -> None:
    apps: list[Any] = []

    def remember(request: Request) -> dict[str, Any]:
        apps.append(request.app)
        return {}

    app = build_asgi_app(executor, context_getter=remember)
    assert isinstance(app, FraiseQLApp)
    status, _, _ = await _answers(app, json=QUERY)
    assert status == 200 and apps == [app]


async def test_an_escaping_error_is_a_plain_500(executor: Any) -> None:
    app = build_asgi_app(executor)

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("escaped")

    app.graphql_handler = broken
    status, body, _ = await _answers(app, json=QUERY)
    assert (status, body) == (500, b"Internal Server Error")


async def test_other_paths_take_the_router(executor: Any) -> None:
    async with _client(build_asgi_app(executor)) as client:
        assert (await client.get("/elsewhere")).status_code == 404


async def test_an_error_before_the_handler_answers_is_a_plain_500_both_ways(
    executor: Any,
) -> None:
    class BrokenInstrumentation:
        def begin(self, *args: Any) -> Any:
            raise RuntimeError("instrumentation failed")

    direct = build_asgi_app(executor)
    stacked = build_asgi_app(executor)
    stacked.user_middleware.append(Middleware(Recording, seen=[]))
    for app in (direct, stacked):
        app.graphql_handler.instrumentation = BrokenInstrumentation()
        status, body, _ = await _answers(app, json=QUERY)
        assert (status, body) == (500, b"Internal Server Error")
