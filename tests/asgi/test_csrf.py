"""CSRF prevention: a request a browser could send cross-site without a preflight needs a header."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from examples.blog.schema import QUERIES, TYPES
from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from fraiseql import Schema, create_app
from fraiseql.asgi import CORSConfig, build_asgi_app
from fraiseql.asgi.csrf import (
    CSRF_HEADER_REQUIRED,
    DEFAULT_CSRF_HEADERS,
    CSRFPolicy,
    carries_ambient_credentials,
    has_simple_content_type,
)
from fraiseql.asgi.http import GraphQLHTTPHandler
from fraiseql.fastapi import graphql_router

QUERY = {"query": "{ a }"}
COOKIE = {"Cookie": "session=abc"}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def _get(app: Any, headers: dict[str, str], path: str = "/graphql") -> httpx.Response:
    async with _client(app) as client:
        return await client.get(path, params=QUERY, headers=headers)


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": CSRF_HEADER_REQUIRED}
    assert "cross-site request forgery" in error["message"]
    for name in DEFAULT_CSRF_HEADERS:
        assert name in error["message"]


# The rule in "auto" mode, the default: requests with ambient credentials.


async def test_get_with_a_cookie_and_no_header_is_refused(executor: Any) -> None:
    response = await _get(build_asgi_app(executor), COOKIE)
    assert_refused(response)
    assert executor.prepared == []  # refused before anything was parsed or run


@pytest.mark.parametrize("name", DEFAULT_CSRF_HEADERS)
async def test_get_with_a_cookie_and_a_required_header_runs(executor: Any, name: str) -> None:
    response = await _get(build_asgi_app(executor), {**COOKIE, name: "1"})
    assert response.status_code == 200, response.text
    assert len(executor.executed) == 1


async def test_any_value_will_do(executor: Any) -> None:
    response = await _get(build_asgi_app(executor), {**COOKIE, "X-Requested-With": ""})
    assert response.status_code == 200


async def test_get_without_credentials_needs_no_header(executor: Any) -> None:
    response = await _get(build_asgi_app(executor), {})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("authorization", "refused"),
    [
        ("Basic YWxpY2U6c2VjcmV0", True),
        ("digest username=alice", True),
        ("Negotiate abc", True),
        ("NTLM abc", True),
        ("Bearer eyJhbGciOi", False),  # set by a script: a browser never sends it by itself
    ],
)
async def test_authorization_schemes_a_browser_replays_count_as_credentials(
    executor: Any, authorization: str, refused: bool
) -> None:
    response = await _get(build_asgi_app(executor), {"Authorization": authorization})
    assert (response.status_code == 400) is refused


async def test_get_with_a_non_simple_content_type_was_preflighted(executor: Any) -> None:
    app = build_asgi_app(executor)
    json_type = await _get(app, {**COOKIE, "Content-Type": "application/json"})
    text_type = await _get(app, {**COOKIE, "Content-Type": "text/plain; charset=utf-8"})
    assert json_type.status_code == 200
    assert_refused(text_type)


async def test_header_names_are_case_insensitive(executor: Any) -> None:
    app = build_asgi_app(executor, csrf_required_headers=["X-My-App"])
    lower = await _get(app, {**COOKIE, "x-my-app": "1"})
    upper = await _get(app, {**COOKIE, "X-MY-APP": "1"})
    other = await _get(app, {**COOKIE, "X-Requested-With": "1"})
    assert lower.status_code == upper.status_code == 200
    assert other.status_code == 400
    assert "X-My-App" in other.json()["errors"][0]["message"]


# POST: only JSON content types are accepted, and they are preflighted.


async def test_post_with_json_and_a_cookie_runs(executor: Any) -> None:
    async with _client(build_asgi_app(executor, csrf_prevention="always")) as client:
        plain = await client.post("/graphql", json=QUERY, headers=COOKIE)
        graphql = await client.post(
            "/graphql",
            content=b'{"query": "{ a }"}',
            headers={**COOKIE, "Content-Type": "application/graphql-response+json"},
        )
    assert plain.status_code == graphql.status_code == 200
    assert len(executor.executed) == 2


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
async def test_post_with_a_simple_content_type_is_refused(
    executor: Any, content_type: str | None
) -> None:
    headers = dict(COOKIE)
    if content_type is not None:
        headers["Content-Type"] = content_type
    async with _client(build_asgi_app(executor)) as client:
        bare = await client.post("/graphql", content=b'{"query": "{ a }"}', headers=headers)
        with_header = await client.post(
            "/graphql",
            content=b'{"query": "{ a }"}',
            headers={**headers, "X-Requested-With": "1"},
        )
    # Refused for its type whatever the headers: the body is read as JSON only.
    assert bare.status_code == with_header.status_code == 415
    assert bare.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert executor.prepared == []


async def test_batches_are_posted_as_json(executor: Any) -> None:
    app = build_asgi_app(executor, batching=True, csrf_prevention="always")
    async with _client(app) as client:
        response = await client.post("/graphql", json=[QUERY, QUERY], headers=COOKIE)
    assert response.status_code == 200
    assert len(response.json()) == 2


# The modes.


async def test_always_refuses_requests_without_credentials(executor: Any) -> None:
    app = build_asgi_app(executor, csrf_prevention="always")
    assert_refused(await _get(app, {}))
    assert (await _get(app, {"Apollo-Require-Preflight": "true"})).status_code == 200


async def test_off_refuses_nothing(executor: Any) -> None:
    response = await _get(build_asgi_app(executor, csrf_prevention="off"), COOKIE)
    assert response.status_code == 200


@pytest.mark.parametrize("mode", ["auto", "always"])
async def test_the_graphiql_page_needs_no_header(executor: Any, mode: Any) -> None:
    app = build_asgi_app(executor, csrf_prevention=mode)
    async with _client(app) as client:
        page = await client.get("/graphql", headers={**COOKIE, "Accept": BROWSER})
        # The page's own requests: POST application/json.
        fetched = await client.post("/graphql", json=QUERY, headers=COOKIE)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert fetched.status_code == 200


async def test_a_mutation_over_get_is_refused_either_way(executor: Any) -> None:
    app = build_asgi_app(executor)
    async with _client(app) as client:
        forged = await client.get("/graphql", params={"query": "mutation { a }"}, headers=COOKIE)
        sent = await client.get(
            "/graphql",
            params={"query": "mutation { a }"},
            headers={**COOKIE, "X-Requested-With": "1"},
        )
    assert forged.status_code == 400  # refused before the document is even parsed
    assert sent.status_code == 405
    assert executor.executed == []


# Every way of building the endpoint applies the same rule.


class Passthrough:
    """A pure ASGI middleware; its presence makes the app take Starlette's full stack."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def test_direct_and_stacked_paths_answer_alike(executor: Any) -> None:
    direct = build_asgi_app(executor)
    stacked = build_asgi_app(executor)
    stacked.user_middleware.append(Middleware(Passthrough))
    for headers in (COOKIE, {**COOKIE, "X-Requested-With": "1"}, {}):
        one, other = await _get(direct, headers), await _get(stacked, headers)
        assert (one.status_code, one.content) == (other.status_code, other.content)
    assert_refused(await _get(direct, COOKIE))


