"""Aggregate root fields through the executor: RLS, one statement, bad input, limits, cost."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from tests.conftest import temporary_database

import fraiseql
from fraiseql import Aggregate, Where
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.schema.refs import SchemaDefinitionError
from fraiseql.security.limits import QueryLimits
from fraiseql.types.scalars import UUID

ROLE = "fraiseql_agg_app"
TENANT_A = "aaaaaaaa-0000-4000-8000-00000000000a"
TENANT_B = "bbbbbbbb-0000-4000-8000-00000000000b"
SQL = f"""
DO $$ BEGIN
    CREATE ROLE {ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
CREATE TABLE tv_note (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, data jsonb NOT NULL);
ALTER TABLE tv_note ENABLE ROW LEVEL SECURITY;
ALTER TABLE tv_note FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON tv_note
    USING (tenant_id::text = current_setting('app.tenant_id', true));
GRANT USAGE ON SCHEMA public TO {ROLE};
GRANT SELECT ON tv_note TO {ROLE};
"""


@fraiseql.type(sql_source="tv_note")
class Note:
    """A note of a tenant."""

    id: UUID
    topic: str
    likes: int


@fraiseql.query(max_page_size=5)
async def notes_aggregate(info: Any, where: Where[Note] | None = None) -> Aggregate[Note]:
    """Aggregates of the tenant's notes."""


ROWS = [  # (tenant, topic, likes)
    (TENANT_A, "pg", 1),
    (TENANT_A, "pg", 2),
    (TENANT_A, "py", 10),
    (TENANT_B, "pg", 100),
    (TENANT_B, "go", 1000),
]


@pytest.fixture(scope="module")
async def observed(server_dsn: str) -> AsyncIterator[tuple[fraiseql.Schema, list[str]]]:
    """The schema over an RLS read model, with every statement it runs recorded."""
    async with temporary_database(server_dsn) as dsn:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(SQL)
            for index, (tenant, topic, likes) in enumerate(ROWS):
                note_id = f"00000000-0000-4000-8000-{index:012d}"
                await connection.execute(
                    "INSERT INTO tv_note VALUES ($1::uuid, $2::uuid, $3::jsonb)",
                    note_id,
                    tenant,
                    f'{{"id": "{note_id}", "topic": "{topic}", "likes": {likes}}}',
                )
        finally:
            await connection.close()
        statements: list[str] = []
        database = Database(PoolSettings(dsn=dsn), observe_statements=True)
        database.statement_observers.append(statements.append)
        schema = fraiseql.Schema(
            types=[Note],
            queries=[notes_aggregate],
            database=database,
            session=fraiseql.SessionSettings(
                claims=lambda context: {"app.tenant_id": context.get("tenant")}, role=ROLE
            ),
            limits=QueryLimits(max_cost=200),
        )
        await schema.open()
        try:
            yield schema, statements
        finally:
            await schema.close()


FULL = """{ notesAggregate { count sum { likes } avg { likes } min { topic } max { likes }
  groupBy(by: [topic]) { keys { topic } count sum { likes } } } }"""


def _selects(statements: list[str]) -> list[str]:
    return [s for s in statements if "jsonb_build_object" in s]


async def test_each_tenant_sees_only_its_rows(
    observed: tuple[fraiseql.Schema, list[str]],
) -> None:
    schema, statements = observed
    statements.clear()
    a = await schema.run(FULL, context={"tenant": TENANT_A})
    b = await schema.run(FULL, context={"tenant": TENANT_B})
    assert a["data"]["notesAggregate"] == {
        "count": 3,
        "sum": {"likes": 13},
        "avg": {"likes": pytest.approx(13 / 3)},
        "min": {"topic": "pg"},
        "max": {"likes": 10},
        "groupBy": [
            {"keys": {"topic": "pg"}, "count": 2, "sum": {"likes": 3}},
            {"keys": {"topic": "py"}, "count": 1, "sum": {"likes": 10}},
        ],
    }
    assert b["data"]["notesAggregate"]["count"] == 2
    assert b["data"]["notesAggregate"]["sum"] == {"likes": 1100}
    assert [g["keys"]["topic"] for g in b["data"]["notesAggregate"]["groupBy"]] == ["go", "pg"]
    none = await schema.run(FULL, context={"tenant": None})
    assert none["data"]["notesAggregate"]["count"] == 0
    assert none["data"]["notesAggregate"]["sum"] == {"likes": None}
    assert none["data"]["notesAggregate"]["groupBy"] == []
    assert len(_selects(statements)) == 3  # one statement per aggregate field


async def test_aliases_fragments_typename_and_only_what_is_selected(
    observed: tuple[fraiseql.Schema, list[str]],
) -> None:
    schema, statements = observed
    statements.clear()
    query = """
    fragment G on NoteGroup { n: count keys { topic } }
    { all: notesAggregate { __typename total: count
        top: groupBy(by: [topic], orderBy: [{sum: {likes: DESC}}], limit: 1) { ...G }
        rest: groupBy(by: [topic], having: {count: {gte: 2}}) { __typename ...G } } }"""
    result = await schema.run(query, context={"tenant": TENANT_A})
    assert result == {
        "data": {
            "all": {
                "__typename": "NoteAggregate",
                "total": 3,
                "top": [{"n": 1, "keys": {"topic": "py"}}],
                "rest": [{"__typename": "NoteGroup", "n": 2, "keys": {"topic": "pg"}}],
            }
        }
    }
    (sql,) = _selects(statements)
    assert "sum(" in sql  # ordered by it
    assert "avg(" not in sql and "min(" not in sql and "max(" not in sql


async def test_values_are_bind_parameters(observed: tuple[fraiseql.Schema, list[str]]) -> None:
    schema, statements = observed
    statements.clear()
    query = """{ notesAggregate(where: {topic: {eq: "zq'x"}}) { count
        groupBy(by: [topic], having: {sum: {likes: {gt: 987654}}}, limit: 3) { count } } }"""
    result = await schema.run(query, context={"tenant": TENANT_A})
    assert result["data"]["notesAggregate"] == {"count": 0, "groupBy": []}
    (sql,) = _selects(statements)
    assert "zq" not in sql and "987654" not in sql and " 3" not in sql.replace("$3", "")


@pytest.mark.parametrize(
    "query",
    [
        "{ notesAggregate { groupBy(by: [nope]) { count } } }",
        "{ notesAggregate { sum { topic } } }",  # not numeric
        "{ notesAggregate { avg { nope } } }",
        "{ notesAggregate { groupBy(by: [topic], having: {count: {like: 1}}) { count } } }",
        "{ notesAggregate { groupBy(by: [topic], having: {sum: {topic: {gt: 1}}}) { count } } }",
        "{ notesAggregate { groupBy(by: [topic], orderBy: [{keys: {nope: ASC}}]) { count } } }",
        '{ notesAggregate { groupBy(by: [topic], having: {count: {gt: "x"}}) { count } } }',
        "{ notesAggregate { groupBy { count } } }",
        "{ notesAggregate { groupBy(by: [topic]) { keys { nope } } } }",
    ],
)
async def test_unknown_fields_and_operators_are_validation_errors(
    observed: tuple[fraiseql.Schema, list[str]], query: str
) -> None:
    schema, statements = observed
    statements.clear()
    result = await schema.run(query, context={"tenant": TENANT_A})
    assert result.get("data") is None
    assert [e["extensions"]["code"] for e in result["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert statements == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ notesAggregate { groupBy(by: [topic], limit: 6) { count } } }", "at most 5"),
        ("{ notesAggregate { groupBy(by: [topic], limit: -1) { count } } }", "negative"),
        ("{ notesAggregate { groupBy(by: []) { count } } }", "at least one"),
        (
            "{ notesAggregate { groupBy(by: [likes], orderBy: [{keys: {topic: ASC}}]) { count } } }",
            "not grouped by topic",
        ),
        (
            "{ notesAggregate { groupBy(by: [topic], orderBy: [{count: ASC, sum: {likes: ASC}}])"
            " { count } } }",
            "exactly one",
        ),
    ],
)
async def test_bad_arguments_are_refused_before_the_database(
    observed: tuple[fraiseql.Schema, list[str]], query: str, message: str
) -> None:
    schema, statements = observed
    statements.clear()
    result = await schema.run(query, context={"tenant": TENANT_A})
    assert result["data"] is None
    assert message in result["errors"][0]["message"]
    assert _selects(statements) == []


