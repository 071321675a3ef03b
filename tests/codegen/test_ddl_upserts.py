"""``generate_ddl(upserts=True)``: golden files, then fn_upsert_* in PostgreSQL and through GraphQL.

Regenerate the golden files with ``FRAISEQL_UPDATE_GOLDEN=1 pytest tests/codegen``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from tests.codegen import sample
from tests.conftest import temporary_database
from typer.testing import CliRunner

import fraiseql
from fraiseql import Schema, SessionSettings
from fraiseql.cli.main import app
from fraiseql.codegen import TenantOptions, generate_ddl
from fraiseql.types.scalars import UUID, DateTime, Decimal

GOLDEN = Path(__file__).parent / "golden_upserts"
CASES: dict[str, dict[str, Any]] = {"tenant": {"tenant": TenantOptions()}, "single": {}}


@fraiseql.input
class UpsertPostInput:
    """A post named by its identifier: created when new, else its given fields updated."""

    identifier: str
    title: str
    author: str
    created_at: DateTime
    tags: list[str]
    id: UUID | None = None
    status: sample.PostStatus | None = None
    rating: Decimal | None = None
    category: str | None = None


@fraiseql.mutation
async def upsert_post(info, input: UpsertPostInput) -> sample.Post:
    """Create or update a post (calls fn_upsert_post)."""


UPSERT = """
mutation ($input: UpsertPostInput!) {
  upsertPost(input: $input) { status message id errors { field code } post { id title tags } }
}
"""


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_upserts_match_the_golden_files_and_change_nothing_else(case: str) -> None:
    plain = generate_ddl(sample.schema, **CASES[case])
    files = generate_ddl(sample.schema, upserts=True, **CASES[case])
    added = {path: text for path, text in files.items() if path not in plain}
    assert {path: files[path] for path in plain} == plain
    assert added and all("/" in p and "_fn_upsert_" in p for p in added)
    directory = GOLDEN / case
    if os.environ.get("FRAISEQL_UPDATE_GOLDEN") == "1":
        shutil.rmtree(directory, ignore_errors=True)
        for path, text in added.items():
            (directory / path).parent.mkdir(parents=True, exist_ok=True)
            (directory / path).write_text(text, encoding="utf-8")
        return
    stored = {p.relative_to(directory).as_posix() for p in directory.rglob("*.sql")}
    assert stored == set(added)
    for path in sorted(added):
        assert added[path] == (directory / path).read_text(encoding="utf-8"), path


def test_the_tenant_entity_gets_no_upsert() -> None:
    tenant = generate_ddl(sample.schema, tenant=TenantOptions(), upserts=True)
    assert not any("fn_upsert_organisation" in path for path in tenant)
    single = generate_ddl(sample.schema, upserts=True)
    assert any("fn_upsert_organisation" in path for path in single)


async def _load(dsn: str, files: dict[str, str]) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for path in sorted(files):
            await connection.execute(files[path])
    finally:
        await connection.close()


@pytest.fixture(scope="module")
async def tenant_db(server_dsn: str) -> AsyncIterator[tuple[str, str, list[str]]]:
    """The tenant DDL with upserts; two organisations, each with a user ``alice``."""
    role = f"fraiseql_up_{secrets.token_hex(4)}"
    files = generate_ddl(sample.schema, tenant=TenantOptions(role=role), upserts=True)
    async with temporary_database(server_dsn) as dsn:
        await _load(dsn, files)
        connection = await asyncpg.connect(dsn)
        try:
            ids = []
            for identifier in ("acme", "globex"):
                org = await connection.fetchval(
                    "INSERT INTO tb_organisation (identifier, name) VALUES ($1, $1) RETURNING id",
                    identifier,
                )
                ids.append(str(org))
            await connection.execute("SELECT fn_sync_tv_organisation()")
        finally:
            await connection.close()
        for tenant in ids:
            status, _ = await _call(
                dsn, role, tenant, "fn_upsert_user", {"identifier": "alice", "name": "Alice"}
            )
            assert status == "success"
        yield dsn, role, ids
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await admin.close()


async def _call(dsn: str, role: str, tenant: str, function: str, data: Any) -> tuple[str, Any]:
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.execute("SELECT set_config('app.tenant_id', $1, true)", tenant)
            await connection.execute(f'SET LOCAL ROLE "{role}"')
            row = await connection.fetchrow(
                f"SELECT status, id, message FROM {function}($1::jsonb)",
                orjson.dumps(data).decode(),
            )
    finally:
        await connection.close()
    assert row is not None
    return row["status"], row["id"]


@pytest.fixture(scope="module")
async def api(tenant_db: tuple[str, str, list[str]]) -> AsyncIterator[Schema]:
    dsn, role, _ = tenant_db
    schema = Schema(
        types=sample.TYPES,
        queries=sample.QUERIES,
        mutations=[upsert_post],
        database_url=dsn,
        session=SessionSettings(
            claims=lambda context: {"app.tenant_id": context.get("tenant")}, role=role
        ),
        require_rls=True,
    )
    await schema.open()
    try:
        yield schema
    finally:
        await schema.close()


def _post(identifier: str, **fields: Any) -> dict[str, Any]:
    values = {
        "identifier": identifier,
        "title": "One",
        "author": "alice",
        "createdAt": "2024-03-01T10:00:00Z",
        "tags": ["a"],
        **fields,
    }
    return {"input": values}


async def _upsert(api: Schema, tenant: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await api.run(UPSERT, variables, context={"tenant": tenant})
    assert "errors" not in response, response
    return response["data"]["upsertPost"]  # type: ignore[no-any-return]


async def test_an_upsert_creates_then_updates_the_same_entity(
    api: Schema, tenant_db: tuple[str, str, list[str]]
) -> None:
    dsn, _, (acme, globex) = tenant_db
    created = await _upsert(api, acme, _post("hello"))
    assert (created["status"], created["message"]) == ("SUCCESS", "The post was created.")
    assert created["post"] == {"id": created["id"], "title": "One", "tags": ["a"]}
    updated = await _upsert(api, acme, _post("hello", title="Two", tags=["b", "c"]))
    assert (updated["status"], updated["message"]) == ("SUCCESS", "The post was updated.")
    assert updated["id"] == created["id"]
    assert updated["post"] == {"id": created["id"], "title": "Two", "tags": ["b", "c"]}
    again = await _upsert(api, acme, _post("hello", title="Two", tags=["b", "c"]))
    assert (again["status"], again["id"]) == ("NOOP", created["id"])
    # An id that is not the identified post's updates nothing.
    other = str(await _upsert_id(api, acme, "other"))
    mismatch = await _upsert(api, acme, _post("hello", id=other, title="Three"))
    assert mismatch["status"] == "CONFLICT"
    assert mismatch["errors"] == [{"field": "id", "code": "mismatch"}]
    assert mismatch["post"]["title"] == "Two"
    # Identifiers are per tenant: the other tenant's "hello" is another post.
    theirs = await _upsert(api, globex, _post("hello"))
    assert theirs["message"] == "The post was created." and theirs["id"] != created["id"]
    unchanged = _post("hello", title="Two", tags=["b", "c"])
    assert (await _upsert(api, acme, unchanged))["status"] == "NOOP"
    invalid = await _upsert(api, acme, _post("hello", author="nobody"))
    assert (invalid["status"], invalid["errors"]) == (
        "VALIDATION_ERROR",
        [{"field": "author", "code": "not_found"}],
    )
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["drift", "tests.codegen.sample:schema", "-d", dsn]
    )
    assert result.exit_code == 0, result.output


async def _upsert_id(api: Schema, tenant: str, identifier: str) -> str:
    return str((await _upsert(api, tenant, _post(identifier)))["id"])


async def test_concurrent_upserts_of_a_new_identifier_create_once(
    api: Schema, tenant_db: tuple[str, str, list[str]]
) -> None:
    dsn, role, (acme, _) = tenant_db
    # Deterministic overlap: an upsert holds its uncommitted insert while another starts.
    first = await asyncpg.connect(dsn)
    try:
        transaction = first.transaction()
        await transaction.start()
        await first.execute("SELECT set_config('app.tenant_id', $1, true)", acme)
        await first.execute(f'SET LOCAL ROLE "{role}"')
        row = await first.fetchrow(
            "SELECT status, id, message FROM fn_upsert_post($1::jsonb)",
            orjson.dumps(
                {
                    "identifier": "race",
                    "title": "First",
                    "author": "alice",
                    "created_at": "2024-03-01T10:00:00Z",
                    "tags": [],
                }
            ).decode(),
        )
        assert row is not None and row["message"] == "The post was created."
        second = asyncio.create_task(_upsert(api, acme, _post("race", title="Second")))
        await asyncio.sleep(0.3)
        assert not second.done()  # waiting on the first's uncommitted row
        await transaction.commit()
    finally:
        await first.close()
    answer = await second
    assert (answer["status"], answer["message"]) == ("SUCCESS", "The post was updated.")
    assert answer["id"] == str(row["id"]) and answer["post"]["title"] == "Second"
    # And through GraphQL only: eight at once, one creates, none fails.
    answers = await asyncio.gather(*(_upsert(api, acme, _post("crowd")) for _ in range(8)))
    assert [a["message"] for a in answers].count("The post was created.") == 1
    assert {a["status"] for a in answers} <= {"SUCCESS", "NOOP"}
    assert len({a["id"] for a in answers}) == 1


async def test_the_single_tenant_upserts_run(server_dsn: str) -> None:
    files = generate_ddl(sample.schema, upserts=True)
    async with temporary_database(server_dsn) as dsn:
        await _load(dsn, files)
        connection = await asyncpg.connect(dsn)
        try:

            async def upsert(function: str, data: dict[str, Any]) -> asyncpg.Record:
                row = await connection.fetchrow(
                    f"SELECT status, id, message FROM {function}($1::jsonb)",
                    orjson.dumps(data).decode(),
                )
                assert row is not None
                return row

            org = {"identifier": "acme", "name": "Acme"}
            user = {"identifier": "a", "name": "A", "organisation": "acme"}
            category = {"identifier": "db", "path": "tech.databases"}
            post = {
                "identifier": "p",
                "title": "T",
                "author": "a",
                "category": "db",
                "created_at": "2024-03-01T10:00:00Z",
                "tags": [],
            }
            for function, data in (
                ("fn_upsert_organisation", org),
                ("fn_upsert_user", user),
                ("fn_upsert_category", category),
                ("fn_upsert_post", post),
            ):
                created = await upsert(function, data)
                assert created["message"].endswith("was created."), (function, created)
                assert (await upsert(function, data))[:2] == ("noop", created["id"])
            renamed = await upsert("fn_upsert_organisation", {**org, "name": "Acme Ltd"})
            assert renamed["message"] == "The organisation was updated."
            document = orjson.loads(
                await connection.fetchval("SELECT data FROM tv_user WHERE identifier = 'a'")
            )
            assert document["organisation"]["name"] == "Acme Ltd"  # the embedding doc followed
        finally:
            await connection.close()
