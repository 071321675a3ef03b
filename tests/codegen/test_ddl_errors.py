"""Declarations the DDL generator cannot write: clear errors naming the type and the field."""

from __future__ import annotations

import enum
from typing import Annotated

import pytest
from tests.codegen import sample

import fraiseql
from fraiseql import Schema
from fraiseql.codegen import DDLDefinitionError, TenantOptions, generate_ddl
from fraiseql.schema.refs import SchemaDefinitionError
from fraiseql.types.scalars import UUID, Date


@fraiseql.query
async def ping(info) -> str:
    return "pong"


def _schema(*types: type) -> Schema:
    return Schema(types=list(types), queries=[ping])


def _error(*types: type, **options: object) -> str:
    with pytest.raises(DDLDefinitionError) as caught:
        generate_ddl(_schema(*types), **options)  # type: ignore[arg-type]
    return str(caught.value)


def test_the_error_is_a_schema_definition_error() -> None:
    assert issubclass(DDLDefinitionError, SchemaDefinitionError)


def test_two_types_on_one_table() -> None:
    @fraiseql.type(sql_source="tv_thing")
    class Thing:
        id: UUID
        name: str

    @fraiseql.type(sql_source="tv_thing")
    class OtherThing:
        id: UUID
        title: str

    message = _error(Thing, OtherThing)
    assert "OtherThing and" in message or "and OtherThing" in message
    assert "tb_thing" in message


def test_a_trinity_column_with_another_type() -> None:
    @fraiseql.type(sql_source="tv_thing")
    class Thing:
        id: int
        name: str

    assert "Thing.id: id is a Trinity column (UUID)" in _error(Thing)

    @fraiseql.type(sql_source="tv_item")
    class Item:
        id: UUID
        identifier: int

    assert "Item.identifier: identifier is a Trinity column (String)" in _error(Item)


def test_a_field_named_like_a_key_column() -> None:
    @fraiseql.type(sql_source="tv_thing")
    class Thing:
        id: UUID
        fk_owner: int

    assert "Thing.fk_owner: pk_* and fk_* are the Trinity key columns" in _error(Thing)


def test_a_field_named_like_the_functions_variables() -> None:
    @fraiseql.type(sql_source="tv_thing")
    class Thing:
        id: UUID
        input: str

    assert "Thing.input: the generated functions name their argument input" in _error(Thing)


def test_unsupported_field_types() -> None:
    @fraiseql.type
    class A:
        a: str

    @fraiseql.type
    class B:
        b: str

    @fraiseql.type(sql_source="tv_thing")
    class Thing:
        id: UUID
        either: Annotated[A | B, fraiseql.union("AOrB")]

    assert "Thing.either: a union field cannot be stored" in _error(Thing, A, B)

    @fraiseql.type(sql_source="tv_grid")
    class Grid:
        id: UUID
        cells: list[list[int]]

    assert "Grid.cells: nested lists cannot be stored" in _error(Grid)


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


def test_an_enum_with_non_string_values() -> None:
    @fraiseql.type(sql_source="tv_thing")
    class Thing:
        id: UUID
        level: Level

    assert "Thing.level: the enum Level has a non-string value 1" in _error(Thing)


def test_a_read_model_the_generator_does_not_write() -> None:
    @fraiseql.type(sql_source="v_thing")
    class Thing:
        id: UUID
        name: str

    assert "Thing: sql_source 'v_thing' is not a read model" in _error(Thing)

    @fraiseql.type(sql_source="tv_item", data_column="doc")
    class Item:
        id: UUID
        name: str

    assert "Item: the generator writes read models with the columns id and data" in _error(Item)


def test_a_list_without_a_key_to_join_on() -> None:
    @fraiseql.type(sql_source="tv_tag")
    class Tag:
        id: UUID
        name: str

    @fraiseql.type(sql_source="tv_thing")
    class Thing:
        id: UUID
        tags: list[Tag]

    message = _error(Thing, Tag)
    assert "Thing.tags: Tag has no field of type Thing to join on" in message


def test_two_references_to_one_entity() -> None:
    @fraiseql.type(sql_source="tv_person")
    class Person:
        id: UUID
        name: str

    @fraiseql.type(sql_source="tv_task")
    class Task:
        id: UUID
        owner: Person
        reviewer: Person | None

    message = _error(Task, Person)
    assert "Task.reviewer: " in message
    assert "Task.owner already references Person as fk_person" in message


def test_a_cycle_of_foreign_keys() -> None:
    @fraiseql.type(sql_source="tv_egg")
    class Egg:
        id: UUID
        hen: Hen

    @fraiseql.type(sql_source="tv_hen")
    class Hen:
        id: UUID
        egg: Egg

    assert "the foreign keys form a cycle (egg -> hen -> egg)" in _error(Egg, Hen)


def test_a_self_reference_is_fine() -> None:
    @fraiseql.type(sql_source="tv_node")
    class Node:
        id: UUID
        identifier: str
        parent: Node | None
        children: list[Node]

    files = generate_ddl(_schema(Node))
    assert "REFERENCES tb_node (pk_node)" in files["10_tables/01_tb_node.sql"]
    assert "WHERE l_children.fk_node = t.pk_node" in files["30_views/01_v_tv_node.sql"]


def test_bad_index_options() -> None:
    with pytest.raises(DDLDefinitionError, match="'Nope' is not a type with a tv_\\* read model"):
        generate_ddl(sample.schema, indexes={"Nope": ["x"]})
    with pytest.raises(DDLDefinitionError, match="Post has no field 'nope'"):
        generate_ddl(sample.schema, indexes={"Post": ["nope"]})
    with pytest.raises(DDLDefinitionError, match=r"Post\.author is an object; index one of"):
        generate_ddl(sample.schema, indexes={"Post": ["author"]})
    with pytest.raises(DDLDefinitionError, match=r"Post\.tags is a list or computed field"):
        generate_ddl(sample.schema, indexes={"Post": ["tags"]})
    with pytest.raises(DDLDefinitionError, match="give a list of field paths"):
        generate_ddl(sample.schema, indexes={"Post": "status"})  # type: ignore[dict-item]

    @fraiseql.type(sql_source="tv_day")
    class Day:
        id: UUID
        on: Date

    with pytest.raises(DDLDefinitionError, match=r"Day\.on is read as date, a cast PostgreSQL"):
        generate_ddl(_schema(Day), indexes={"Day": ["on"]})


def test_an_unknown_tenant_table() -> None:
    with pytest.raises(DDLDefinitionError, match="the tenant table 'tb_company' is not"):
        generate_ddl(sample.schema, tenant=TenantOptions(table="tb_company"))


def test_not_a_schema() -> None:
    with pytest.raises(TypeError, match=r"expected a fraiseql\.Schema or a SchemaModel"):
        generate_ddl(object())
