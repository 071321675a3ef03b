"""Auto mutations against the example: contract, read-back, SQLSTATE mapping, no partial writes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from examples.blog.database import load_schema, seed
from examples.blog.schema import MUTATIONS, QUERIES, TYPES, Post
from tests.conftest import temporary_database

import fraiseql
from fraiseql import Schema
from fraiseql.db.contract import MUTATE_SQL
from fraiseql.db.pool import Database, PoolSettings


@fraiseql.input
class BoomInput:
    identifier: str


@fraiseql.mutation(sql_function="fn_test_boom")
async def boom(info, input: BoomInput) -> Post:
    """Inserts a post, then fails: nothing may remain."""


@fraiseql.mutation(sql_function="fn_test_bad_status")
async def bad_status(info, input: BoomInput) -> Post:
    """Returns a status outside the contract."""


@fraiseql.mutation(sql_function="fn_test_broken_contract")
async def broken_contract(info, input: BoomInput) -> Post:
    """Inserts a post, then returns success in a shape the contract refuses (by identifier)."""


@fraiseql.mutation(sql_function="fn_test_data_error")
async def data_error(info, input: BoomInput) -> Post:
    """Fails with a data exception whose text names the database's insides."""


@fraiseql.mutation(sql_function="fn_test_flaky")
async def flaky(info, input: BoomInput) -> Post:
    """Fails with a serialization failure until the sequence passes a threshold."""


TEST_FUNCTIONS = """
CREATE FUNCTION fn_test_boom(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tb_post (identifier, fk_organisation, fk_user, title, body, category_path)
    VALUES (input->>'identifier', 1, 1, 'partial', '', 'tech');
    RAISE EXCEPTION 'boom after the insert';
END $$;

CREATE FUNCTION fn_test_bad_status(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tb_post (identifier, fk_organisation, fk_user, title, body, category_path)
    VALUES (input->>'identifier', 1, 1, 'partial', '', 'tech');
    RETURN ROW('ok', NULL, NULL, NULL)::fraiseql_mutation_result;
END $$;

CREATE FUNCTION fn_test_broken_contract(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid;
BEGIN
    INSERT INTO tb_post (identifier, fk_organisation, fk_user, title, body, category_path)
    VALUES (input->>'identifier', 1, 1, 'partial', '', 'tech') RETURNING id INTO v_id;
    RETURN CASE input->>'identifier'
        WHEN 'no-id' THEN fn_mutation_result('success', NULL, NULL, NULL)
        WHEN 'errors-not-array' THEN fn_mutation_result('success', v_id, NULL, '{"message": "x"}')
        WHEN 'error-not-object' THEN fn_mutation_result('noop', v_id, NULL, '["x"]')
        ELSE fn_mutation_result('success', v_id, NULL, '[{"field": "title"}]')
    END;
END $$;

CREATE FUNCTION fn_test_data_error(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'invalid input for column tb_secret.internal_code: "%"', input->>'identifier'
        USING ERRCODE = '22P02';
END $$;

CREATE SEQUENCE test_flaky_calls;
CREATE FUNCTION fn_test_flaky(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
BEGIN
    IF nextval('test_flaky_calls') < (input->>'identifier')::int THEN
        RAISE EXCEPTION 'lost a race' USING ERRCODE = '40001';
    END IF;
    RETURN ROW('noop', (SELECT id FROM tb_post LIMIT 1), NULL, NULL)::fraiseql_mutation_result;
END $$;
"""


@pytest.fixture(scope="module")
async def writable(server_dsn: str) -> AsyncIterator[str]:
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=2, users=5, posts=20, comments_per_post=2)
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
async def arguments() -> list[tuple[Any, ...]]:
    """The arguments of every statement the schema runs, in order."""
    return []


@pytest.fixture(scope="module")
async def schema(
    writable: str, statements: list[str], arguments: list[tuple[Any, ...]]
) -> AsyncIterator[Schema]:
    database = Database(PoolSettings(dsn=writable), observe_statements=True)
    database.statement_observers.append(statements.append)
    database.query_observers.append(lambda record: arguments.append(tuple(record.args)))
    schema = Schema(
        types=TYPES,
        queries=QUERIES,
        mutations=[*MUTATIONS, boom, bad_status, broken_contract, data_error, flaky],
        database=database,
    )
    await schema.open()
    yield schema
    await schema.close()


