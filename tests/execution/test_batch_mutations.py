"""Batch mutations against the example: one statement for the items, one for the read-back;
all or nothing by default, per-item results in the partial mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from examples.blog.database import load_schema, seed
from examples.blog.schema import MUTATIONS, QUERIES, TYPES, CreatePostInput, Post
from tests.conftest import temporary_database

import fraiseql
from fraiseql import QueryLimits, Schema
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.schema.refs import SchemaDefinitionError


@fraiseql.input
class ProbeInput:
    identifier: str
    outcome: str = "success"


@fraiseql.mutation(sql_function="fn_test_probe", batch="partial")
async def probe_partial(info, input: list[ProbeInput]) -> list[Post]:
    """Each item inserts a post, then ends as ``outcome`` says."""


@fraiseql.mutation(sql_function="fn_test_probe")
async def probe_atomic(info, input: list[ProbeInput]) -> list[Post]:
    """The same, all or nothing."""


# Every item inserts its post first, then: returns ``outcome`` as its status, or raises.
TEST_FUNCTIONS = """
CREATE SEQUENCE test_probe_races;
CREATE FUNCTION fn_test_probe(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid;
    v_outcome text := input->>'outcome';
BEGIN
    INSERT INTO tb_post (identifier, fk_organisation, fk_user, title, body, category_path)
    VALUES (input->>'identifier', 1, 1, 'probe', '', 'tech') RETURNING id INTO v_id;
    PERFORM fn_sync_tv_post(ARRAY[v_id]);
    IF v_outcome = 'raise_hint' THEN
        RAISE EXCEPTION 'The probe refuses.' USING DETAIL = 'outcome', HINT = 'refused';
    ELSIF v_outcome = 'raise_bare' THEN
        RAISE EXCEPTION 'an internal failure with a secret';
    ELSIF v_outcome = 'race' AND nextval('test_probe_races') < 3 THEN
        RAISE EXCEPTION 'lost a race' USING ERRCODE = '40001';
    ELSIF v_outcome IN ('success', 'race') THEN
        RETURN ROW('success', v_id, 'made', NULL)::fraiseql_mutation_result;
    END IF;
    RETURN ROW(v_outcome, v_id, v_outcome, '[]')::fraiseql_mutation_result;
END $$;
"""


@pytest.fixture(scope="module")
async def writable(server_dsn: str) -> AsyncIterator[str]:
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=2, users=5, posts=10, comments_per_post=1)
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(TEST_FUNCTIONS)
        finally:
            await connection.close()
        yield dsn


@pytest.fixture(scope="module")
async def statements() -> list[str]:
    return []


@pytest.fixture(scope="module")
async def schema(writable: str, statements: list[str]) -> AsyncIterator[Schema]:
    database = Database(PoolSettings(dsn=writable), observe_statements=True)
    database.statement_observers.append(statements.append)
    schema = Schema(
        types=TYPES,
        queries=QUERIES,
        mutations=[*MUTATIONS, probe_partial, probe_atomic],
        database=database,
        limits=QueryLimits(max_list_length=5),
    )
    await schema.open()
    yield schema
    await schema.close()


@pytest.fixture
async def db(writable: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(writable)
    yield connection
    await connection.close()


CREATE_POSTS = """
mutation($input: [CreatePostInput!]!) {
  createPosts(input: $input) {
    __typename status message failedIndex failedCount errors { field message code }
    items { __typename index status id errors { field code } post { identifier title author { identifier } } }
  }
}
"""


def _post(identifier: str, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "identifier": identifier,
        "title": f"Title of {identifier}",
        "author": "alice",
        "categoryPath": "tech",
    }
    values.update(overrides)
    return values


def _data_statements(statements: list[str]) -> list[str]:
    """The statements FraiseQL ran, without transaction control and asyncpg's type lookups."""
    return [
        s
        for s in statements
        if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))
        and "pg_catalog" not in s
        and "set_config('jit'" not in s
    ]


async def _count(db: asyncpg.Connection, pattern: str) -> int:
    return int(await db.fetchval("SELECT count(*) FROM tb_post WHERE identifier LIKE $1", pattern))