async def test_cors_app_applies_the_rule(executor: Any) -> None:
    origin = "https://app.example.com"
    cors = CORSConfig(allow_origins=(origin,), allow_credentials=True)
    app = build_asgi_app(executor, cors=cors)
    assert_refused(await _get(app, {**COOKIE, "Origin": "https://evil.example"}))
    async with _client(app) as client:
        preflight = await client.options(
            "/graphql",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "apollo-require-preflight",
            },
        )
    assert preflight.status_code == 200  # the default CSRF headers are allowed cross-origin


async def test_fastapi_router(executor: Any) -> None:
    app = FastAPI()
    app.include_router(graphql_router(executor), prefix="/auto")
    app.include_router(graphql_router(executor, csrf_prevention="always"), prefix="/always")
    app.include_router(
        graphql_router(executor, csrf_required_headers=["X-My-App"]), prefix="/custom"
    )
    sent = {**COOKIE, "x-requested-with": "1"}
    assert_refused(await _get(app, COOKIE, "/auto/graphql"))
    assert (await _get(app, sent, "/auto/graphql")).status_code == 200
    assert (await _get(app, {}, "/auto/graphql")).status_code == 200
    assert_refused(await _get(app, {}, "/always/graphql"))
    assert (await _get(app, {**COOKIE, "X-My-App": "1"}, "/custom/graphql")).status_code == 200
    async with _client(app) as client:
        page = await client.get("/auto/graphql", headers={**COOKIE, "Accept": BROWSER})
        posted = await client.post("/auto/graphql", json=QUERY, headers=COOKIE)
    assert page.status_code == posted.status_code == 200


