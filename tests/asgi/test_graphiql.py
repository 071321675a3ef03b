"""GraphiQL is served to browsers only: GET, Accept naming text/html, and no query.

Its files are served by the endpoint itself, under ``<path>/_graphiql/``, by name from a fixed
table (no filesystem path is ever built from the request), with their pinned integrity hashes.
"""

import gzip
import re
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp, Message

import fraiseql
from fraiseql.asgi import build_asgi_app
from fraiseql.asgi.graphiql import (
    GRAPHIQL_VERSION,
    REACT_VERSION,
    VENDOR_FILES,
    assets,
    graphiql_mode,
    graphiql_page,
    sri_hash,
)
from fraiseql.asgi.graphiql_assets import CACHE_CONTROL
from fraiseql.fastapi import graphql_router

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
TAG = re.compile(r'(?:src|href)="([^"]+)" integrity="(sha384-[A-Za-z0-9+/=]{64})"')

CDN_SRI = {
    "graphiql@3.8.3/graphiql.min.css": (
        "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM"
    ),
    "react@18.3.1/umd/react.production.min.js": (
        "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z"
    ),
    "react-dom@18.3.1/umd/react-dom.production.min.js": (
        "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1"
    ),
    "graphiql@3.8.3/graphiql.min.js": (
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie"
    ),
}
"""The hashes the page used with jsDelivr before the files were checked in (same versions)."""


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def _tags(page: str) -> list[tuple[str, str]]:
    return TAG.findall(page)


