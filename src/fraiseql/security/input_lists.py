"""The maximum length of every list a client sends, checked before anything runs.

Lists come in two ways: written in the document (argument values and variable defaults,
checked once per document, when it is cached) and in the variables (checked per request,
before they are coerced). Both walks are iterative, so a deeply nested value cannot exhaust
the stack. An oversized list is a ``BAD_USER_INPUT`` request error naming where the list is
(``createPosts(input:)[3].tags`` or ``$posts[3].tags``), its length and the limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    InlineFragmentNode,
    ListValueNode,
    Node,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
)

MAX_REPORTED = 10
"""At most this many oversized lists are reported per request."""


def _error(where: str, length: int, limit: int, node: Node | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "message": f"The list at {where} has {length} items; the limit is {limit}.",
        "extensions": {
            "code": "BAD_USER_INPUT",
            "inputPath": where,
            "length": length,
            "maxListLength": limit,
        },
    }
    if node is not None and node.loc is not None:
        location = node.loc.source.get_location(node.loc.start)
        entry["locations"] = [{"line": location.line, "column": location.column}]
    return entry


def _values(start: str, value: ValueNode) -> list[tuple[str, ValueNode]]:
    """Every list and object value under ``value`` (itself included), with its path."""
    found: list[tuple[str, ValueNode]] = []
    pending: list[tuple[str, ValueNode]] = [(start, value)]
    while pending:
        path, node = pending.pop()
        if isinstance(node, ListValueNode):
            found.append((path, node))
            pending.extend((f"{path}[{i}]", item) for i, item in enumerate(node.values))
        elif isinstance(node, ObjectValueNode):
            pending.extend((f"{path}.{field.name.value}", field.value) for field in node.fields)
    return found


def literal_list_errors(document: DocumentNode, limit: int | None) -> list[dict[str, Any]]:
    """Oversized lists written in the document (arguments of any field, variable defaults)."""
    if limit is None:
        return []
    errors: list[dict[str, Any]] = []
    selection_sets: list[SelectionSetNode] = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for variable in definition.variable_definitions or ():
                if variable.default_value is not None:
                    start = f"${variable.variable.name.value}"
                    errors += _check_nodes(_values(start, variable.default_value), limit)
            selection_sets.append(definition.selection_set)
        elif isinstance(definition, FragmentDefinitionNode):
            selection_sets.append(definition.selection_set)
    while selection_sets and len(errors) < MAX_REPORTED:
        for selection in selection_sets.pop().selections:
            if isinstance(selection, FieldNode):
                for argument in selection.arguments or ():
                    start = f"{selection.name.value}({argument.name.value}:)"
                    errors += _check_nodes(_values(start, argument.value), limit)
            if isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                selection_sets.append(selection.selection_set)
    return errors[:MAX_REPORTED]


def _check_nodes(values: list[tuple[str, ValueNode]], limit: int) -> list[dict[str, Any]]:
    return [
        _error(path, len(node.values), limit, node)
        for path, node in values
        if isinstance(node, ListValueNode) and len(node.values) > limit
    ]


def variable_list_errors(variables: Any, limit: int | None) -> list[dict[str, Any]]:
    """Oversized lists in the request's variables (the raw JSON values)."""
    if limit is None or not isinstance(variables, Mapping):
        return []
    errors: list[dict[str, Any]] = []
    pending: list[tuple[str, Any]] = [(f"${name}", value) for name, value in variables.items()]
    while pending and len(errors) < MAX_REPORTED:
        path, value = pending.pop()
        if isinstance(value, list):
            if len(value) > limit:
                errors.append(_error(path, len(value), limit))
                continue
            pending.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
        elif isinstance(value, dict):
            pending.extend((f"{path}.{key}", item) for key, item in value.items())
    return errors
