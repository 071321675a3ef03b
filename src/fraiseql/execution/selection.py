"""Field collection: fragments, inline fragments and ``@skip``/``@include`` resolved per type.

This is the spec's CollectFields (GraphQL spec §6.3.2), written for FraiseQL's planner: the
result maps each response key to the field nodes that share it, in document order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    VariableNode,
    type_from_ast,
)


def _directive_passes(
    node: FieldNode | FragmentSpreadNode | InlineFragmentNode, variables: Mapping[str, Any]
) -> bool:
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        value: Any = None
        for argument in directive.arguments or ():
            if argument.name.value == "if":
                literal = argument.value
                if isinstance(literal, VariableNode):
                    value = variables.get(literal.name.value)
                else:
                    value = getattr(literal, "value", None)
        if name == "skip" and value is True:
            return False
        if name == "include" and value is not True:
            return False
    return True


def directive_variables(nodes: Iterable[Any]) -> set[str]:
    """Names of the variables used by ``@skip``/``@include`` anywhere under ``nodes``."""
    found: set[str] = set()
    stack = list(nodes)
    while stack:
        node = stack.pop()
        for directive in getattr(node, "directives", None) or ():
            if directive.name.value in ("skip", "include"):
                for argument in directive.arguments or ():
                    if isinstance(argument.value, VariableNode):
                        found.add(argument.value.name.value)
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)
    return found


def _type_applies(
    schema: GraphQLSchema, condition_name: str | None, runtime_type: GraphQLObjectType
) -> bool:
    if condition_name is None or condition_name == runtime_type.name:
        return True
    condition = schema.get_type(condition_name)
    if isinstance(condition, GraphQLAbstractType):
        return schema.is_sub_type(condition, runtime_type)
    return False


def collect_fields(
    schema: GraphQLSchema,
    runtime_type: GraphQLObjectType,
    selection_sets: Iterable[SelectionSetNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> dict[str, list[FieldNode]]:
    """Group the fields selected on ``runtime_type`` by response key."""
    grouped: dict[str, list[FieldNode]] = {}
    visited: set[str] = set()
    for selection_set in selection_sets:
        _collect(schema, runtime_type, selection_set, fragments, variables, grouped, visited)
    return grouped


def _collect(
    schema: GraphQLSchema,
    runtime_type: GraphQLObjectType,
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    grouped: dict[str, list[FieldNode]],
    visited: set[str],
) -> None:
    for selection in selection_set.selections:
        if not _directive_passes(selection, variables):  # type: ignore[arg-type]
            continue
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            grouped.setdefault(key, []).append(selection)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            if _type_applies(schema, condition, runtime_type):
                _collect(
                    schema,
                    runtime_type,
                    selection.selection_set,
                    fragments,
                    variables,
                    grouped,
                    visited,
                )
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in visited:
                continue
            visited.add(name)
            fragment = fragments.get(name)
            if fragment is None:
                continue
            if _type_applies(schema, fragment.type_condition.name.value, runtime_type):
                _collect(
                    schema,
                    runtime_type,
                    fragment.selection_set,
                    fragments,
                    variables,
                    grouped,
                    visited,
                )


def sub_selection_sets(nodes: Iterable[FieldNode]) -> list[SelectionSetNode]:
    """The selection sets of fields merged under one response key."""
    return [node.selection_set for node in nodes if node.selection_set is not None]


__all__ = ["collect_fields", "directive_variables", "sub_selection_sets", "type_from_ast"]
