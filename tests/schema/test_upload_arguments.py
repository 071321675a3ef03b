"""An ``Upload`` anywhere in an auto root field's arguments is refused when the schema is built.

Auto root fields hand their arguments to SQL as JSON; a file cannot go there. Only resolvers
with a body (custom mutations) take files.
"""

from __future__ import annotations

import pytest

import fraiseql
from fraiseql.schema.refs import SchemaDefinitionError
from fraiseql.types.scalars import UUID


@fraiseql.type(sql_source="tv_doc")
class Doc:
    """A document."""

    id: UUID
    name: str


@fraiseql.query
async def docs(info: fraiseql.Info) -> list[Doc]:
    """Every document."""
    ...


@fraiseql.input
class Attachment:
    """A file and its label, nested one level down."""

    label: str
    file: fraiseql.Upload


@fraiseql.input
class CreateDocInput:
    """A document with files."""

    name: str
    attachments: list[Attachment]


@fraiseql.mutation
async def create_doc(info: fraiseql.Info, input: CreateDocInput) -> Doc:
    """An auto mutation: its input would go to fn_create_doc."""
    ...


@fraiseql.mutation
async def upload_doc(info: fraiseql.Info, input: CreateDocInput) -> str:
    """A custom mutation: it reads the files itself."""
    return input.name


def test_an_auto_mutation_cannot_take_a_file() -> None:
    with pytest.raises(SchemaDefinitionError, match=r"Mutation\.createDoc: .*Upload"):
        fraiseql.Schema(types=[Doc], queries=[docs], mutations=[create_doc])


def test_a_custom_mutation_can() -> None:
    schema = fraiseql.Schema(types=[Doc], queries=[docs], mutations=[upload_doc])
    assert "scalar Upload" in schema.print_schema()