@pytest.fixture
async def db(writable: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(writable)
    yield connection
    await connection.close()


CREATE = """
mutation($input: CreatePostInput!) {
  createPost(input: $input) {
    __typename status message id errors { field message code }
    post { __typename identifier headline: title status tags author { identifier } }
  }
}
"""


def _new_post(identifier: str, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "identifier": identifier,
        "title": "Hello",
        "body": "World",
        "author": "alice",
        "status": "PUBLISHED",
        "tags": ["sql", "graphql"],
        "categoryPath": "tech.databases",
    }
    values.update(overrides)
    return {"input": values}


async def test_create_reads_the_entity_back_with_the_selection(
    schema: Schema, db: asyncpg.Connection
) -> None:
    result = await schema.run(CREATE, _new_post("fresh-post"))
    payload = result["data"]["createPost"]
    assert payload["__typename"] == "CreatePostPayload"
    assert payload["status"] == "SUCCESS"
    assert payload["errors"] == []
    assert payload["post"] == {
        "__typename": "Post",
        "identifier": "fresh-post",
        "headline": "Hello",
        "status": "PUBLISHED",
        "tags": ["sql", "graphql"],
        "author": {"identifier": "alice"},
    }
    stored = await db.fetchval("SELECT id::text FROM tv_post WHERE identifier = 'fresh-post'")
    assert stored == payload["id"]


def _read_backs(statements: list[str], arguments: list[tuple[Any, ...]]) -> list[str]:
    """The read-back statements run: on their own, or as ``fraiseql_mutate``'s argument."""
    found = [s for s in statements if "textsend" in s]
    for sql, args in zip(statements, arguments, strict=True):
        if sql == MUTATE_SQL and args[2] is not None:
            found.append(args[2])
    return found


async def test_a_lone_mutation_is_one_statement(
    schema: Schema, statements: list[str], arguments: list[tuple[Any, ...]]
) -> None:
    """Call, undo on failure and read-back in one round trip: no BEGIN, no COMMIT."""
    statements.clear()
    arguments.clear()
    result = await schema.run(CREATE, _new_post("one-round-trip"))
    assert result["data"]["createPost"]["status"] == "SUCCESS"
    assert statements == [MUTATE_SQL]
    assert "textsend" in arguments[0][2] and arguments[0][3] == []
    # a failed status too (its writes undone inside the statement)
    statements.clear()
    result = await schema.run(CREATE, _new_post("one-round-trip-2", author="nobody"))
    assert result["data"]["createPost"]["status"] == "VALIDATION_ERROR"
    assert statements == [MUTATE_SQL]


async def test_a_payload_without_its_entity_is_not_read_back(
    schema: Schema,
    db: asyncpg.Connection,
    statements: list[str],
    arguments: list[tuple[Any, ...]],
) -> None:
    statements.clear()
    arguments.clear()
    await schema.run(CREATE, _new_post("read-back"))
    with_entity = _read_backs(statements, arguments)
    statements.clear()
    arguments.clear()
    result = await schema.run(
        "mutation($input: CreatePostInput!) { createPost(input: $input) { status id errors "
        "{ field } } }",
        _new_post("no-read-back"),
    )
    payload = result["data"]["createPost"]
    assert payload["status"] == "SUCCESS" and payload["errors"] == []
    stored = await db.fetchval("SELECT id::text FROM tv_post WHERE identifier = 'no-read-back'")
    assert payload["id"] == stored
    assert len(with_entity) == 1  # the read-back of the first request
    assert _read_backs(statements, arguments) == []
    # __typename alone on the entity still needs to know whether it exists
    statements.clear()
    arguments.clear()
    result = await schema.run(
        "mutation($input: CreatePostInput!) { createPost(input: $input) { post { __typename } } }",
        _new_post("typename-only"),
    )
    assert result["data"]["createPost"]["post"] == {"__typename": "Post"}
    assert len(_read_backs(statements, arguments)) == 1


async def test_trinity_reference_by_uuid(schema: Schema, db: asyncpg.Connection) -> None:
    alice = await db.fetchval("SELECT id::text FROM tb_user WHERE identifier = 'alice'")
    result = await schema.run(CREATE, _new_post("by-uuid", author=alice))
    assert result["data"]["createPost"]["post"]["author"] == {"identifier": "alice"}


async def test_function_reported_validation_error_writes_nothing(
    schema: Schema, db: asyncpg.Connection
) -> None:
    before = await db.fetchval("SELECT count(*) FROM tb_post")
    result = await schema.run(CREATE, _new_post("orphan", author="nobody"))
    payload = result["data"]["createPost"]
    assert payload["status"] == "VALIDATION_ERROR"
    assert payload["post"] is None
    assert payload["errors"] == [
        {"field": "author", "message": "no user has this id or identifier", "code": "not_found"}
    ]
    assert await db.fetchval("SELECT count(*) FROM tb_post") == before


async def test_unique_violation_is_a_conflict_on_the_field(
    schema: Schema, db: asyncpg.Connection
) -> None:
    await schema.run(CREATE, _new_post("twice"))
    before = await db.fetchval("SELECT count(*) FROM tb_post")
    result = await schema.run(CREATE, _new_post("twice"))
    payload = result["data"]["createPost"]
    assert payload["status"] == "CONFLICT"
    assert payload["errors"][0]["field"] == "identifier"
    assert payload["errors"][0]["code"] == "unique_violation"
    assert "errors" not in result
    assert await db.fetchval("SELECT count(*) FROM tb_post") == before


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"title": "x" * 301}, "title", "check_violation"),
        ({"identifier": "Not A Slug"}, "identifier_slug", "check_violation"),
        ({"categoryPath": "a" * 255 + "." + "b"}, None, None),
    ],
)
async def test_check_violations_are_validation_errors(
    schema: Schema, overrides: dict[str, object], field: str | None, code: str | None
) -> None:
    variables = _new_post("checked")
    variables["input"].update(overrides)  # type: ignore[attr-defined]
    result = await schema.run(CREATE, variables)
    payload = result["data"]["createPost"]
    if code is None:
        assert payload["status"] == "SUCCESS"
        return
    assert payload["status"] == "VALIDATION_ERROR"
    assert payload["errors"][0]["code"] == code
    assert payload["errors"][0]["field"] == field


