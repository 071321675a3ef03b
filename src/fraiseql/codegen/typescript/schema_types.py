"""TypeScript declarations for the types of a schema: scalars, enums, inputs, objects, unions.

Declarations are sorted by name; fields keep the schema's order. Descriptions become TSDoc
comments and deprecations ``@deprecated`` tags.
"""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    Undefined,
)

from fraiseql.codegen.typescript.printer import INDENT, string_literal, tsdoc
from fraiseql.codegen.typescript.typerefs import TypeNamer, is_optional_input


def schema_types(schema: GraphQLSchema) -> list[GraphQLNamedType]:
    """The schema's own types (no introspection types), sorted by name."""
    return sorted(
        (t for name, t in schema.type_map.items() if not name.startswith("__")),
        key=lambda t: t.name,
    )


def scalars_declaration(schema: GraphQLSchema, namer: TypeNamer) -> list[str]:
    """``export interface Scalars { ... }``: every scalar of the schema as a TypeScript type."""
    lines = [
        "/** The schema's scalars as TypeScript types (`--scalar Name=Type` changes one). */",
        "export interface Scalars {",
    ]
    for named in schema_types(schema):
        if isinstance(named, GraphQLScalarType):
            lines.extend(tsdoc(named.description, indent=INDENT))
            lines.append(f"{INDENT}{named.name}: {namer.scalar_definition(named.name)};")
    lines.append("}")
    return lines


def enum_declaration(enum: GraphQLEnumType) -> list[str]:
    """A string-literal union and a constant object of the same name, for runtime values."""
    names = list(enum.values)
    lines = tsdoc(enum.description)
    members = " | ".join(string_literal(name) for name in names) or "never"
    lines.append(f"export type {enum.name} = {members};")
    lines.append(f"/** The values of {{@link {enum.name}}}. */")
    lines.append(f"export const {enum.name} = {{")
    for name, value in enum.values.items():
        lines.extend(tsdoc(value.description, value.deprecation_reason, INDENT))
        lines.append(f"{INDENT}{name}: {string_literal(name)},")
    lines.append("} as const;")
    return lines


def input_declaration(input_type: GraphQLInputObjectType, namer: TypeNamer) -> list[str]:
    """An input object as an interface; a ``@oneOf`` input as a union of one-key objects."""
    lines = tsdoc(input_type.description)
    if input_type.is_one_of:
        variants = []
        for name, field in input_type.fields.items():
            others = "".join(f" {other}?: never;" for other in input_type.fields if other != name)
            variants.append(f"{{ {name}: {namer.input(field.type)};{others} }}")
        lines.append(f"export type {input_type.name} =")
        lines.extend(f"{INDENT}| {variant}" for variant in variants)
        lines[-1] += ";"
        return lines
    lines.append(f"export interface {input_type.name} {{")
    for name, field in input_type.fields.items():
        lines.extend(tsdoc(field.description, field.deprecation_reason, INDENT))
        optional = is_optional_input(field.type, field.default_value is not Undefined)
        lines.append(f"{INDENT}{name}{'?' if optional else ''}: {namer.input(field.type)};")
    lines.append("}")
    return lines


def object_declaration(
    schema: GraphQLSchema,
    named: GraphQLObjectType | GraphQLInterfaceType,
    namer: TypeNamer,
) -> list[str]:
    """An object or interface type with all its fields (what a full selection returns)."""
    lines = tsdoc(named.description)
    if isinstance(named, GraphQLObjectType):
        typenames = [named.name]
    else:
        typenames = sorted(t.name for t in schema.get_possible_types(named))
    typename = " | ".join(string_literal(name) for name in typenames) or "never"
    lines.append(f"export interface {named.name} {{")
    lines.append(f"{INDENT}__typename?: {typename};")
    for name, field in named.fields.items():
        lines.extend(tsdoc(field.description, field.deprecation_reason, INDENT))
        lines.append(f"{INDENT}{name}: {namer.output(field.type)};")
    lines.append("}")
    return lines


def union_declaration(union: GraphQLUnionType) -> list[str]:
    """A union as a TypeScript union of its members."""
    lines = tsdoc(union.description)
    members = " | ".join(sorted(t.name for t in union.types)) or "never"
    lines.append(f"export type {union.name} = {members};")
    return lines


def declarations(schema: GraphQLSchema, namer: TypeNamer) -> list[list[str]]:
    """Every declaration of the schema's types, each as its lines, sorted by type name."""
    blocks = [scalars_declaration(schema, namer)]
    for named in schema_types(schema):
        if isinstance(named, GraphQLEnumType):
            blocks.append(enum_declaration(named))
        elif isinstance(named, GraphQLInputObjectType):
            blocks.append(input_declaration(named, namer))
        elif isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            blocks.append(object_declaration(schema, named, namer))
        elif isinstance(named, GraphQLUnionType):
            blocks.append(union_declaration(named))
    return blocks
