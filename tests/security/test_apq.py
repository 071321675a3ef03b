"""Automatic persisted queries (Apollo's APQ), their bounded store, and trusted documents."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from examples.blog.schema import MUTATIONS, QUERIES, TYPES

from fraiseql import Schema, create_app
from fraiseql.cache.memory import MemoryCache
from fraiseql.security.apq import MemoryPersistedStore, SharedPersistedStore
from fraiseql.security.limits import QueryLimits
from fraiseql.security.manifest import ManifestError, load_manifest
from fraiseql.security.persisted import PersistedQueries, document_hash

QUERY = "{ posts(limit: 2) { id title } }"
OTHER = "{ posts(limit: 1) { id } }"
MUTATION = 'mutation { deletePost(input: {post: "no-such-post"}) { id } }'

Client = Callable[..., Awaitable[httpx.AsyncClient]]
"""Starts a served app: ``await serve(persisted, **schema_options)``."""


@pytest.fixture
async def serve(blog_database: str) -> AsyncIterator[Client]:
    """Serve the blog with given persisted queries; the app's lifespan opens the schema."""
    opened: list[tuple[Schema, httpx.AsyncClient]] = []

    async def start(persisted: PersistedQueries, **options: Any) -> httpx.AsyncClient:
        schema = Schema(
            types=TYPES,
            queries=QUERIES,
            mutations=MUTATIONS,
            database_url=blog_database,
            persisted_queries=persisted,
            **options,
        )
        await schema.open()
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(schema=schema)), base_url="http://test"
        )
        opened.append((schema, client))
        return client

    yield start
    for schema, client in opened:
        await client.aclose()
        await schema.close()


def _apq(query: str, version: object = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": document_hash(query)}}


def _code(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


async def _post(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/graphql", json=body)


async def test_apq_round_trip_registers_and_runs_by_hash(serve: Client) -> None:
    persisted = PersistedQueries(automatic=True)
    client = await serve(persisted)
    missing = await _post(client, {"extensions": _apq(QUERY)})
    assert missing.status_code == 200
    assert missing.json() == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    registered = await _post(client, {"query": QUERY, "extensions": _apq(QUERY)})
    assert registered.status_code == 200 and len(registered.json()["data"]["posts"]) == 2
    by_hash = await _post(client, {"extensions": _apq(QUERY)})
    assert by_hash.json() == registered.json()
    assert persisted.store is not None and persisted.store.get(document_hash(QUERY)) == QUERY


async def test_apq_over_get_and_mutations_refused_over_get(serve: Client) -> None:
    persisted = PersistedQueries([MUTATION], automatic=True)
    client = await serve(persisted)

    async def get(params: dict[str, str]) -> httpx.Response:
        return await client.get("/graphql", params=params)

    extensions = orjson.dumps(_apq(QUERY)).decode()
    assert _code(await get({"extensions": extensions})) == "PERSISTED_QUERY_NOT_FOUND"
    registered = await get({"query": QUERY, "extensions": extensions})
    assert len(registered.json()["data"]["posts"]) == 2
    by_hash = await get({"extensions": extensions})
    assert by_hash.status_code == 200 and by_hash.json() == registered.json()
    mutation = await get({"extensions": orjson.dumps(_apq(MUTATION)).decode()})
    assert mutation.status_code == 405 and mutation.headers["allow"] == "POST"


async def test_mismatch_version_and_malformed_extensions(serve: Client) -> None:
    persisted = PersistedQueries(automatic=True)
    client = await serve(persisted)
    mismatch = await _post(client, {"query": OTHER, "extensions": _apq(QUERY)})
    assert mismatch.status_code == 200 and _code(mismatch) == "BAD_REQUEST"
    assert "does not match" in mismatch.json()["errors"][0]["message"]
    for version in (2, "1", True, None):
        bad = await _post(client, {"query": QUERY, "extensions": _apq(QUERY, version)})
        assert _code(bad) == "BAD_REQUEST", version
        assert "version" in bad.json()["errors"][0]["message"]
    hashes: Sequence[object] = ("zz" * 32, "a" * 65, "a" * 10_000, 12, None, ["a" * 64])
    for digest in hashes:
        extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
        with_query = await _post(client, {"query": QUERY, "extensions": extensions})
        without = await _post(client, {"extensions": extensions})
        for response in (with_query, without):
            assert response.status_code == 200 and _code(response) == "BAD_REQUEST"
    not_an_object = await _post(client, {"query": QUERY, "extensions": {"persistedQuery": "x"}})
    assert not_an_object.status_code == 200 and _code(not_an_object) == "BAD_REQUEST"
    for body in ({"extensions": {"persistedQuery": "x"}}, {"extensions": "x"}):
        assert (await _post(client, body)).status_code == 400
    strict = await client.post(
        "/graphql",
        json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "g" * 64}}},
        headers={"Accept": "application/graphql-response+json"},
    )
    assert strict.status_code == 400
    assert isinstance(persisted.store, MemoryPersistedStore) and len(persisted.store) == 0