UPDATE = """
mutation($input: UpdatePostInput!) {
  updatePost(input: $input) { status message errors { field code } post { title body tags } }
}
"""


async def test_update_changes_only_the_given_fields(schema: Schema) -> None:
    await schema.run(CREATE, _new_post("to-update", body="original body"))
    result = await schema.run(UPDATE, {"input": {"post": "to-update", "title": "New title"}})
    payload = result["data"]["updatePost"]
    assert payload["status"] == "SUCCESS"
    assert payload["post"] == {
        "title": "New title",
        "body": "original body",
        "tags": ["sql", "graphql"],
    }
    again = await schema.run(UPDATE, {"input": {"post": "to-update", "title": "New title"}})
    assert again["data"]["updatePost"]["status"] == "NOOP"
    assert again["data"]["updatePost"]["post"]["title"] == "New title"


async def test_update_of_a_missing_post(schema: Schema) -> None:
    result = await schema.run(UPDATE, {"input": {"post": "nothing-here", "title": "x"}})
    assert result["data"]["updatePost"] == {
        "status": "NOT_FOUND",
        "message": "No such post.",
        "errors": [],
        "post": None,
    }


async def test_raise_exception_names_the_field(schema: Schema, db: asyncpg.Connection) -> None:
    await schema.run(CREATE, _new_post("no-null-title"))
    result = await schema.run(UPDATE, {"input": {"post": "no-null-title", "title": None}})
    payload = result["data"]["updatePost"]
    assert payload["status"] == "VALIDATION_ERROR"
    assert payload["errors"] == [{"field": "title", "code": "required"}]
    assert (
        await db.fetchval("SELECT title FROM tb_post WHERE identifier = 'no-null-title'") == "Hello"
    )


