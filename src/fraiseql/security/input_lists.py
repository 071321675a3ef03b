"""What every list and string a client sends must be, checked before anything runs.

Lists have a maximum length; strings may not hold a NUL character (U+0000), which no
PostgreSQL text or jsonb value can store: sent on, it would fail in the database with an
error of the database's own wording. Values come in two ways: written in the document
(argument values and variable defaults, checked once per document, when it is cached) and in
the variables (checked per request, before they are coerced). Both walks are iterative, so a
deeply nested value cannot exhaust the stack. A refused value is a ``BAD_USER_INPUT`` request
error naming where it is (``createPosts(input:)[3].tags`` or ``$posts[3].tags``).
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
    StringValueNode,
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


def _nul_error(where: str, node: Node | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "message": f"The string at {where} holds a NUL character (U+0000), which text values "
        "cannot hold.",
        "extensions": {"code": "BAD_USER_INPUT", "inputPath": where},
    }
    if node is not None and node.loc is not None:
        location = node.loc.source.get_location(node.loc.start)
        entry["locations"] = [{"line": location.line, "column": location.column}]
    return entry


def _values(start: str, value: ValueNode) -> list[tuple[str, ValueNode]]:
    """Every list, object and string value under ``value`` (itself included), with its path."""
    found: list[tuple[str, ValueNode]] = []
    pending: list[tuple[str, ValueNode]] = [(start, value)]
    while pending:
        path, node = pending.pop()
        if isinstance(node, ListValueNode):
            found.append((path, node))
            pending.extend((f"{path}[{i}]", item) for i, item in enumerate(node.values))
        elif isinstance(node, ObjectValueNode):
            pending.extend((f"{path}.{field.name.value}", field.value) for field in node.fields)
        elif isinstance(node, StringValueNode):
            found.append((path, node))
    return found


def literal_list_errors(document: DocumentNode, limit: int | None) -> list[dict[str, Any]]:
    """Oversized lists and NUL-holding strings written in the document.

    Argument values of any field and variable defaults; ``limit=None`` lets lists of any
    length through.
    """
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


def _check_nodes(values: list[tuple[str, ValueNode]], limit: int | None) -> list[dict[str, Any]]:
    errors = []
    for path, node in values:
        if isinstance(node, ListValueNode):
            if limit is not None and len(node.values) > limit:
                errors.append(_error(path, len(node.values), limit, node))
        elif isinstance(node, StringValueNode) and "\x00" in node.value:
            errors.append(_nul_error(path, node))
    return errors


def _clean(value: Any, limit: int | None) -> bool:
    """Whether ``value`` holds no list over ``limit`` and no NUL in a string or key."""
    kind = type(value)
    if kind is str:
        return "\x00" not in value
    if kind is dict:
        for key, item in value.items():  # noqa: SIM110 - faster than all() on every request
            if "\x00" in key or not _clean(item, limit):
                return False
        return True
    if kind is list:
        if limit is not None and len(value) > limit:
            return False
        for item in value:  # noqa: SIM110 - faster than all() on every request
            if not _clean(item, limit):
                return False
        return True
    return not isinstance(value, str | list | dict)  # a subclass: let the walk decide


def variable_list_errors(variables: Any, limit: int | None) -> list[dict[str, Any]]:
    """Oversized lists and NUL-holding strings (values or keys) in the request's variables.

    ``variables`` are the raw JSON values; ``limit=None`` lets lists of any length through.
    """
    if not isinstance(variables, Mapping):
        return []
    try:
        if type(variables) is dict and _clean(variables, limit):
            return []  # what nearly every request is: no path built, nothing allocated
    except RecursionError:
        pass  # nested deeper than Python recurses: the walk below has no such limit
    errors: list[dict[str, Any]] = []
    pending: list[tuple[str, Any]] = [(f"${name}", value) for name, value in variables.items()]
    while pending and len(errors) < MAX_REPORTED:
        path, value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                errors.append(_nul_error(path))
        elif isinstance(value, list):
            if limit is not None and len(value) > limit:
                errors.append(_error(path, len(value), limit))
                continue
            pending.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    errors.append(_nul_error(f"{path} (one of its keys)"))
                    continue
                pending.append((f"{path}.{key}", item))
    return errors
