"""``_entities`` over HTTP against the blog under its tenant policies (row-level security).

The app is the blog's own setup — the ``blog_app`` role, the tenant claim from the
``X-Tenant-Id`` header, ``require_rls=True`` — with ``federation=True``. A gateway forwards
the caller's tenant; another tenant's post must answer ``null``, exactly like a post that does
not exist, never an error that would tell it exists.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from examples.blog.app import TENANT_HEADER
from tests.federation.conftest import TenantBlog

ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
    __typename ... on Post { id title } ... on User { id name } } }"""


class Tenants:
    """The federated blog app, called in process, and the posts of two organisations."""

    def __init__(self, http: httpx.AsyncClient, posts: dict[str, list[str]]) -> None:
        self.http = http
        self.posts = posts

    async def post(
        self, query: str, variables: dict[str, Any] | None, tenant: str | None
    ) -> dict[str, Any]:
        """The JSON body of one GraphQL request, as ``tenant`` (``None``: no header)."""
        headers = {TENANT_HEADER: tenant} if tenant is not None else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="module")
async def tenants(tenant_blog: TenantBlog) -> AsyncIterator[Tenants]:
    """The federated blog app started (lifespan) and called in process."""
    app = tenant_blog.app()
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://blog.test") as http,
    ):
        yield Tenants(http, tenant_blog.posts)


async def test_another_tenants_entity_is_null(tenants: Tenants) -> None:
    (tenant_a, own), (tenant_b, foreign) = tenants.posts.items()
    asked = [
        {"__typename": "Post", "id": foreign[0]},
        {"__typename": "Post", "id": own[0]},
        {"__typename": "Post", "id": str(uuid.uuid4())},
    ]
    mine = await tenants.post(ENTITIES, {"r": asked}, tenant_a)
    assert "errors" not in mine
    entities = mine["data"]["_entities"]
    assert entities[0] is None and entities[2] is None
    assert entities[1]["__typename"] == "Post" and entities[1]["id"] == own[0]
    assert entities[1]["title"]
    theirs = await tenants.post(ENTITIES, {"r": asked}, tenant_b)
    assert "errors" not in theirs
    assert [e and e["id"] for e in theirs["data"]["_entities"]] == [foreign[0], None, None]
    nobody = await tenants.post(ENTITIES, {"r": asked}, None)
    assert nobody == {"data": {"_entities": [None, None, None]}}


async def test_service_sdl_over_http(tenants: Tenants) -> None:
    body = await tenants.post("{ _service { sdl } }", None, None)
    sdl = body["data"]["_service"]["sdl"]
    assert sdl.startswith("extend schema @link(")
    assert 'type Post @key(fields: "id") {' in sdl


async def test_a_malformed_representation_over_http(tenants: Tenants) -> None:
    (tenant_a, own), _ = tenants.posts.items()
    body = await tenants.post(
        ENTITIES, {"r": [{"__typename": "Post", "id": own[0]}, {"id": own[0]}]}, tenant_a
    )
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "'representations[1]'" in error["message"]
