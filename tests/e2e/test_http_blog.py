"""The example app end to end over HTTP: real transport, executor and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from examples.blog.app import build

from fraiseql import Schema

pytestmark = pytest.mark.filterwarnings("error")

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture(scope="module")
async def client(blog_database: str) -> AsyncIterator[httpx.AsyncClient]:
    app = build(blog_database, tenancy=False)
    schema: Schema = app.state.fraiseql_schema
    await schema.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http
    finally:
        await schema.close()


async def test_post_query(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "{ posts(limit: 2) { __typename title author { name } } }"},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    posts = response.json()["data"]["posts"]
    assert len(posts) == 2
    assert posts[0]["__typename"] == "Post"


async def test_get_query_with_variables(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "query Q($n: Int) { posts(limit: $n) { id } }",
            "variables": '{"n": 3}',
            "operationName": "Q",
        },
    )
    assert response.status_code == 200
    assert len(response.json()["data"]["posts"]) == 3


async def test_context_getter_reaches_resolvers(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ users(first: 1) { edges { node { displayName } } } }"}
    )
    name = response.json()["data"]["users"]["edges"][0]["node"]["displayName"]
    assert "(@" in name


@pytest.mark.parametrize(
    ("body", "status_json", "status_graphql"),
    [
        ({"query": "{ posts { nope } }"}, 200, 400),
        ({"query": "{ posts("}, 200, 400),
        (
            {"query": "query($n: Int) { posts(limit: $n) { id } }", "variables": {"n": "x"}},
            200,
            400,
        ),
        ({"query": "{ posts(limit: 1) { id } }", "operationName": "Missing"}, 200, 400),
        ({"query": '{ post(id: "not-a-uuid") { id } }'}, 200, 400),
        ({"query": "{ posts(where: {title: {like: 1}}) { id } }"}, 200, 400),
        ({"query": "{ posts(where: {nope: {eq: 1}}) { id } }"}, 200, 400),
    ],
)
async def test_bad_documents_get_spec_status_codes(
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    body: dict[str, object],
    status_json: int,
    status_graphql: int,
) -> None:
    caplog.set_level(logging.ERROR)
    as_json = await client.post("/graphql", json=body, headers={"Accept": "application/json"})
    as_graphql = await client.post("/graphql", json=body, headers={"Accept": GRAPHQL_RESPONSE})
    assert as_json.status_code == status_json
    assert as_graphql.status_code == status_graphql
    for response in (as_json, as_graphql):
        payload = response.json()
        assert "data" not in payload
        assert payload["errors"][0]["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_malformed_requests(client: httpx.AsyncClient) -> None:
    bad_json = await client.post(
        "/graphql", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status_code == 400
    form = await client.post(
        "/graphql",
        content=b"query={x}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 415
    missing = await client.post("/graphql", json={"variables": {}})
    assert missing.status_code == 400


async def test_field_error_keeps_status_200_with_partial_data(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={
            "query": '{ ok: posts(limit: 1) { id } bad: post(identifier: "x", id: "00000000-0000-0000-0000-000000000000") { id } }'
        },
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    payload = response.json()
    assert len(payload["data"]["ok"]) == 1
    assert payload["data"]["bad"] is None
    assert payload["errors"][0]["path"] == ["bad"]


HOSTILE = [
    "'; DROP TABLE tv_post; --",
    "\\' OR 1=1 --",
    '" OR ""="',
    "%_%",
    "$1",
    "data->>'title'",
    "🙂" * 50,
    "\u202e\u0000",
    "x" * 20_000,
    "}{)(][",
]


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_hostile_strings_stay_data_in_every_argument(
    client: httpx.AsyncClient, blog_connection: asyncpg.Connection, hostile: str
) -> None:
    before = await blog_connection.fetchval("SELECT count(*) FROM tv_post")
    queries = [
        ("query($v: String) { post(identifier: $v) { id } }", {"v": hostile}),
        ("query($v: UUID) { post(id: $v) { id } }", {"v": hostile}),
        (
            "query($v: String) { posts(where: {title: {eq: $v}, or: [{body: {contains: $v}},"
            " {author: {name: {startsWith: $v}}}, {tags: {contains: [$v]}}, {identifier: {in: [$v]}}]}) { id } }",
            {"v": hostile},
        ),
        (
            "query($v: String) { posts(where: {title: {icontains: $v, endsWith: $v, gt: $v}}) { id } }",
            {"v": hostile},
        ),
        (
            "query($v: String) { postsConnection(first: 1, after: $v) { totalCount } }",
            {"v": hostile},
        ),
        (
            "query($v: String) { postsConnection(last: 1, before: $v) { totalCount } }",
            {"v": hostile},
        ),
        (
            "query($v: LTree) { posts(where: {categoryPath: {descendantOf: $v}}) { id } }",
            {"v": hostile},
        ),
        (
            "query($v: String) { posts(where: {categoryPath: {matches: $v}}) { id } }",
            {"v": hostile},
        ),
        ("query($v: JSON) { posts(where: {tags: {isNull: false}}) { id } }", {"v": hostile}),
    ]
    for query, variables in queries:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, (query, response.text)
        payload = response.json()
        if "errors" in payload:
            for error in payload["errors"]:
                assert error.get("extensions", {}).get("code") != "INTERNAL_SERVER_ERROR", (
                    query,
                    error,
                )
                assert "DROP TABLE" not in error["message"] or hostile in error["message"]
        if payload.get("data") and "posts" in payload["data"]:
            assert payload["data"]["posts"] == []
    assert await blog_connection.fetchval("SELECT count(*) FROM tv_post") == before


@pytest.mark.parametrize(
    ("pattern", "valid"),
    [
        ("tech.*", True),
        ("*.postgres|mysql.*", True),
        ("!tech.*", True),
        ("tech@.*{1,2}", True),
        ("*{2}", True),
        ("Tech%*", True),
        ("tech..x", False),
        ("tech.*.", False),
        ("a b", False),
        ("", False),
    ],
)
async def test_ltree_matches_accepts_lquery_and_refuses_the_rest(
    client: httpx.AsyncClient, pattern: str, valid: bool
) -> None:
    response = await client.post(
        "/graphql",
        json={
            "query": "query($p: String) { posts(where: {categoryPath: {matches: $p}}) { id } }",
            "variables": {"p": pattern},
        },
    )
    payload = response.json()
    if valid:
        assert "errors" not in payload, payload
    else:
        assert "lquery pattern" in payload["errors"][0]["message"]


async def test_get_never_runs_a_mutation(
    client: httpx.AsyncClient, blog_connection: asyncpg.Connection
) -> None:
    before = await blog_connection.fetchval("SELECT count(*) FROM tb_post")
    response = await client.get(
        "/graphql",
        params={
            "query": 'mutation { deletePost(input: {post: "anything"}) { status } }',
        },
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert await blog_connection.fetchval("SELECT count(*) FROM tb_post") == before
