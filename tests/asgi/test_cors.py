"""CORS: preflights answered by Starlette's CORSMiddleware configured from CORSConfig."""

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from fraiseql.asgi import CORSConfig, build_asgi_app, with_cors
from fraiseql.asgi.http import GraphQLHTTPHandler

ORIGIN = "https://app.example.com"


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "content-type",
    }


@pytest.fixture
def cors_app(executor: Any) -> Starlette:
    return build_asgi_app(executor, cors=CORSConfig(allow_origins=(ORIGIN,)))


async def test_preflight_from_an_allowed_origin(cors_app: Starlette) -> None:
    async with _client(cors_app) as client:
        response = await client.options("/graphql", headers=preflight(ORIGIN))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert set(response.headers["access-control-allow-methods"].split(", ")) == {"GET", "POST"}
    assert "content-type" in response.headers["access-control-allow-headers"].lower()
    assert response.headers["access-control-max-age"] == "600"


async def test_preflight_from_another_origin_is_refused(cors_app: Starlette) -> None:
    async with _client(cors_app) as client:
        response = await client.options("/graphql", headers=preflight("https://evil.example"))
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_preflight_for_a_method_not_allowed(cors_app: Starlette) -> None:
    async with _client(cors_app) as client:
        response = await client.options("/graphql", headers=preflight(ORIGIN, "DELETE"))
    assert response.status_code == 400


async def test_actual_request_gets_cors_headers(cors_app: Starlette) -> None:
    async with _client(cors_app) as client:
        allowed = await client.post("/graphql", json={"query": "{ a }"}, headers={"Origin": ORIGIN})
        other = await client.post(
            "/graphql", json={"query": "{ a }"}, headers={"Origin": "https://evil.example"}
        )
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-origin" not in other.headers
    vary = {v.strip().lower() for v in allowed.headers["vary"].split(",")}
    assert {"accept", "origin"} <= vary


async def test_without_cors_options_is_405(client: httpx.AsyncClient) -> None:
    response = await client.options("/graphql", headers=preflight(ORIGIN))
    assert response.status_code == 405
    assert "access-control-allow-origin" not in response.headers


async def test_credentials(executor: Any) -> None:
    config = CORSConfig(allow_origins=(ORIGIN,), allow_credentials=True, max_age=60)
    async with _client(build_asgi_app(executor, cors=config)) as client:
        response = await client.options("/graphql", headers=preflight(ORIGIN))
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-max-age"] == "60"


async def test_with_cors_wraps_any_asgi_app(executor: Any) -> None:
    app = with_cors(GraphQLHTTPHandler(executor), CORSConfig(allow_origins=("*",)))
    async with _client(app) as client:
        response = await client.options("/graphql", headers=preflight(ORIGIN))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"


def test_wildcard_origin_with_credentials_is_refused() -> None:
    with pytest.raises(ValueError, match="allow_credentials"):
        CORSConfig(allow_origins=("*",), allow_credentials=True)


def test_negative_max_age_is_refused() -> None:
    with pytest.raises(ValueError, match="max_age"):
        CORSConfig(max_age=-1)
