"""GraphiQL is served to browsers only: GET, Accept naming text/html, and no query."""

import re
from typing import Any

import httpx

from fraiseql.asgi import build_asgi_app
from fraiseql.asgi.graphiql import GRAPHIQL_VERSION, REACT_VERSION, graphiql_html

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_browser_gets_the_page(client: httpx.AsyncClient, executor: Any) -> None:
    response = await client.get("/graphql", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "accept" in response.headers["vary"].lower()
    assert "GraphiQL.createFetcher" in response.text
    assert executor.prepared == []


async def test_browser_with_a_query_gets_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ a }"}, headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"


async def test_api_clients_never_get_the_page(client: httpx.AsyncClient) -> None:
    for accept in (None, "*/*", "application/json", "application/graphql-response+json"):
        headers = {} if accept is None else {"Accept": accept}
        response = await client.get("/graphql", headers=headers)
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("application/")


async def test_post_never_gets_the_page(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ a }"}, headers={"Accept": BROWSER})
    assert response.headers["content-type"] == "application/json; charset=utf-8"


async def test_page_can_be_disabled(executor: Any) -> None:
    async with _client(build_asgi_app(executor, graphiql=False)) as client:
        response = await client.get("/graphql", headers={"Accept": BROWSER})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_page_pins_its_assets_with_integrity_hashes() -> None:
    page = graphiql_html().decode()
    sources = re.findall(r'(?:src|href)="(https://[^"]+)"', page)
    assert len(sources) == 4
    for url in sources:
        assert f"@{GRAPHIQL_VERSION}/" in url or f"@{REACT_VERSION}/" in url
    assert len(re.findall(r'integrity="sha384-[A-Za-z0-9+/=]{64}"', page)) == 4
