"""GraphiQL in a real browser with the network off: it renders and runs a query.

Headless Chromium (Debian's ``chromium``; ``.ci/run`` installs it) loads the page from real
uvicorn servers on 127.0.0.1: ``create_app``'s app (the direct path) and a FastAPI app with the
router included under a prefix. Every request the page makes is intercepted; only the servers'
own origins are let through, and the tests assert nothing else was even asked for (the browser's
own traffic is cut by its flags, see ``browser.py``).
Set ``FRAISEQL_GRAPHIQL_SCREENSHOTS=<dir>`` to keep a screenshot of each page.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import fraiseql
from fraiseql.fastapi import graphql_router, lifespan

from .browser import TIMEOUT, Browser, Page, chromium, find_chromium

CHROMIUM = find_chromium()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no chromium executable (Debian package 'chromium', which .ci/run installs; "
        "or set FRAISEQL_CHROMIUM)",
    ),
]

EDITOR = ".graphiql-query-editor .CodeMirror"
RESULT = ".result-window .CodeMirror"
DOCS_BUTTON = '.graphiql-sidebar button[aria-label="Show Documentation Explorer"]'
CSP = "default-src 'self'; font-src 'self' data:; img-src 'self' data:"
"""A strict policy: the page's own origin only, no inline script or style, no eval; GraphiQL's
style sheet embeds its fonts and a few images as ``data:`` URLs."""


INLINE_SCRIPT_RUNS = """(() => {
    const script = document.createElement("script");
    script.textContent = "window.inlineScriptRan = true";
    document.head.appendChild(script);
    return window.inlineScriptRan === true;
})()"""
"""Whether the page may run an inline script: false under the ``CSP``."""


@fraiseql.query
async def hello(info: fraiseql.Info) -> str:
    """A root field that needs no table."""
    return "world"


class StrictCSP:
    """Adds the ``CSP`` Content-Security-Policy to the answers under ``prefix``."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Content-Security-Policy"] = CSP
            await send(message)

        await self.app(scope, receive, with_policy)


@contextlib.contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 and a free port, in a thread; yield its origin."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="on", ws="none", loop="asyncio", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(int(TIMEOUT * 20)):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(TIMEOUT)
        sock.close()


@pytest.fixture(scope="module")
async def servers(server_dsn: str) -> AsyncIterator[dict[str, str]]:
    """create_app's app, and a FastAPI app with a local-mode and a CDN-mode router."""
    direct = fraiseql.create_app(queries=[hello], database_url=server_dsn)
    schema = fraiseql.Schema(queries=[hello], database_url=server_dsn)
    routed = FastAPI(lifespan=lifespan(schema))
    routed.add_middleware(StrictCSP, prefix="/api/graphql")
    routed.include_router(graphql_router(schema), prefix="/api")
    routed.include_router(graphql_router(schema, path="/cdn", graphiql="cdn"), prefix="/api")
    with serving(direct) as direct_origin, serving(routed) as routed_origin:
        yield {"direct": direct_origin, "routed": routed_origin}


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    assert CHROMIUM is not None
    async with chromium(CHROMIUM) as running:
        yield running


async def _screenshot(page: Page, name: str, tmp_path: Path) -> None:
    directory = Path(os.environ.get("FRAISEQL_GRAPHIQL_SCREENSHOTS") or tmp_path)
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    await page.screenshot(directory / f"{name}.png")


@pytest.mark.parametrize(("server", "path"), [("direct", "/graphql"), ("routed", "/api/graphql")])
async def test_graphiql_renders_and_runs_a_query_offline(
    servers: dict[str, str], browser: Browser, server: str, path: str, tmp_path: Path
) -> None:
    origin = servers[server]
    page = await browser.new_page(allowed=[origin + "/"])
    await page.goto(origin + path)
    await page.wait_for(f"!!document.querySelector({EDITOR!r})", "the query editor")
    await page.evaluate(f"document.querySelector({EDITOR!r}).CodeMirror.setValue('{{ hello }}')")
    await page.click(".graphiql-execute-button")
    result = await page.wait_for(
        f"(document.querySelector({RESULT!r}) || {{}}).innerText?.includes('world')"
        f" && document.querySelector({RESULT!r}).innerText",
        "the result",
    )
    await _screenshot(page, f"graphiql-{server}", tmp_path)
    assert '"hello": "world"' in result
    # The schema arrived too: GraphiQL's introspection query went through the same fetcher.
    await page.click(DOCS_BUTTON)
    docs = await page.wait_for(
        "(document.querySelector('.graphiql-doc-explorer') || {}).innerText", "the documentation"
    )
    assert "query: Query" in docs.replace("\n", " ")
    assert page.refused == [], "requests that would have left the machine"
    assert page.requested, "the interception saw no request"
    outside = [url for url in page.requested if not url.startswith(f"{origin}{path}")]
    assert outside == []
    assert any("/_graphiql/graphiql-" in url for url in page.requested)
    assert page.problems == [], "\n".join(page.problems)
    # The routed endpoint is served with a strict CSP (see StrictCSP); the direct one without.
    assert await page.evaluate(INLINE_SCRIPT_RUNS) is (server == "direct")


async def test_cdn_mode_offline_says_what_happened(
    servers: dict[str, str], browser: Browser, tmp_path: Path
) -> None:
    origin = servers["routed"]
    page = await browser.new_page(allowed=[origin + "/"])
    await page.goto(origin + "/api/cdn")
    status = await page.wait_for(
        "document.getElementById('fraiseql-graphiql-status').innerText.includes('could not')"
        " && document.getElementById('graphiql').innerText",
        "the failure message",
    )
    await _screenshot(page, "graphiql-cdn-offline", tmp_path)
    assert "GraphiQL could not be loaded" in status
    assert "still answers POST requests" in status
    assert sorted(page.refused) == sorted(
        f"https://cdn.jsdelivr.net/npm/{name}"
        for name in (
            "graphiql@3.8.3/graphiql.min.css",
            "graphiql@3.8.3/graphiql.min.js",
            "react@18.3.1/umd/react.production.min.js",
            "react-dom@18.3.1/umd/react-dom.production.min.js",
        )
    )


async def test_page_without_any_script_is_not_blank(
    servers: dict[str, str], browser: Browser, tmp_path: Path
) -> None:
    origin = servers["direct"]
    page = await browser.new_page(allowed=[origin + "/"], block=lambda url: "/_graphiql/" in url)
    await page.goto(origin + "/graphql")
    await asyncio.sleep(0.5)  # time for anything that could still run
    text = await page.evaluate("document.getElementById('graphiql').innerText")
    await _screenshot(page, "graphiql-no-scripts", tmp_path)
    assert "Loading GraphiQL" in text
    assert "If GraphiQL does not appear" in text
    assert "still answers POST requests" in text
    assert len(page.blocked) == 6  # the two style sheets and the four scripts
    assert page.refused == []
