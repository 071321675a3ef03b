"""A real Apollo Gateway in front of the blog subgraph, served over HTTP under RLS.

``js/gateway.mjs`` starts ``@apollo/gateway`` with ``IntrospectAndCompose``: it reads the
blog's SDL with ``_service { sdl }`` over HTTP, composes it with an in-process ``reviews``
subgraph that extends ``Post`` by its key, and runs each operation's query plan — which calls
the blog's ``_entities`` with the representations the reviews name, forwarding the tenant
header. Skipped only when ``node``/``npm`` are not installed.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from examples.blog.app import TENANT_HEADER
from tests.federation.conftest import TenantBlog
from tests.federation.test_composition import NODE, NPM, install_js

pytestmark = pytest.mark.skipif(NODE is None or NPM is None, reason="no node/npm on PATH")


@pytest.fixture(scope="module")
def blog_url(tenant_blog: TenantBlog) -> Iterator[str]:
    """The federated blog app served by uvicorn on a free port in a thread; its GraphQL URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(tenant_blog.app(), lifespan="on", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


def _gateway(js: Path, request: dict[str, Any]) -> list[dict[str, Any]]:
    assert NODE is not None
    result = subprocess.run(
        [NODE, "gateway.mjs"],
        cwd=js,
        input=json.dumps({"header": TENANT_HEADER, **request}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results: list[dict[str, Any]] = json.loads(result.stdout)
    return results


def test_the_gateway_resolves_blog_entities_per_tenant(
    tenant_blog: TenantBlog, blog_url: str
) -> None:
    (tenant_a, own), (tenant_b, foreign) = tenant_blog.posts.items()
    missing = str(uuid.uuid4())
    reviews = [
        {"stars": 5, "postId": own[0]},
        {"stars": 4, "postId": foreign[0]},
        {"stars": 3, "postId": missing},
        {"stars": 2, "postId": own[1]},
    ]
    top = "{ topReviews { stars post { id title } } }"
    own_posts = "{ posts(orderBy: [{title: ASC}]) { id title reviews { stars } } }"
    results = _gateway(
        install_js(),
        {
            "blogUrl": blog_url,
            "reviews": reviews,
            "operations": [
                {"query": own_posts, "tenant": tenant_a},
                {"query": top, "tenant": tenant_a},
                {"query": top, "tenant": tenant_b},
            ],
        },
    )
    posts_a, top_a, top_b = results
    assert [r["errors"] for r in results] == [[], [], []]
    listed = posts_a["data"]["posts"]
    assert sorted(p["id"] for p in listed) == sorted(own)
    stars = {p["id"]: [r["stars"] for r in p["reviews"]] for p in listed}
    assert stars[own[0]] == [5] and stars[own[1]] == [2]
    assert all(stars[p] == [] for p in own[2:])
    titles = {p["id"]: p["title"] for p in listed}
    # The gateway's entity fetch: the post of another tenant and the missing one are null.
    assert [r["stars"] for r in top_a["data"]["topReviews"]] == [5, 4, 3, 2]
    assert [r["post"] and r["post"]["title"] for r in top_a["data"]["topReviews"]] == [
        titles[own[0]],
        None,
        None,
        titles[own[1]],
    ]
    assert [r["post"] is not None for r in top_b["data"]["topReviews"]] == [
        False,
        True,
        False,
        False,
    ]
