"""Per operation: its result type, its variables type and a typed document node.

An operation ``Posts`` (a query) gives ``PostsQuery`` (the result), ``PostsVariables`` and
``PostsDocument: TypedDocumentNode<PostsQuery, PostsVariables>``; a fragment ``PostFields``
gives ``PostFieldsFragment``. A name that already ends with the suffix is not doubled
(``PostsQuery`` gives ``PostsQuery``, ``PostsVariables``...). The document is embedded as a
graphql-js AST (the operation, then the fragments it uses, by name), the ``DocumentNode``
every client accepts (graphql-request, urql, Apollo) without parsing at run time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLInputType,
    GraphQLSchema,
    Node,
    OperationDefinitionNode,
    OperationType,
    type_from_ast,
)

from fraiseql.codegen.typescript.printer import INDENT, pascal_case
from fraiseql.codegen.typescript.selections import SelectionPrinter
from fraiseql.codegen.typescript.typerefs import TypeNamer, is_optional_input

SUFFIXES = {
    OperationType.QUERY: "Query",
    OperationType.MUTATION: "Mutation",
    OperationType.SUBSCRIPTION: "Subscription",
}


@dataclass(frozen=True, slots=True)
class OperationNames:
    """The TypeScript names generated for one operation."""

    operation: str
    kind: OperationType
    result: str
    variables: str
    document: str
    has_required_variables: bool


def operation_names(operation: OperationDefinitionNode, schema: GraphQLSchema) -> OperationNames:
    """The generated names of ``operation`` (which must be named)."""
    assert operation.name is not None
    suffix = SUFFIXES[operation.operation]
    base = pascal_case(operation.name.value)
    if base.endswith(suffix) and base != suffix:
        base = base[: -len(suffix)]
    required = False
    for definition in operation.variable_definitions or ():
        type_ = type_from_ast(schema, definition.type)
        assert type_ is not None
        if not is_optional_input(type_, definition.default_value is not None):  # type: ignore[arg-type]
            required = True
    return OperationNames(
        operation=operation.name.value,
        kind=operation.operation,
        result=base + suffix,
        variables=base + "Variables",
        document=base + "Document",
        has_required_variables=required,
    )


def fragment_type_name(fragment: FragmentDefinitionNode) -> str:
    """``PostFields`` -> ``PostFieldsFragment``."""
    base = pascal_case(fragment.name.value)
    return base if base.endswith("Fragment") and base != "Fragment" else base + "Fragment"


def _used_fragments(
    node: Node, fragments: Mapping[str, FragmentDefinitionNode], found: set[str]
) -> None:
    if isinstance(node, FragmentSpreadNode):
        name = node.name.value
        if name not in found:
            found.add(name)
            _used_fragments(fragments[name], fragments, found)
        return
    for key in node.keys:
        value = getattr(node, key, None)
        if isinstance(value, Node):
            _used_fragments(value, fragments, found)
        elif isinstance(value, tuple | list):
            for item in value:
                if isinstance(item, Node):
                    _used_fragments(item, fragments, found)


def _spaced(body: str) -> str:
    return body if body.startswith("\n") else " " + body


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def ast_to_js(node: Node) -> dict[str, Any]:
    """A graphql-core AST node as the plain object graphql-js would build (without ``loc``)."""
    result: dict[str, Any] = {"kind": "".join(p.capitalize() for p in node.kind.split("_"))}
    for key in node.keys:
        if key == "loc":
            continue
        value = getattr(node, key, None)
        if value is None or (isinstance(value, tuple | list) and not value):
            continue
        if isinstance(value, Node):
            result[_camel(key)] = ast_to_js(value)
        elif isinstance(value, tuple | list):
            result[_camel(key)] = [ast_to_js(item) for item in value]
        elif isinstance(value, Enum):
            result[_camel(key)] = value.value
        else:
            result[_camel(key)] = value
    return result


class OperationPrinter:
    """Writes the types and documents of operations and fragments."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        namer: TypeNamer,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.namer = namer
        self.selections = SelectionPrinter(schema, fragments, namer)

    def fragment(self, fragment: FragmentDefinitionNode) -> list[str]:
        """``export type <Name>Fragment = ...``."""
        parent = self.schema.get_type(fragment.type_condition.name.value)
        assert parent is not None
        body = self.selections.print(parent, [(fragment.selection_set, False)], "")  # type: ignore[arg-type]
        return [
            f"/** The fields of fragment `{fragment.name.value}` on `{parent.name}`. */",
            f"export type {fragment_type_name(fragment)} ={_spaced(body)};",
        ]

    def variables(self, operation: OperationDefinitionNode, names: OperationNames) -> list[str]:
        """``export type <Name>Variables = { ... }``."""
        definitions = operation.variable_definitions or ()
        if not definitions:
            return [f"export type {names.variables} = {{ [key: string]: never }};"]
        lines = [f"export type {names.variables} = {{"]
        for definition in definitions:
            type_ = type_from_ast(self.schema, definition.type)
            assert type_ is not None
            input_type: GraphQLInputType = type_  # type: ignore[assignment]
            optional = is_optional_input(input_type, definition.default_value is not None)
            name = definition.variable.name.value
            lines.append(
                f"{INDENT}{name}{'?' if optional else ''}: {self.namer.input(input_type)};"
            )
        lines.append("};")
        return lines

    def result(self, operation: OperationDefinitionNode, names: OperationNames) -> list[str]:
        """``export type <Name>Query = { ... }`` (or Mutation, Subscription)."""
        root = self.schema.get_root_type(operation.operation)
        assert root is not None
        parent: GraphQLCompositeType = root
        body = self.selections.print(parent, [(operation.selection_set, False)], "")
        kind = operation.operation.value
        return [
            f"/** The data of {kind} `{names.operation}`. */",
            f"export type {names.result} ={_spaced(body)};",
        ]

    def document(self, operation: OperationDefinitionNode, names: OperationNames) -> list[str]:
        """``export const <Name>Document = {...} as unknown as TypedDocumentNode<...>``."""
        used: set[str] = set()
        _used_fragments(operation, self.fragments, used)
        definitions = [operation, *(self.fragments[name] for name in sorted(used))]
        ast = {"kind": "Document", "definitions": [ast_to_js(d) for d in definitions]}
        text = json.dumps(ast, separators=(",", ":"), ensure_ascii=False)
        return [
            f"export const {names.document} = {text} as unknown as TypedDocumentNode<",
            f"{INDENT}{names.result},",
            f"{INDENT}{names.variables}",
            ">;",
        ]

    def operation(self, operation: OperationDefinitionNode) -> list[list[str]]:
        """The blocks of one operation: result, variables, document."""
        names = operation_names(operation, self.schema)
        return [
            self.result(operation, names),
            self.variables(operation, names),
            self.document(operation, names),
        ]
