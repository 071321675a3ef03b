"""TypeScript type expressions for GraphQL type references (outputs and inputs)."""

from __future__ import annotations

from collections.abc import Mapping

from graphql import (
    GraphQLEnumType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLScalarType,
)

from fraiseql.codegen.typescript.printer import nullable
from fraiseql.codegen.typescript.scalars import SPEC_TYPES, UNKNOWN_SCALAR


class TypeNamer:
    """Names the TypeScript type of a named GraphQL type (scalars through ``Scalars``)."""

    def __init__(self, scalars: Mapping[str, str]) -> None:
        self.scalars = scalars

    def scalar(self, name: str) -> str:
        """A scalar's TypeScript type: the spec scalars inline, the others as ``Scalars[..]``."""
        if name in SPEC_TYPES:
            return self.scalars.get(name, SPEC_TYPES[name])
        return f'Scalars["{name}"]'

    def scalar_definition(self, name: str) -> str:
        """What ``Scalars`` says a scalar is."""
        return self.scalars.get(name, UNKNOWN_SCALAR)

    def named(self, named: GraphQLNamedType) -> str:
        """A named type's TypeScript name."""
        if isinstance(named, GraphQLScalarType):
            return self.scalar(named.name)
        return named.name

    def input(self, type_: GraphQLInputType) -> str:
        """The TypeScript type of an input value (arrays read-only: any array is accepted)."""
        if isinstance(type_, GraphQLNonNull):
            return self._input_inner(type_.of_type)
        return nullable(self._input_inner(type_))

    def _input_inner(self, type_: GraphQLInputType) -> str:
        if isinstance(type_, GraphQLList):
            return f"ReadonlyArray<{self.input(type_.of_type)}>"
        assert isinstance(type_, GraphQLNamedType)
        return self.named(type_)

    def output(self, type_: GraphQLOutputType, leaf: str | None = None) -> str:
        """The TypeScript type of an output value; ``leaf`` replaces its named type."""
        if isinstance(type_, GraphQLNonNull):
            return self._output_inner(type_.of_type, leaf)
        return nullable(self._output_inner(type_, leaf))

    def _output_inner(self, type_: GraphQLOutputType, leaf: str | None) -> str:
        if isinstance(type_, GraphQLList):
            return f"Array<{self.output(type_.of_type, leaf)}>"
        if leaf is not None:
            return leaf
        assert isinstance(type_, GraphQLNamedType)
        if isinstance(type_, GraphQLEnumType | GraphQLScalarType):
            return self.named(type_)
        return type_.name


def is_optional_input(type_: GraphQLInputType, has_default: bool) -> bool:
    """Whether an input field or variable may be left out (nullable, or with a default)."""
    return has_default or not isinstance(type_, GraphQLNonNull)