async def test_only_valid_documents_within_limits_register(serve: Client) -> None:
    store = MemoryPersistedStore()
    client = await serve(PersistedQueries(automatic=store), limits=QueryLimits(max_tokens=40))
    for junk in ("{ posts(limit: 2) { id ", "{ noSuchField }", "{ " + "posts { id } " * 20 + "}"):
        response = await _post(client, {"query": junk, "extensions": _apq(junk)})
        assert response.status_code == 200 and "errors" in response.json()
        assert document_hash(junk) not in store
    assert len(store) == 0
    await _post(client, {"query": QUERY, "extensions": _apq(QUERY)})
    assert len(store) == 1


async def test_allow_list_mode_refuses_registration(serve: Client) -> None:
    persisted = PersistedQueries([QUERY], allow_only=True)
    client = await serve(persisted)
    assert "data" in (await _post(client, {"extensions": _apq(QUERY)})).json()
    refused = await _post(client, {"query": OTHER, "extensions": _apq(OTHER)})
    assert _code(refused) == "PERSISTED_QUERY_REQUIRED"
    assert _code(await _post(client, {"extensions": _apq(OTHER)})) == "PERSISTED_QUERY_NOT_FOUND"
    assert persisted.store is None
    with pytest.raises(ValueError, match="cannot be combined"):
        PersistedQueries([QUERY], allow_only=True, automatic=True)


async def test_without_automatic_mode_nothing_registers(serve: Client) -> None:
    client = await serve(PersistedQueries())
    assert "data" in (await _post(client, {"query": OTHER, "extensions": _apq(OTHER)})).json()
    assert _code(await _post(client, {"extensions": _apq(OTHER)})) == "PERSISTED_QUERY_NOT_FOUND"


def test_store_evicts_least_recently_used_by_count_and_bytes() -> None:
    by_count = MemoryPersistedStore(max_documents=2)
    for name in "abc":
        if name == "c":
            assert by_count.get("a") == "A"  # a becomes the most recently used
        assert by_count.put(name, name.upper())
    assert by_count.get("b") is None and by_count.get("a") == "A" and by_count.get("c") == "C"
    assert len(by_count) == 2 and by_count.evictions == 1

    by_bytes = MemoryPersistedStore(max_bytes=10)
    assert by_bytes.put("a", "x" * 4) and by_bytes.put("b", "y" * 4)
    assert by_bytes.put("c", "é" * 2)  # 4 bytes in UTF-8: "a" goes
    assert by_bytes.get("a") is None and by_bytes.bytes == 8
    assert not by_bytes.put("d", "z" * 11)  # larger than the whole store: not held
    assert len(by_bytes) == 2
    with pytest.raises(ValueError):
        MemoryPersistedStore(max_documents=0)