async def test_create_app_passes_the_options_on() -> None:
    schema = Schema(types=TYPES, queries=QUERIES, database_url="postgresql://nobody@127.0.0.1/x")
    default = create_app(schema=schema)
    custom = create_app(
        schema=schema, csrf_prevention="always", csrf_required_headers=("X-My-App",)
    )
    older = create_app(schema=schema, csrf_require_header_on_get=True)
    assert [_handler(app).csrf for app in (default, custom, older)] == [
        CSRFPolicy("auto", DEFAULT_CSRF_HEADERS),
        CSRFPolicy("always", ("X-My-App",)),
        CSRFPolicy("always", DEFAULT_CSRF_HEADERS),
    ]
    assert_refused(await _get(default, COOKIE))  # refused before the database is needed


def _handler(app: Any) -> GraphQLHTTPHandler:
    handler = app.graphql_handler
    assert isinstance(handler, GraphQLHTTPHandler)
    return handler


# The older option names.


async def test_csrf_require_header_on_get_means_always(executor: Any) -> None:
    app = build_asgi_app(executor, csrf_require_header_on_get=True)
    assert_refused(await _get(app, {}))
    assert (await _get(app, {"GraphQL-Require-Preflight": "1"})).status_code == 200


async def test_csrf_get_header_names_is_the_older_name(executor: Any) -> None:
    app = build_asgi_app(
        executor, csrf_require_header_on_get=True, csrf_get_header_names=["X-My-App"]
    )
    assert (await _get(app, {"X-Requested-With": "x"})).status_code == 400
    assert (await _get(app, {"X-My-App": "1"})).status_code == 200


# Configuration mistakes are refused when the app is built.


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"csrf_prevention": "sometimes"}, ValueError),
        ({"csrf_prevention": "off", "csrf_require_header_on_get": True}, ValueError),
        ({"csrf_required_headers": ["A"], "csrf_get_header_names": ["B"]}, ValueError),
        ({"csrf_required_headers": []}, ValueError),
        ({"csrf_required_headers": "X-My-App"}, TypeError),
        ({"csrf_required_headers": ["Content-Type"]}, ValueError),
        ({"csrf_required_headers": ["cookie"]}, ValueError),
        ({"csrf_required_headers": ["Sec-Fetch-Site"]}, ValueError),
    ],
)
def test_bad_options_are_refused(executor: Any, options: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        GraphQLHTTPHandler(executor, **options)


def test_off_needs_no_headers(executor: Any) -> None:
    handler = GraphQLHTTPHandler(executor, csrf_prevention="off", csrf_required_headers=[])
    assert handler.csrf.mode == "off"


# The two tests the rule is made of.


def test_ambient_credentials() -> None:
    assert carries_ambient_credentials(Headers({"cookie": ""}))
    assert carries_ambient_credentials(Headers({"authorization": "basic x"}))
    assert not carries_ambient_credentials(Headers({"authorization": "Bearer x"}))
    assert not carries_ambient_credentials(Headers({"authorization": ""}))
    assert not carries_ambient_credentials(Headers({}))


@pytest.mark.parametrize(
    ("content_type", "simple"),
    [
        (None, True),
        ("text/plain", True),
        ("TEXT/PLAIN; charset=utf-8", True),
        (" application/x-www-form-urlencoded", True),
        ("multipart/form-data; boundary=x", True),
        ("not a media type", True),  # unparseable: counted as simple, which refuses more
        ("application/json", False),
        ("application/graphql-response+json; charset=utf-8", False),
        ("application/graphql", False),
    ],
)
def test_simple_content_types(content_type: str | None, simple: bool) -> None:
    headers = Headers({} if content_type is None else {"content-type": content_type})
    assert has_simple_content_type(headers) is simple