async def test_cost_counts_groups_by_limit_or_maximum(
    observed: tuple[fraiseql.Schema, list[str]],
) -> None:
    schema, statements = observed
    fields = " ".join(f"a{i}: count" for i in range(8))
    # 1 (root) + 1 (groupBy) + size * (1 + 1 + 8 + 1 + 1): 12 per group
    small = (
        f"{{ notesAggregate {{ groupBy(by: [topic], limit: 2) {{ {fields} keys {{ topic }} }} }} }}"
    )
    result = await schema.run(small, context={"tenant": TENANT_A})
    assert "errors" not in result
    statements.clear()
    wide = (
        "{ "
        + " ".join(
            f"x{i}: notesAggregate {{ groupBy(by: [topic]) {{ count keys {{ topic }} }} }}"
            for i in range(12)
        )
        + " }"
    )
    result = await schema.run(wide, context={"tenant": TENANT_A})
    assert result["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert statements == []


def test_an_aggregate_is_only_for_auto_root_fields() -> None:
    @fraiseql.query
    async def listed(info: Any) -> list[Aggregate[Note]]: ...

    with pytest.raises(SchemaDefinitionError, match="list of aggregates"):
        fraiseql.Schema(types=[Note], queries=[listed])

    @fraiseql.query
    async def filtered(info: Any, limit: int | None = None) -> Aggregate[Note]: ...

    with pytest.raises(SchemaDefinitionError, match="accepts only"):
        fraiseql.Schema(types=[Note], queries=[filtered])


def test_generated_types() -> None:
    schema = fraiseql.Schema(types=[Note], queries=[notes_aggregate])
    sdl = schema.graphql_schema
    aggregate = sdl.get_type("NoteAggregate")
    assert set(aggregate.fields) == {"count", "sum", "avg", "min", "max", "groupBy"}  # type: ignore[union-attr]
    assert set(sdl.get_type("NoteSumFields").fields) == {"likes"}  # type: ignore[union-attr]
    assert str(sdl.get_type("NoteAvgFields").fields["likes"].type) == "Float"  # type: ignore[union-attr]
    assert set(sdl.get_type("NoteMinFields").fields) == {"topic", "likes"}  # type: ignore[union-attr]
    assert set(sdl.get_type("NoteGroupField").values) == {"id", "topic", "likes"}  # type: ignore[union-attr]
