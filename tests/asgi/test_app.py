"""build_asgi_app: the route, its path and the lifespan hooks."""

from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Message

from fraiseql.asgi import build_asgi_app


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def run_lifespan(app: Starlette) -> list[str]:
    """Drive the ASGI lifespan protocol through startup and shutdown; return the replies."""
    inbox = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    replies: list[str] = []

    async def receive() -> Message:
        return next(inbox)

    async def send(message: Message) -> None:
        replies.append(message["type"])

    with anyio.fail_after(5):
        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    return replies


async def test_lifespan_hooks_run_in_order(executor: Any) -> None:
    calls: list[str] = []

    async def open_pool() -> None:
        calls.append("open_pool")

    def warm_cache() -> None:
        calls.append("warm_cache")

    async def close_pool() -> None:
        calls.append("close_pool")

    app = build_asgi_app(executor, on_startup=[open_pool, warm_cache], on_shutdown=[close_pool])
    replies = await run_lifespan(app)
    assert replies == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert calls == ["open_pool", "warm_cache", "close_pool"]


async def test_failing_startup_hook_fails_startup(executor: Any) -> None:
    async def broken() -> None:
        raise ConnectionError("database down")

    app = build_asgi_app(executor, on_startup=[broken])
    with pytest.raises(ConnectionError):
        await run_lifespan(app)


async def test_custom_path(executor: Any) -> None:
    async with _client(build_asgi_app(executor, path="/api/gql")) as client:
        served = await client.post("/api/gql", json={"query": "{ a }"})
        missing = await client.post("/graphql", json={"query": "{ a }"})
    assert served.status_code == 200
    assert missing.status_code == 404


async def test_max_body_size_is_applied(executor: Any) -> None:
    async with _client(build_asgi_app(executor, max_body_size=10)) as client:
        response = await client.post("/graphql", json={"query": "{ aLongerQuery }"})
    assert response.status_code == 413
