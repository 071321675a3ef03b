"""The blog's subgraph SDL composed into a supergraph by Apollo's own composition library.

``js/`` holds ``@apollo/composition`` (pinned by ``package-lock.json``, installed with
``npm ci`` once, then again only when the lock file changes) and ``compose.mjs``, which runs
``composeServices`` on the subgraphs it reads. A second, tiny subgraph extends ``Post`` by
its key with ``reviews``: composition must accept both and route each field to its subgraph.
The test is skipped only when ``node``/``npm`` are not installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from examples.blog.schema import MUTATIONS, QUERIES, TYPES

from fraiseql import Schema
from fraiseql.schema.federation import FEDERATION_URL

JS = Path(__file__).resolve().parent / "js"
NODE, NPM = shutil.which("node"), shutil.which("npm")
pytestmark = pytest.mark.skipif(NODE is None or NPM is None, reason="no node/npm on PATH")

REVIEWS = f"""
extend schema @link(url: "{FEDERATION_URL}", import: ["@key"])

scalar UUID

type Post @key(fields: "id") {{
  id: UUID!
  reviews: [Review!]!
}}

type Review {{
  stars: Int!
  text: String
}}

type Query {{
  topReviews: [Review!]!
}}
"""
"""A second subgraph: reviews of the blog's posts, referenced by the posts' key."""


def install_js() -> Path:
    """``js/`` with ``node_modules`` installed from the lock file (once per lock file change)."""
    modules, lock = JS / "node_modules", JS / "package-lock.json"
    marker = modules / ".package-lock.json"  # npm writes it at each install
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        assert NPM is not None
        subprocess.run(
            [NPM, "ci", "--no-audit", "--no-fund", "--prefix", str(JS)],
            capture_output=True,
            check=True,
            timeout=180,
        )
    return JS


@pytest.fixture(scope="module")
def js() -> Path:
    """``js/``, installed."""
    return install_js()


def _compose(js: Path, subgraphs: dict[str, str]) -> dict[str, Any]:
    assert NODE is not None
    request = {
        "subgraphs": [
            {"name": name, "url": f"http://{name}.test/graphql", "sdl": sdl}
            for name, sdl in subgraphs.items()
        ]
    }
    result = subprocess.run(
        [NODE, "compose.mjs"],
        cwd=js,
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    composed: dict[str, Any] = json.loads(result.stdout)
    return composed


def _blog_sdl() -> str:
    sdl = Schema(
        types=TYPES, queries=QUERIES, mutations=MUTATIONS, federation=True
    ).model.subgraph_sdl
    assert sdl is not None
    return sdl


def _type(supergraph: str, name: str) -> str:
    """The definition of type ``name`` in the supergraph SDL, up to its closing brace."""
    found = re.search(rf"^type {name}\b.*?^\}}", supergraph, re.MULTILINE | re.DOTALL)
    assert found is not None, f"no type {name} in the supergraph"
    return found.group(0)


def test_the_blog_subgraph_composes_with_one_extending_post(js: Path) -> None:
    composed = _compose(js, {"blog": _blog_sdl(), "reviews": REVIEWS})
    assert composed["errors"] == []
    supergraph = composed["supergraphSdl"]
    post = _type(supergraph, "Post")
    assert '@join__type(graph: BLOG, key: "id")' in post
    assert '@join__type(graph: REVIEWS, key: "id")' in post
    assert "  id: UUID!\n" in post  # the key: resolvable by both
    assert "  title: String! @join__field(graph: BLOG)\n" in post
    assert "  author: Author! @join__field(graph: BLOG)\n" in post
    assert "  reviews: [Review!]! @join__field(graph: REVIEWS)\n" in post
    query = _type(supergraph, "Query")
    assert "  posts(" in query and "@join__field(graph: BLOG)" in query
    assert "  topReviews: [Review!]! @join__field(graph: REVIEWS)\n" in query
    assert "_entities" not in supergraph and "_service" not in supergraph
    for entity in ("User", "Comment", "Organisation"):
        assert '@join__type(graph: BLOG, key: "id")' in _type(supergraph, entity)
    mutation = _type(supergraph, "Mutation")
    assert "  createPost(" in mutation


def test_without_the_key_composition_fails(js: Path) -> None:
    """The check above can fail: the same subgraph without Post's @key does not compose."""
    unkeyed = _blog_sdl().replace('type Post @key(fields: "id") {', "type Post {")
    composed = _compose(js, {"blog": unkeyed, "reviews": REVIEWS})
    assert any('"Post.id"' in error for error in composed["errors"]), composed["errors"]
    assert composed["supergraphSdl"] is None
