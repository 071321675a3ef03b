"""Persisted queries by hash, and allow-list mode, over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from examples.blog.schema import MUTATIONS, QUERIES, TYPES

from fraiseql import Schema, create_app
from fraiseql.security.persisted import PersistedQueries, document_hash

REGISTERED = "{ posts(limit: 2) { id } }"


async def _client(blog_database: str, allow_only: bool) -> AsyncIterator[httpx.AsyncClient]:
    schema = Schema(
        types=TYPES,
        queries=QUERIES,
        mutations=MUTATIONS,
        database_url=blog_database,
        persisted_queries=PersistedQueries([REGISTERED], allow_only=allow_only),
    )
    await schema.open()
    transport = httpx.ASGITransport(app=create_app(schema=schema))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await schema.close()


@pytest.fixture
async def open_client(blog_database: str) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(blog_database, allow_only=False):
        yield client


@pytest.fixture
async def strict_client(blog_database: str) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(blog_database, allow_only=True):
        yield client


def _extension(query: str) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": document_hash(query)}}


async def test_a_registered_query_runs_by_hash_over_get_and_post(
    open_client: httpx.AsyncClient,
) -> None:
    extensions = _extension(REGISTERED)
    by_get = await open_client.get(
        "/graphql", params={"extensions": orjson.dumps(extensions).decode()}
    )
    by_post = await open_client.post("/graphql", json={"extensions": extensions})
    for response in (by_get, by_post):
        assert response.status_code == 200
        assert len(response.json()["data"]["posts"]) == 2


async def test_unknown_hash_and_mismatched_text(open_client: httpx.AsyncClient) -> None:
    unknown = await open_client.post("/graphql", json={"extensions": _extension("{ nope }")})
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    mismatch = await open_client.post(
        "/graphql",
        json={"query": "{ posts(limit: 1) { id } }", "extensions": _extension(REGISTERED)},
    )
    assert mismatch.json()["errors"][0]["message"] == "The query does not match its sha256Hash."
    bad = await open_client.post(
        "/graphql", json={"extensions": {"persistedQuery": {"sha256Hash": "zz"}}}
    )
    assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    free = await open_client.post("/graphql", json={"query": "{ posts(limit: 1) { id } }"})
    assert free.status_code == 200 and "errors" not in free.json()


async def test_allow_list_mode_runs_only_registered_documents(
    strict_client: httpx.AsyncClient,
) -> None:
    registered = await strict_client.post("/graphql", json={"query": REGISTERED})
    assert "errors" not in registered.json()
    other = await strict_client.post(
        "/graphql",
        json={"query": "{ posts(limit: 1) { id } }"},
        headers={"Accept": "application/graphql-response+json"},
    )
    assert other.status_code == 400
    assert other.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"


def test_registered_hashes_must_match() -> None:
    with pytest.raises(ValueError, match="does not match"):
        PersistedQueries({"0" * 64: REGISTERED})
    assert PersistedQueries({document_hash(REGISTERED): REGISTERED}).documents