async def test_delete_removes_the_post_and_its_comments_from_the_read_models(
    schema: Schema, db: asyncpg.Connection
) -> None:
    row = await db.fetchrow(
        "SELECT p.identifier, p.id FROM tb_post p WHERE EXISTS "
        "(SELECT 1 FROM tb_comment c WHERE c.fk_post = p.pk_post) "
        # Without a tenant claim every organisation is visible, and an identifier that several
        # use (the seed's "welcome") names no post: take one that only this post has.
        "AND NOT EXISTS (SELECT 1 FROM tb_post q WHERE q.identifier = p.identifier "
        "AND q.pk_post <> p.pk_post) ORDER BY p.pk_post LIMIT 1"
    )
    result = await schema.run(
        "mutation($p: String!) { deletePost(input: {post: $p}) { status id post { id } } }",
        {"p": row["identifier"]},
    )
    assert result["data"]["deletePost"] == {"status": "SUCCESS", "id": str(row["id"]), "post": None}
    assert await db.fetchval("SELECT count(*) FROM tv_post WHERE id = $1", row["id"]) == 0
    assert (
        await db.fetchval(
            "SELECT count(*) FROM tv_comment WHERE data->'post'->>'id' = $1", str(row["id"])
        )
        == 0
    )


async def test_an_exception_after_a_write_leaves_nothing(
    schema: Schema, db: asyncpg.Connection
) -> None:
    result = await schema.run('mutation { boom(input: {identifier: "partial-write"}) { status } }')
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "boom after" not in result["errors"][0]["message"]
    assert await db.fetchval("SELECT count(*) FROM tb_post WHERE identifier = 'partial-write'") == 0


async def test_an_unknown_status_is_an_error_and_rolls_back(
    schema: Schema, db: asyncpg.Connection
) -> None:
    result = await schema.run(
        'mutation { badStatus(input: {identifier: "bad-status"}) { status } }'
    )
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "INVALID_MUTATION_RESULT"
    assert "unknown status 'ok'" in result["errors"][0]["message"]
    assert await db.fetchval("SELECT count(*) FROM tb_post WHERE identifier = 'bad-status'") == 0


@pytest.mark.parametrize(
    ("identifier", "complaint"),
    [
        ("no-id", "success without an id"),
        ("errors-not-array", "errors that are not a JSON array"),
        ("error-not-object", "an error without a message"),
        ("error-without-message", "an error without a message"),
    ],
)
async def test_a_result_that_breaks_the_contract_rolls_back(
    schema: Schema, db: asyncpg.Connection, identifier: str, complaint: str
) -> None:
    result = await schema.run(
        f'mutation {{ brokenContract(input: {{identifier: "{identifier}"}}) {{ status }} }}'
    )
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "INVALID_MUTATION_RESULT"
    assert complaint in result["errors"][0]["message"]
    assert await db.fetchval("SELECT count(*) FROM tb_post WHERE identifier = $1", identifier) == 0


async def test_serial_mutations_keep_earlier_successes(
    schema: Schema, db: asyncpg.Connection
) -> None:
    result = await schema.run(
        """mutation {
             first: createPost(input: {identifier: "serial-one", title: "a", author: "alice",
                                       categoryPath: "tech"}) { status errors { field message } }
             second: createPost(input: {identifier: "serial-one", title: "b", author: "alice",
                                        categoryPath: "tech"}) { status errors { field } }
           }"""
    )
    assert result["data"]["first"] == {"status": "SUCCESS", "errors": []}
    assert result["data"]["second"] == {"status": "CONFLICT", "errors": [{"field": "identifier"}]}
    assert await db.fetchval("SELECT title FROM tb_post WHERE identifier = 'serial-one'") == "a"


async def test_serialization_failures_are_retried(schema: Schema, db: asyncpg.Connection) -> None:
    await db.execute("SELECT setval('test_flaky_calls', 1, false)")
    result = await schema.run('mutation { flaky(input: {identifier: "3"}) { status } }')
    assert result == {"data": {"flaky": {"status": "NOOP"}}}
    await db.execute("SELECT setval('test_flaky_calls', 1, false)")
    result = await schema.run('mutation { flaky(input: {identifier: "50"}) { status } }')
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "TRANSACTION_CONFLICT"


async def test_bad_input_is_rejected_before_the_database(
    schema: Schema, statements: list[str]
) -> None:
    statements.clear()
    result = await schema.run(CREATE, {"input": {"identifier": "x", "title": 5}})
    assert "data" not in result
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    result = await schema.run(
        'mutation { createPost(input: {identifier: "x", title: "t", author: "a", categoryPath: "not valid!"}) { status } }'
    )
    assert "LTree" in result["errors"][0]["message"]
    assert statements == []