async def test_all_items_written_in_one_call_and_read_back_in_one_statement(
    schema: Schema, db: asyncpg.Connection, statements: list[str]
) -> None:
    statements.clear()
    result = await schema.run(CREATE_POSTS, {"input": [_post("batch-a"), _post("batch-b")]})
    payload = result["data"]["createPosts"]
    assert payload["__typename"] == "CreatePostsPayload"
    assert (payload["status"], payload["failedIndex"], payload["failedCount"]) == (
        "SUCCESS",
        None,
        0,
    )
    assert payload["message"] == "2 of 2 items written."
    assert [item["post"] for item in payload["items"]] == [
        {"identifier": "batch-a", "title": "Title of batch-a", "author": {"identifier": "alice"}},
        {"identifier": "batch-b", "title": "Title of batch-b", "author": {"identifier": "alice"}},
    ]
    assert [(i["__typename"], i["index"], i["status"]) for i in payload["items"]] == [
        ("CreatePostsItem", 0, "SUCCESS"),
        ("CreatePostsItem", 1, "SUCCESS"),
    ]
    ids = await db.fetch(
        "SELECT id::text FROM tv_post WHERE identifier IN ('batch-a', 'batch-b') ORDER BY identifier"
    )
    assert [item["id"] for item in payload["items"]] == [row["id"] for row in ids]
    executed = _data_statements(statements)
    assert len(executed) == 2, executed
    assert "fraiseql_call_items" in executed[0]
    assert "ANY ($1::uuid[])" in executed[1]


async def test_items_selected_without_their_entity_are_not_read_back(
    schema: Schema, db: asyncpg.Connection, statements: list[str]
) -> None:
    statements.clear()
    document = (
        "mutation($input: [CreatePostInput!]!) { createPosts(input: $input) "
        "{ status items { index status id } } }"
    )
    result = await schema.run(document, {"input": [_post("bare-a"), _post("bare-b")]})
    payload = result["data"]["createPosts"]
    assert payload["status"] == "SUCCESS"
    ids = await db.fetch(
        "SELECT id::text FROM tv_post WHERE identifier IN ('bare-a', 'bare-b') ORDER BY identifier"
    )
    assert [(i["index"], i["status"], i["id"]) for i in payload["items"]] == [
        (0, "SUCCESS", ids[0]["id"]),
        (1, "SUCCESS", ids[1]["id"]),
    ]
    executed = _data_statements(statements)
    assert len(executed) == 1, executed
    assert "fraiseql_call_items" in executed[0]


async def test_a_failing_item_rolls_back_every_item(schema: Schema, db: asyncpg.Connection) -> None:
    items = [_post("atomic-1"), _post("atomic-2", author="nobody"), _post("atomic-3")]
    payload = (await schema.run(CREATE_POSTS, {"input": items}))["data"]["createPosts"]
    assert payload["status"] == "VALIDATION_ERROR"
    assert payload["failedIndex"] == 1
    assert payload["failedCount"] == 1
    assert payload["message"] == "Item 1 failed (Unknown author); nothing was written."
    assert payload["errors"] == [
        {"field": "author", "message": "no user has this id or identifier", "code": "not_found"}
    ]
    assert payload["items"] == [
        {
            "__typename": "CreatePostsItem",
            "index": 1,
            "status": "VALIDATION_ERROR",
            "id": None,
            "errors": [{"field": "author", "code": "not_found"}],
            "post": None,
        }
    ]
    assert await _count(db, "atomic-%") == 0
    assert await db.fetchval("SELECT count(*) FROM tv_post WHERE identifier LIKE 'atomic-%'") == 0


async def test_a_database_error_inside_the_batch_names_the_item(
    schema: Schema, db: asyncpg.Connection
) -> None:
    items = [_post("dup-x"), _post("dup-y"), _post("dup-x")]
    payload = (await schema.run(CREATE_POSTS, {"input": items}))["data"]["createPosts"]
    assert (payload["status"], payload["failedIndex"]) == ("CONFLICT", 2)
    assert payload["errors"][0]["field"] == "identifier"
    assert payload["errors"][0]["code"] == "unique_violation"
    assert await _count(db, "dup-%") == 0


PROBE = """
mutation($input: [ProbeInput!]!) {
  probePartial(input: $input) {
    status message failedIndex failedCount
    items { index status message errors { field code } post { identifier } }
  }
}
"""


