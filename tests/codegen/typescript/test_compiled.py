"""The generated TypeScript compiled with ``tsc --strict``, run against the served blog, and
compared with ``@graphql-codegen/client-preset`` on the same schema and documents.

``js/`` holds a lock file for typescript, graphql, graphql-request, urql, Apollo Client,
TanStack Query and graphql-codegen; ``npm ci`` installs it into ``js/node_modules`` (once, then
cached). The ``.ts`` files of ``js/src`` use the generated modules; their ``// @ts-expect-error``
lines are misuses that must not compile (tsc fails on an unused one).
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from examples.blog.app import build
from examples.blog.database import load_schema, seed
from examples.blog.schema import printable_schema
from tests.codegen.typescript.support import (
    GOLDEN,
    JS,
    NO_NODE,
    NODE,
    NPM,
    install_js,
    write_generated,
)
from tests.conftest import temporary_database
from tests.subscriptions.support import serving

pytestmark = [
    pytest.mark.filterwarnings("error"),
    pytest.mark.skipif(NODE is None or NPM is None, reason=NO_NODE),
]

RUN_TIMEOUT = 60.0


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command), cwd=JS, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )


@pytest.fixture(scope="module")
def compiled() -> Path:
    """``js/build``: the generated modules and the checks, compiled by ``tsc -p js``."""
    install_js()
    write_generated()
    result = _run(str(JS / "node_modules" / ".bin" / "tsc"), "-p", ".")
    assert result.returncode == 0, result.stdout + result.stderr
    return JS / "build"


def test_generated_code_compiles_with_strict_and_the_expected_errors(compiled: Path) -> None:
    # tsconfig.json: strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes,
    # verbatimModuleSyntax; every @ts-expect-error in js/src is a real error.
    for name in ("blog", "blog_hooks", "kitchen"):
        assert (compiled / "generated" / f"{name}.js").exists()
    expected = sum(
        path.read_text(encoding="utf-8").count("@ts-expect-error")
        for path in (JS / "src").glob("*.ts")
    )
    assert expected >= 20


def test_documents_are_plain_graphql_js_ast(compiled: Path) -> None:
    script = (
        "import { print } from 'graphql';"
        "import * as blog from './build/generated/blog.js';"
        "console.log(print(blog.PostByIdentifierDocument));"
    )
    result = _run(str(NODE), "--input-type=module", "-e", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("query PostByIdentifier($identifier: String!) {")
    assert "fragment AuthorFields on Author {" in result.stdout
    assert "fragment PostSummary on Post {" in result.stdout


@pytest.fixture(scope="module")
async def blog(server_dsn: str) -> AsyncIterator[tuple[str, str]]:
    """A blog database of its own (the client writes a post): its DSN and a tenant's id."""
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=2, users=8, posts=30, comments_per_post=1)
        connection = await asyncpg.connect(dsn)
        try:
            tenant = await connection.fetchval(
                "SELECT id::text FROM tb_organisation ORDER BY identifier LIMIT 1"
            )
        finally:
            await connection.close()
        yield dsn, tenant


@pytest.fixture
def served_blog(blog: tuple[str, str]) -> Iterator[str]:
    """The example app (blog_app role, tenant policies) under uvicorn; its GraphQL URL."""
    with serving(build(blog[0])) as port:
        yield f"http://127.0.0.1:{port}/graphql"


def test_typed_client_against_the_example_server(
    compiled: Path, served_blog: str, blog: tuple[str, str]
) -> None:
    result = _run(str(NODE), str(compiled / "client.js"), served_blog, blog[1])
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [orjson.loads(line) for line in result.stdout.splitlines()]
    outputs: dict[str, Any] = {line["operation"]: line["value"] for line in lines}
    assert list(outputs) == [
        "RecentPosts",
        "PostByIdentifier",
        "PostsPage",
        "Organisations",
        "CreatePost",
    ]
    recent = outputs["RecentPosts"]
    assert recent["count"] == 3
    assert recent["typenames"] == ["Post"] * 3
    assert recent["statuses"] == ["PUBLISHED"] * 3
    assert recent["headlineIsTitle"] and recent["authorEmails"]
    assert outputs["PostByIdentifier"]["version"] >= 1
    page = outputs["PostsPage"]
    assert page["edges"] <= 2 and set(page["statuses"]) <= {"DRAFT"}
    # The tenant's header confines every read to its organisation.
    organisations = outputs["Organisations"]
    assert len(organisations["organisations"]) == 1
    assert organisations["userOrganisations"] == organisations["organisations"]
    created = outputs["CreatePost"]
    assert created["status"] == "SUCCESS" and created["success"] is True
    assert created["errors"] == []
    assert created["post"]["identifier"] == "typed-client-post"
    assert created["post"]["status"] == "DRAFT"


def test_comparison_with_graphql_codegen_client_preset(compiled: Path) -> None:
    """The facts docs/guides/typescript.md states about client-preset's output."""
    (JS / "schema.graphql").write_text(printable_schema().print_schema() + "\n", encoding="utf-8")
    result = _run(str(JS / "node_modules" / ".bin" / "graphql-codegen"), "--config", "codegen.mjs")
    assert result.returncode == 0, result.stdout + result.stderr
    preset = JS / "client-preset"
    checked = _run(str(JS / "node_modules" / ".bin" / "tsc"), "-p", "tsconfig.client-preset.json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    theirs = (preset / "graphql.ts").read_text(encoding="utf-8")
    ours = (GOLDEN / "blog.ts").read_text(encoding="utf-8")
    # Fragment masking: a spread fragment's fields are hidden behind ' $fragmentRefs'.
    assert "' $fragmentRefs'?: { 'PostSummaryFragment': PostSummaryFragment }" in theirs
    # Only the input types and enums the operations use; names go through change-case.
    assert "export type UuidFilter" in theirs and "export type UUIDFilter" not in theirs
    assert "export type Post =" not in theirs and "export interface Post {" in ours
    # Enums are string unions in both (client-preset's default), with const objects here.
    assert "export type PostStatus =\n  | 'ARCHIVED'" in theirs
    assert "export const PostStatus = {" in ours
    sizes = {path.name: path.stat().st_size for path in sorted(preset.glob("*.ts"))}
    print(f"client-preset: {sizes} total {sum(sizes.values())}; fraiseql blog.ts {len(ours)}")