async def test_shared_store_hands_registrations_to_other_replicas() -> None:
    backend = MemoryCache()
    first, second = SharedPersistedStore(backend), SharedPersistedStore(backend)
    digest = document_hash(QUERY)
    assert first.put(digest, QUERY)
    await first.flush()
    assert second.get(digest) is None  # fetched in the background
    await second.flush()
    assert second.get(digest) == QUERY
    forged = document_hash(OTHER)
    await backend.set(second.prefix + forged, QUERY.encode(), 60, ())
    assert second.get(forged) is None
    await second.flush()
    assert second.get(forged) is None  # the backend's text does not match the hash: not used


def _manifest(tmp_path: Path, entries: dict[str, str]) -> Path:
    path = tmp_path / "persisted-documents.json"
    path.write_bytes(orjson.dumps(entries))
    return path


def test_manifest_hashes_are_verified(tmp_path: Path) -> None:
    sha1 = hashlib.sha1(QUERY.encode()).hexdigest()
    loaded = load_manifest(_manifest(tmp_path, {sha1: QUERY, document_hash(OTHER): OTHER}))
    assert loaded == {sha1: QUERY, document_hash(OTHER): OTHER}
    assert load_manifest(_manifest(tmp_path, {f"sha256:{document_hash(OTHER)}": OTHER}))
    wrong = "0" * 40
    with pytest.raises(ManifestError, match=f"{wrong}.*does not match its hash"):
        load_manifest(_manifest(tmp_path, {sha1: QUERY, wrong: OTHER}))
    with pytest.raises(ManifestError, match="not a SHA-1 or SHA-256"):
        load_manifest(_manifest(tmp_path, {"abc": OTHER}))
    with pytest.raises(ManifestError, match="not a SHA-1 or SHA-256"):
        load_manifest(_manifest(tmp_path, {sha1: QUERY}), algorithm="sha256")
    with pytest.raises(ManifestError, match="hex digest"):
        load_manifest(_manifest(tmp_path, {"xyz": OTHER}))
    with pytest.raises(ManifestError, match="document string"):
        load_manifest(_manifest(tmp_path, {sha1: 3}))  # type: ignore[dict-item]
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(ManifestError, match="JSON object"):
        load_manifest(tmp_path / "list.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ManifestError, match="not JSON"):
        load_manifest(tmp_path / "bad.json")
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(tmp_path / "missing.json")


async def test_trusted_documents_run_by_document_id(serve: Client, tmp_path: Path) -> None:
    sha1 = hashlib.sha1(QUERY.encode()).hexdigest()
    path = _manifest(tmp_path, {sha1: QUERY, document_hash(MUTATION): MUTATION})
    client = await serve(PersistedQueries.from_manifest(path, allow_only=True))
    by_id = await _post(client, {"documentId": sha1})
    assert by_id.status_code == 200 and len(by_id.json()["data"]["posts"]) == 2
    by_get = await client.get("/graphql", params={"documentId": sha1})
    assert by_get.json() == by_id.json()
    assert (await _post(client, {"extensions": _apq(QUERY)})).json() == by_id.json()
    assert (await _post(client, {"documentId": f"sha256:{document_hash(QUERY)}"})).json() == (
        by_id.json()
    )
    mutation = await client.get("/graphql", params={"documentId": document_hash(MUTATION)})
    assert mutation.status_code == 405
    unknown = await _post(client, {"documentId": "0" * 40})
    assert _code(unknown) == "PERSISTED_QUERY_NOT_FOUND"
    assert _code(await _post(client, {"documentId": "nope"})) == "BAD_REQUEST"
    both = await _post(client, {"documentId": sha1, "query": QUERY})
    assert _code(both) == "BAD_REQUEST"
    assert (await _post(client, {"documentId": 3})).status_code == 400
    assert _code(await _post(client, {"query": OTHER})) == "PERSISTED_QUERY_REQUIRED"
