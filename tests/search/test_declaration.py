"""Declaring searchable fields: what is accepted, what fails (and where), what the schema shows,
and that the generated index holds the very expression the statements use."""

from __future__ import annotations

import re
from typing import Any

import pytest
from graphql import print_schema

import fraiseql
from fraiseql import Aggregate, Connection, OrderBy, Search, SearchInput
from fraiseql.codegen import DDLDefinitionError, generate_ddl
from fraiseql.schema.refs import SchemaDefinitionError
from fraiseql.sql.search import document_vector
from fraiseql.sql.select import select_list, select_page
from fraiseql.types.scalars import UUID

from .library import QUERIES, TYPES, Doc


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"fields": []}, "at least one field"),
        ({"fields": ["title", "title"]}, "listed twice"),
        ({"fields": ["ti tle"]}, "is not a field name"),
        ({"fields": ["title"], "weights": {"body": "A"}}, "not in fields"),
        ({"fields": ["title"], "weights": {"title": "E"}}, "one of A, B, C, D"),
        ({"fields": ["title"], "language": "english'; DROP"}, "text search configuration"),
        ({"fields": ["title"], "language": "English"}, "text search configuration"),
        ({"fields": ["title"], "languages": ["simple", "x y"]}, "text search configuration"),
        ({"fields": ["title"], "column": ""}, "is not a column name"),
    ],
)
def test_a_declaration_is_checked_when_written(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Search(**arguments)


def test_the_declared_language_is_always_allowed_and_first() -> None:
    search = Search(["title"], language="german", languages=["simple", "german", "english"])
    assert search.languages == ("german", "simple", "english")
    assert Search("title").fields == ("title",)


def test_search_needs_a_read_model() -> None:
    with pytest.raises(TypeError, match="search= needs a sql_source"):

        @fraiseql.type(search=Search(["name"]))
        class Loose:
            name: str


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (["missing"], "Thing has no field 'missing'"),
        (["count"], "Thing.count is not a string field"),
        (["tags"], "Thing.tags is a list or computed field"),
        (["inner"], "Thing.inner is not a string field"),
        (["inner.count"], "Inner.count is not a string field"),
        (["title.x"], "Thing.title is not a string field"),
    ],
)
def test_fields_must_be_stored_strings(fields: list[str], message: str) -> None:
    with pytest.raises(SchemaDefinitionError, match=re.escape(message)):
        _schema_with(Search(fields))


@fraiseql.type
class Inner:
    """A nested object."""

    label: str
    count: int


def _schema_with(search: Search) -> fraiseql.Schema:
    @fraiseql.type(sql_source="tv_thing", search=search)
    class Thing:
        id: UUID
        title: str
        count: int
        tags: list[str]
        inner: Inner

    @fraiseql.query
    async def things(info, search: SearchInput | None = None) -> list[Thing]:
        """Things."""

    return fraiseql.Schema(types=[Thing], queries=[things])


def test_nested_string_fields_can_be_searched() -> None:
    schema = _schema_with(Search(["title", "inner.label"]))
    vector = document_vector(schema.model, schema.model.types["Thing"], "data", "simple")
    assert vector == (
        "(to_tsvector('simple'::regconfig, COALESCE((data->>'title'), '')) || "
        "to_tsvector('simple'::regconfig, COALESCE(((data->'inner')->>'label'), '')))"
    )


def test_the_search_argument_needs_a_searchable_type_and_its_input() -> None:
    @fraiseql.type(sql_source="tv_plain")
    class Plain:
        id: UUID
        title: str

    @fraiseql.query
    async def plains(info, search: SearchInput | None = None) -> list[Plain]:
        """Plain things."""

    with pytest.raises(SchemaDefinitionError, match="Plain declares nothing to search"):
        fraiseql.Schema(types=[Plain], queries=[plains])

    @fraiseql.query
    async def docs_by_text(info, search: str | None = None) -> list[Doc]:
        """A search that is not a SearchInput."""

    with pytest.raises(SchemaDefinitionError, match=r"search: fraiseql\.SearchInput \| None"):
        fraiseql.Schema(types=TYPES, queries=[docs_by_text])

    @fraiseql.query
    async def doc_totals(info, search: SearchInput | None = None) -> Aggregate[Doc]:
        """Aggregates take no search."""

    with pytest.raises(SchemaDefinitionError, match="unknown: \\['search'\\]"):
        fraiseql.Schema(types=TYPES, queries=[doc_totals])


def test_the_schema_shows_the_input_and_the_rank_ordering() -> None:
    schema = fraiseql.Schema(types=TYPES, queries=QUERIES)
    sdl = print_schema(schema.graphql_schema)
    assert "input SearchInput {\n  query: String!\n  language: String = null\n}" in sdl
    assert "docs(where: DocWhereInput = null, search: SearchInput = null," in sdl
    order_fields = schema.graphql_schema.get_type("DocOrderByInput").fields  # type: ignore[union-attr]
    assert "_rank" in order_fields
    assert "_rank" not in schema.graphql_schema.get_type("WriterOrderByInput").fields  # type: ignore[union-attr]


def test_the_index_holds_the_expression_of_the_statements() -> None:
    schema = fraiseql.Schema(types=TYPES, queries=QUERIES)
    model = schema.model.types["Doc"]
    files = generate_ddl(schema)
    read_model = files["20_read_models/01_tv_doc.sql"]
    indexed = document_vector(schema.model, model, "data", "english")
    assert f"CREATE INDEX tv_doc_search_idx\n    ON tv_doc USING gin (({indexed}));" in read_model
    assert "to_tsvector('english'::regconfig, COALESCE((data->>'title'), ''))" in indexed
    used = document_vector(schema.model, model, 't."data"', "english")
    search = SearchInput(query="cat")
    listed = select_list(
        schema.model, model, where=None, order_by=None, limit=5, offset=0, search=search
    )
    paged = select_page(
        schema.model, model, where=None, order_by=None, first=5, after=None, last=None,
        before=None, with_total=True, with_previous=False, with_next=False, search=search,
    )  # fmt: skip
    for statement in (listed, paged):
        assert f"{used} @@ websearch_to_tsquery('english'::regconfig, $1::text)" in statement.sql
        assert statement.params[0] == "cat"
    # Another language computes its own vector (the index is for the declared one).
    other = select_list(
        schema.model, model, where=None, order_by=None, limit=5, offset=0,
        search=SearchInput(query="cat", language="simple"),
    )  # fmt: skip
    assert document_vector(schema.model, model, 't."data"', "simple") in other.sql
    note_file = files["20_read_models/02_tv_note.sql"]
    assert "search     tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig" in note_file
    assert "CREATE INDEX tv_note_search_idx\n    ON tv_note USING gin ((search));" in note_file


def test_a_stored_column_cannot_replace_the_read_model_columns() -> None:
    @fraiseql.type(sql_source="tv_clash", search=Search(["title"], column="data"))
    class Clash:
        id: UUID
        identifier: str
        title: str

    @fraiseql.query
    async def clashes(
        info, search: SearchInput | None = None, order_by: list[OrderBy[Clash]] | None = None
    ) -> Connection[Clash]:
        """Clashes."""

    schema = fraiseql.Schema(types=[Clash], queries=[clashes])
    with pytest.raises(DDLDefinitionError, match="replace a column"):
        generate_ddl(schema)