async def test_queries_cannot_mutate(schema: Schema) -> None:
    result = await schema.run('{ createPost(input: {identifier: "x"}) { status } }')
    assert result["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_optimistic_locking_never_overwrites_a_newer_version(
    schema: Schema, db: asyncpg.Connection
) -> None:
    await schema.run(CREATE, _new_post("locked"))
    query = """mutation($input: UpdatePostInput!) {
      updatePost(input: $input) { status message errors { field code } post { title version } }
    }"""
    first = await schema.run(
        query, {"input": {"post": "locked", "title": "v2", "expectedVersion": 1}}
    )
    assert first["data"]["updatePost"]["status"] == "SUCCESS"
    assert first["data"]["updatePost"]["post"] == {"title": "v2", "version": 2}
    stale = await schema.run(
        query, {"input": {"post": "locked", "title": "lost update", "expectedVersion": 1}}
    )
    payload = stale["data"]["updatePost"]
    assert payload["status"] == "CONFLICT"
    assert payload["errors"] == [{"field": "expected_version", "code": "stale_version"}]
    assert payload["post"] == {"title": "v2", "version": 2}  # the current state, read back
    assert "version 2" in payload["message"]
    assert await db.fetchval("SELECT title FROM tb_post WHERE identifier = 'locked'") == "v2"
    unconditional = await schema.run(query, {"input": {"post": "locked", "title": "v3"}})
    assert unconditional["data"]["updatePost"]["post"] == {"title": "v3", "version": 3}


async def test_a_database_without_the_helper_still_mutates(
    server_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A database loaded with an older CONTRACT_SQL: the request transaction, with a warning."""
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=1, users=3, posts=2, comments_per_post=0)
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("DROP FUNCTION fraiseql_mutate(text, jsonb, text, text[])")
            author = await connection.fetchval("SELECT identifier FROM tb_user LIMIT 1")
        finally:
            await connection.close()
        statements: list[str] = []
        database = Database(PoolSettings(dsn=dsn), observe_statements=True)
        database.statement_observers.append(statements.append)
        older = Schema(types=TYPES, queries=QUERIES, mutations=MUTATIONS, database=database)
        await older.open()
        try:
            with caplog.at_level(logging.WARNING, logger="fraiseql.execution"):
                first = await older.run(CREATE, _new_post("older-1", author=author))
            assert first["data"]["createPost"]["status"] == "SUCCESS"
            assert first["data"]["createPost"]["post"]["author"] == {"identifier": author}
            assert "no fraiseql_mutate" in caplog.text
            statements.clear()
            second = await older.run(CREATE, _new_post("older-2", author=author))
            assert second["data"]["createPost"]["status"] == "SUCCESS"
            assert MUTATE_SQL not in statements  # asked once, not on every request
        finally:
            await older.close()


async def test_a_data_exception_is_told_in_fraiseqls_words(schema: Schema) -> None:
    """PostgreSQL's text (which may quote values and name tables) never reaches the client."""
    result = await schema.run(
        'mutation { dataError(input: {identifier: "x"}) { status errors { message code } } }'
    )
    payload = result["data"]["dataError"]
    assert payload["status"] == "VALIDATION_ERROR"
    assert payload["errors"] == [
        {"message": "a value is not of the expected form", "code": "invalid_value"}
    ]
    assert "tb_secret" not in str(result)


async def test_nul_characters_are_refused_before_the_database(
    schema: Schema, statements: list[str]
) -> None:
    statements.clear()
    by_variable = await schema.run(CREATE, _new_post("nul", title="a\x00b"))
    assert by_variable["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "inputPath": "$input.title",
    }
    assert "NUL character" in by_variable["errors"][0]["message"]
    in_a_key = await schema.run(
        "query($w: PostWhereInput) { posts(where: $w) { id } }", {"w": {"ti\x00tle": {}}}
    )
    assert "NUL character" in in_a_key["errors"][0]["message"]
    literal = await schema.run('{ posts(where: {title: {eq: "a\\u0000b"}}) { id } }')
    assert literal["errors"][0]["extensions"]["inputPath"] == "posts(where:).title.eq"
    assert literal["errors"][0]["locations"]
    assert statements == []
    assert "UTF8" not in str([by_variable, in_a_key, literal])
