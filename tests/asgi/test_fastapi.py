"""The FastAPI adapter mounts the same handler on an APIRouter."""

from typing import Any

import httpx
from fastapi import FastAPI
from starlette.requests import Request

from fraiseql.fastapi import graphql_router


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_router_serves_graphql(executor: Any) -> None:
    async def context_getter(request: Request) -> dict[str, Any]:
        return {"user": "ann"}

    app = FastAPI()
    app.include_router(graphql_router(executor, context_getter=context_getter), prefix="/api")
    async with _client(app) as client:
        post = await client.post("/api/graphql", json={"query": "mutation { a }"})
        get = await client.get("/api/graphql", params={"query": "{ a }"})
        get_mutation = await client.get("/api/graphql", params={"query": "mutation { a }"})
        put = await client.put("/api/graphql")
        page = await client.get("/api/graphql", headers={"Accept": "text/html"})
        schema = await client.get("/openapi.json")
    assert post.status_code == 200
    assert post.json()["data"]["echo"]["user"] == "ann"
    assert get.status_code == 200
    assert get_mutation.status_code == 405
    assert len(executor.executed) == 2
    assert put.status_code == 405
    assert put.headers["allow"] == "GET, POST"
    assert put.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "/api/graphql" not in schema.json()["paths"]


async def test_router_options(executor: Any) -> None:
    app = FastAPI()
    app.include_router(graphql_router(executor, path="/gql", graphiql=False, max_body_size=10))
    async with _client(app) as client:
        too_large = await client.post("/gql", json={"query": "{ aLongerQuery }"})
        page = await client.get("/gql", headers={"Accept": "text/html"})
    assert too_large.status_code == 413
    assert page.status_code == 406  # no page, and text/html alone accepts no JSON type


async def test_router_batching_is_opt_in(executor: Any) -> None:
    app = FastAPI()
    app.include_router(graphql_router(executor, path="/off"))
    app.include_router(graphql_router(executor, path="/on", batching=True, max_batch_size=2))
    batch = [{"query": "{ a }"}, {"query": "{ b }"}]
    async with _client(app) as client:
        off = await client.post("/off", json=batch)
        on = await client.post("/on", json=batch)
        over = await client.post("/on", json=[*batch, {"query": "{ c }"}])
    assert off.status_code == 400
    assert [r["data"]["echo"]["query"] for r in on.json()] == ["{ a }", "{ b }"]
    assert over.json()["errors"][0]["extensions"]["code"] == "BATCH_TOO_LARGE"