async def test_partial_mode_keeps_the_items_that_succeed(
    schema: Schema, db: asyncpg.Connection
) -> None:
    items = [
        {"identifier": "partial-ok-1"},
        {"identifier": "partial-refused", "outcome": "validation_error"},
        {"identifier": "partial-raised", "outcome": "raise_hint"},
        {"identifier": "partial-noop", "outcome": "noop"},
        {"identifier": "partial-ok-2"},
    ]
    payload = (await schema.run(PROBE, {"input": items}))["data"]["probePartial"]
    assert payload["status"] == "VALIDATION_ERROR"
    assert payload["failedIndex"] == 1
    assert payload["failedCount"] == 2
    assert payload["message"] == (
        "3 of 5 items written; 2 failed, the first being item 1 (validation_error)."
    )
    summary = [(i["index"], i["status"], i["post"]) for i in payload["items"]]
    # a failed item that named its entity shows it as it stands: gone, since it was undone
    assert summary == [
        (0, "SUCCESS", {"identifier": "partial-ok-1"}),
        (1, "VALIDATION_ERROR", None),
        (2, "VALIDATION_ERROR", None),
        (3, "NOOP", {"identifier": "partial-noop"}),
        (4, "SUCCESS", {"identifier": "partial-ok-2"}),
    ]
    assert payload["items"][2]["errors"] == [{"field": "outcome", "code": "refused"}]
    assert payload["items"][2]["message"] == "The probe refuses."
    stored = await db.fetch(
        "SELECT identifier FROM tb_post WHERE identifier LIKE 'partial-%' ORDER BY identifier"
    )
    assert [r["identifier"] for r in stored] == ["partial-noop", "partial-ok-1", "partial-ok-2"]
    read_model = await db.fetchval("SELECT count(*) FROM tv_post WHERE identifier LIKE 'partial-%'")
    assert read_model == 3


@pytest.mark.parametrize(
    ("outcome", "status", "errors"),
    [
        ("conflict", "CONFLICT", []),
        ("raise_hint", "VALIDATION_ERROR", [{"field": "outcome", "code": "refused"}]),
    ],
)
async def test_atomic_mode_undoes_writes_made_before_a_failure(
    schema: Schema, db: asyncpg.Connection, outcome: str, status: str, errors: list[object]
) -> None:
    query = PROBE.replace("probePartial", "probeAtomic")
    slug = outcome.replace("_", "-")
    items = [
        {"identifier": f"undo-{slug}-1"},
        {"identifier": f"undo-{slug}-2", "outcome": outcome},
        {"identifier": f"undo-{slug}-3"},
    ]
    payload = (await schema.run(query, {"input": items}))["data"]["probeAtomic"]
    assert (payload["status"], payload["failedIndex"], payload["failedCount"]) == (status, 1, 1)
    assert [(i["index"], i["post"], i["errors"]) for i in payload["items"]] == [(1, None, errors)]
    assert await _count(db, f"undo-{slug}-%") == 0


async def test_a_failed_item_shows_its_entity_as_it_stands(schema: Schema) -> None:
    await schema.run(CREATE_POSTS, {"input": [_post("versioned")]})
    result = await schema.run(
        """mutation($input: [UpdatePostInput!]!) {
             updatePosts(input: $input) {
               status items { index status errors { field code } post { title version } }
             }
           }""",
        {
            "input": [
                {"post": "versioned", "title": "second", "expectedVersion": 1},
                {"post": "versioned", "title": "lost update", "expectedVersion": 1},
            ]
        },
    )
    assert result["data"]["updatePosts"] == {
        "status": "CONFLICT",
        "items": [
            {
                "index": 0,
                "status": "SUCCESS",
                "errors": [],
                "post": {"title": "second", "version": 2},
            },
            {
                "index": 1,
                "status": "CONFLICT",
                "errors": [{"field": "expected_version", "code": "stale_version"}],
                "post": {"title": "second", "version": 2},
            },
        ],
    }


@pytest.mark.parametrize("field", ["probePartial", "probeAtomic"])
async def test_an_internal_error_in_any_item_undoes_the_whole_batch(
    schema: Schema, db: asyncpg.Connection, field: str
) -> None:
    query = PROBE.replace("probePartial", field)
    items = [
        {"identifier": f"internal-{field.lower()}-1"},
        {"identifier": "x", "outcome": "raise_bare"},
    ]
    result = await schema.run(query, {"input": items})
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret" not in result["errors"][0]["message"]
    assert await _count(db, f"internal-{field.lower()}-%") == 0


