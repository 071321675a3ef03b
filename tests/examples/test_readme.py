"""The README's code sample runs as written, and the API it declares answers the tour's query."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fraiseql

README = Path(__file__).resolve().parents[2] / "README.md"

TOUR_QUERY = (
    "{ posts(limit: 2, orderBy: [{createdAt: DESC}]) { title author { name } } "
    "postsConnection(first: 1) { edges { cursor node { identifier } } "
    "pageInfo { hasNextPage endCursor } } }"
)


def readme_sample() -> str:
    """The first Python code block of the README."""
    found = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert found is not None, "the README has no Python sample"
    return found.group(1)


@pytest.fixture
def sample(tmp_path: Path) -> Iterator[Any]:
    """The sample imported as a module of its own (dataclasses look their module up)."""
    path = tmp_path / "readme_sample.py"
    path.write_text(readme_sample(), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("readme_sample", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["readme_sample"] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules["readme_sample"]


def test_the_sample_builds_an_app_with_the_documented_fields(sample: Any) -> None:
    schema = sample.app.state.fraiseql_schema
    sdl = schema.print_schema()
    assert (
        "posts(where: PostWhereInput = null, orderBy: [PostOrderByInput!] = null, "
        "limit: Int = null, offset: Int = null): [Post!]!"
    ) in sdl
    assert (
        "postsConnection(where: PostWhereInput = null, first: Int = null, "
        "after: String = null): PostConnection!"
    ) in sdl
    assert "createdAt: DateTime!" in sdl


async def test_the_samples_api_answers_over_the_example_data(
    sample: Any, blog_database: str
) -> None:
    schema = fraiseql.Schema(
        types=[sample.Post],
        queries=[sample.posts, sample.posts_connection],
        database_url=blog_database,
    )
    await schema.open()
    try:
        result = await schema.run(TOUR_QUERY)
    finally:
        await schema.close()
    assert "errors" not in result, result
    assert len(result["data"]["posts"]) == 2
    assert set(result["data"]["posts"][0]) == {"title", "author"}
    page = result["data"]["postsConnection"]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["endCursor"] == page["edges"][0]["cursor"]