async def test_browser_gets_the_page(client: httpx.AsyncClient, executor: Any) -> None:
    response = await client.get("/graphql", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "accept" in response.headers["vary"].lower()
    assert '<div id="graphiql">' in response.text
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
        asset = await client.get(f"/graphql/_graphiql/{VENDOR_FILES[0].name}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert asset.status_code == 404  # no page, no files


def test_checked_in_files_are_the_pinned_releases() -> None:
    """Byte for byte what jsDelivr serves: the same integrity hashes as the CDN tags had."""
    served = assets()
    for vendor in VENDOR_FILES:
        assert vendor.version in (GRAPHIQL_VERSION, REACT_VERSION)
        assert vendor.version in vendor.name
        assert sri_hash(served[vendor.name].body) == vendor.integrity
        assert CDN_SRI[vendor.cdn_url.removeprefix("https://cdn.jsdelivr.net/npm/")] == (
            vendor.integrity
        )


def test_local_page_loads_everything_from_the_endpoint() -> None:
    page = graphiql_page("local", "/graphql").decode()
    tags = _tags(page)
    assert len(tags) == 6  # two style sheets, four scripts
    served = assets()
    for url, integrity in tags:
        assert url.startswith("./graphql/_graphiql/")
        asset = served[url.removeprefix("./graphql/_graphiql/")]
        assert sri_hash(asset.body) == integrity
    assert "https://" not in page
    assert "<script>" not in page and "<style>" not in page  # works under script-src 'self'
    assert "The GraphQL endpoint still answers POST requests" in page


def test_cdn_page_loads_the_releases_from_jsdelivr() -> None:
    tags = _tags(graphiql_page("cdn", "/graphql").decode())
    cdn = [(url, sri) for url, sri in tags if url.startswith("https://")]
    assert {url.removeprefix("https://cdn.jsdelivr.net/npm/"): sri for url, sri in cdn} == CDN_SRI
    own = [url for url, _ in tags if not url.startswith("https://")]
    assert len(own) == 2  # FraiseQL's script and style sheet come from the endpoint anyway
    assert all(url.startswith("./graphql/_graphiql/fraiseql-graphiql.") for url in own)


@pytest.mark.parametrize(
    ("path", "base"),
    [
        ("/graphql", "./graphql/_graphiql/"),
        ("/api/v1/gql", "./gql/_graphiql/"),
        ("/graphql/", "./_graphiql/"),
        ("/", "./_graphiql/"),
        ('/a"b<c>:d', "./a%22b%3Cc%3E%3Ad/_graphiql/"),
    ],
)
def test_file_urls_are_relative_to_the_page(path: str, base: str) -> None:
    urls = [url for url, _ in _tags(graphiql_page("local", path).decode())]
    assert all(url.startswith(base) for url in urls)


def test_modes() -> None:
    assert graphiql_mode(True) == graphiql_mode("local") == "local"
    assert graphiql_mode("cdn") == "cdn"
    assert graphiql_mode(False) is None
    with pytest.raises(ValueError, match="'offline'"):
        graphiql_mode("offline")  # type: ignore[arg-type]


async def _page_and_files(client: httpx.AsyncClient, page_path: str) -> list[httpx.Response]:
    """Fetch the page, then every file it names, resolved as a browser resolves them."""
    page = await client.get(page_path, headers={"Accept": BROWSER})
    assert page.status_code == 200
    page_url = f"http://testserver{page_path}"
    return [await client.get(urljoin(page_url, url)) for url, _ in _tags(page.text)]


def _check(responses: list[httpx.Response]) -> None:
    assert len(responses) == 6
    for response in responses:
        assert response.status_code == 200, response.url
        assert response.headers["content-type"].split(";")[0] in ("text/css", "text/javascript")
        assert sri_hash(response.content) in {asset.integrity for asset in assets().values()}


@pytest.mark.parametrize("mode", [True, "local", "cdn"])
async def test_every_file_the_page_names_is_served(executor: Any, mode: Any) -> None:
    async with _client(build_asgi_app(executor, graphiql=mode)) as client:
        responses = await _page_and_files(client, "/graphql")
    local = [r for r in responses if r.url.host == "testserver"]
    if mode == "cdn":
        assert len(local) == 2  # the jsDelivr URLs are not fetched here
    else:
        _check(local)


async def test_files_of_create_app_take_the_router_beside_the_direct_path() -> None:
    @fraiseql.query
    async def hello(info: fraiseql.Info) -> str:
        return "world"

    # No lifespan runs here: the pool is never opened, and serving the files needs none.
    app = fraiseql.create_app(queries=[hello], database_url="postgresql://nobody@127.0.0.1/none")
    async with _client(app) as client:
        _check(await _page_and_files(client, "/graphql"))


async def test_files_under_a_mount_and_a_fastapi_prefix(executor: Any) -> None:
    mounted = Starlette(routes=[Mount("/outer", app=build_asgi_app(executor, path="/gql"))])
    async with _client(mounted) as client:
        _check(await _page_and_files(client, "/outer/gql"))
    fastapi = FastAPI()
    fastapi.include_router(graphql_router(executor), prefix="/api")
    async with _client(fastapi) as client:
        _check(await _page_and_files(client, "/api/graphql"))
        schema = await client.get("/openapi.json")
    assert schema.json()["paths"] == {}


async def test_file_headers(client: httpx.AsyncClient) -> None:
    name = next(name for name in assets() if name.endswith(".js"))
    plain = await client.get(f"/graphql/_graphiql/{name}", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["content-type"] == "text/javascript; charset=utf-8"
    assert plain.headers["cache-control"] == CACHE_CONTROL
    assert "immutable" in CACHE_CONTROL and "max-age=31536000" in CACHE_CONTROL
    assert plain.headers["x-content-type-options"] == "nosniff"
    assert plain.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in plain.headers
    assert plain.content == assets()[name].body
    etag = plain.headers["etag"]
    again = await client.get(
        f"/graphql/_graphiql/{name}",
        headers={"Accept-Encoding": "identity", "If-None-Match": f'"other", {etag}'},
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    css = await client.get(f"/graphql/_graphiql/{VENDOR_FILES[0].name}")
    assert css.headers["content-type"] == "text/css; charset=utf-8"


async def test_files_are_compressed_for_clients_that_accept_gzip(client: httpx.AsyncClient) -> None:
    name = VENDOR_FILES[-1].name  # GraphiQL's 3.5 MB script
    url = f"/graphql/_graphiql/{name}"
    async with client.stream("GET", url, headers={"Accept-Encoding": "gzip, br"}) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) == len(raw) < len(assets()[name].body) / 3
    assert gzip.decompress(raw) == assets()[name].body
    plain = await client.get(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["etag"] != response.headers["etag"]  # two representations, two tags


async def test_head_and_other_methods(client: httpx.AsyncClient) -> None:
    url = f"/graphql/_graphiql/{VENDOR_FILES[1].name}"
    head = await client.head(url, headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) == len(assets()[VENDOR_FILES[1].name].body)
    for method in ("POST", "PUT", "DELETE"):
        refused = await client.request(method, url)
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET, HEAD"


async def _raw_get(app: ASGIApp, raw_path: bytes) -> int:
    """GET exactly ``raw_path`` (decoded as a server would), bypassing client normalization."""
    from urllib.parse import unquote_to_bytes

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote_to_bytes(raw_path).decode("latin-1"),
        "raw_path": raw_path,
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1234),
    }
    await app(scope, receive, send)
    return int(sent[0]["status"])


@pytest.mark.parametrize(
    "raw_path",
    [
        b"/graphql/_graphiql/..",
        b"/graphql/_graphiql/../graphiql.html",
        b"/graphql/_graphiql/%2e%2e",
        b"/graphql/_graphiql/%2e%2e%2fgraphiql.html",
        b"/graphql/_graphiql/..%2f..%2f..%2fpyproject.toml",
        b"/graphql/_graphiql/%2Fetc%2Fpasswd",
        b"/graphql/_graphiql//etc/passwd",
        b"/graphql/_graphiql/graphiql.html",
        b"/graphql/_graphiql/graphiql.js",
        b"/graphql/_graphiql/vendor/graphiql/LICENSE",
        b"/graphql/_graphiql/vendor%2Fgraphiql%2Fgraphiql.min.js",
        b"/graphql/_graphiql/README.md",
        b"/graphql/_graphiql/",
        b"/graphql/_graphiql/graphiql-3.8.3.min.js%00",
        b"/graphql/_graphiql/GRAPHIQL-3.8.3.MIN.JS",
    ],
)
async def test_only_listed_names_are_served(executor: Any, raw_path: bytes) -> None:
    app = build_asgi_app(executor)
    assert await _raw_get(app, b"/graphql/_graphiql/graphiql-3.8.3.min.js") == 200
    assert await _raw_get(app, raw_path) == 404