async def test_an_item_breaking_the_contract_fails_the_batch(
    schema: Schema, db: asyncpg.Connection
) -> None:
    items = [{"identifier": "contract-1"}, {"identifier": "contract-2", "outcome": "weird"}]
    result = await schema.run(PROBE, {"input": items})
    assert result["errors"][0]["extensions"]["code"] == "INVALID_MUTATION_RESULT"
    assert "unknown status 'weird'" in result["errors"][0]["message"]
    assert await _count(db, "contract-%") == 0


async def test_a_lost_race_inside_a_batch_retries_the_request(
    schema: Schema, db: asyncpg.Connection
) -> None:
    await db.execute("SELECT setval('test_probe_races', 1, false)")
    items = [{"identifier": "race-1"}, {"identifier": "race-2", "outcome": "race"}]
    payload = (await schema.run(PROBE, {"input": items}))["data"]["probePartial"]
    assert payload["status"] == "SUCCESS"
    assert await _count(db, "race-%") == 2  # the first attempts were rolled back


async def test_two_batches_in_one_operation_each_in_its_own_savepoint(
    schema: Schema, db: asyncpg.Connection
) -> None:
    result = await schema.run(
        """mutation($a: [CreatePostInput!]!, $b: [CreatePostInput!]!) {
             first: createPosts(input: $a) { status }
             second: createPosts(input: $b) { status failedIndex }
           }""",
        {"a": [_post("twice-1")], "b": [_post("twice-2"), _post("twice-1")]},
    )
    assert result["data"] == {
        "first": {"status": "SUCCESS"},
        "second": {"status": "CONFLICT", "failedIndex": 1},
    }
    assert await _count(db, "twice-%") == 1


async def test_an_empty_batch_touches_nothing(schema: Schema, statements: list[str]) -> None:
    statements.clear()
    result = await schema.run(CREATE_POSTS, {"input": []})
    payload = result["data"]["createPosts"]
    assert (payload["status"], payload["items"], payload["failedCount"]) == ("SUCCESS", [], 0)
    assert _data_statements(statements) == []


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([_post("bad-1"), _post("bad-2", title=5)], "$input' has invalid value at [1].title"),
        (
            [_post("bad-3"), {"identifier": "bad-4", "author": "alice"}],
            "at [1]: Expected value of type 'CreatePostInput' to include required field 'title'",
        ),
        ([_post("bad-5", categoryPath="not an ltree!")], "LTree"),
        ([_post("bad-6"), None], "at [1]: Expected value of non-null type 'CreatePostInput!'"),
    ],
)
async def test_bad_items_are_rejected_before_the_database(
    schema: Schema, statements: list[str], items: list[Any], message: str
) -> None:
    statements.clear()
    result = await schema.run(CREATE_POSTS, {"input": items})
    assert "data" not in result
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in result["errors"][0]["message"]
    assert statements == []


async def test_an_oversized_batch_is_rejected_before_the_database(
    schema: Schema, statements: list[str]
) -> None:
    statements.clear()
    result = await schema.run(CREATE_POSTS, {"input": [_post(f"big-{i}") for i in range(6)]})
    assert result == {
        "errors": [
            {
                "message": "The list at $input has 6 items; the limit is 5.",
                "extensions": {
                    "code": "BAD_USER_INPUT",
                    "inputPath": "$input",
                    "length": 6,
                    "maxListLength": 5,
                },
            }
        ]
    }
    assert statements == []


def test_batch_declarations_are_checked() -> None:
    @fraiseql.mutation(batch="partial")
    async def single(info, input: CreatePostInput) -> Post:
        """batch= on a single-item mutation."""

    @fraiseql.mutation
    async def two_lists(info, a: list[CreatePostInput], b: list[CreatePostInput]) -> list[Post]:
        """Two list arguments."""

    @fraiseql.mutation
    async def nullable_items(info, input: list[CreatePostInput | None]) -> list[Post]:
        """Null items."""

    for bad, message in [
        (single, "batch= needs a batch mutation"),
        (two_lists, "takes exactly one argument"),
        (nullable_items, "takes exactly one argument"),
    ]:
        with pytest.raises(SchemaDefinitionError, match=message):
            Schema(types=TYPES, queries=QUERIES, mutations=[bad])
    with pytest.raises(ValueError, match="batch must be"):
        fraiseql.mutation(batch="sometimes")  # type: ignore[call-overload]
