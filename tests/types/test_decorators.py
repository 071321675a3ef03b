import enum

import pytest

import fraiseql
from fraiseql.types.decorators import has_empty_body
from fraiseql.types.definitions import (
    EnumDefinition,
    ResolverDefinition,
    TypeDefinition,
    get_definition,
)


def test_type_keeps_metadata_and_becomes_a_dataclass() -> None:
    @fraiseql.type(sql_source="tv_thing", max_page_size=50)
    class Thing:
        """A thing."""

        id: str
        name: str = fraiseql.field(description="Its name.", default="x")

    definition = get_definition(Thing)
    assert isinstance(definition, TypeDefinition)
    assert definition.sql_source == "tv_thing"
    assert definition.description == "A thing."
    assert definition.max_page_size == 50
    assert definition.field_infos["name"].description == "Its name."
    assert Thing(id="1").name == "x"


def test_undocumented_class_has_no_description() -> None:
    @fraiseql.type
    class Bare:
        id: str

    assert get_definition(Bare).description is None


def test_field_resolver_method_is_recorded() -> None:
    @fraiseql.type
    class Person:
        first: str

        @fraiseql.field
        def shout(self) -> str:
            """The name, loudly."""
            return self.first.upper()

    info = get_definition(Person).field_infos["shout"]
    assert info.resolver is not None
    assert info.description == "The name, loudly."
    assert Person(first="ada").shout() == "ADA"


def test_a_field_cannot_be_both_annotated_and_resolved() -> None:
    with pytest.raises(TypeError, match="both"):

        @fraiseql.type
        class Clash:
            name: str

            @fraiseql.field
            def name(self) -> str:  # type: ignore[no-redef]
                return ""


def test_enum_definition() -> None:
    @fraiseql.enum(description="Colours.")
    class Colour(enum.Enum):
        RED = "red"

    definition = get_definition(Colour)
    assert isinstance(definition, EnumDefinition)
    assert definition.name == "Colour"
    assert definition.description == "Colours."


def test_empty_bodies_are_detected() -> None:
    async def dots(info: object) -> None: ...

    async def documented(info: object) -> None:
        """Only a docstring."""

    def passing(info: object) -> None:
        pass

    async def real(info: object) -> int:
        return 1

    def returns_none(info: object) -> None:
        print("side effect")

    assert has_empty_body(dots)
    assert has_empty_body(documented)
    assert has_empty_body(passing)
    assert not has_empty_body(real)
    assert not has_empty_body(returns_none)


def test_query_decorator_names_in_camel_case_and_marks_auto() -> None:
    @fraiseql.query
    async def all_things(info: object) -> list[int]: ...

    @fraiseql.query(name="custom")
    async def computed(info: object) -> int:
        return 1

    auto = get_definition(all_things)
    assert isinstance(auto, ResolverDefinition)
    assert auto.name == "allThings"
    assert auto.auto
    assert get_definition(computed).name == "custom"
    assert not get_definition(computed).auto
