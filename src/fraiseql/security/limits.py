"""Query limits checked once per document, before anything touches the database.

Depth and aliases are counted on the syntax tree; the cost needs the schema (which fields are
lists) and is computed after validation. Fields of the introspection system (``__schema``,
``__type``) are not counted, so GraphiQL's own introspection query always fits. The verdict is
cached with the document, so a client repeating a rejected document costs a cache lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """The limits of one schema; ``None`` turns a limit off.

    ``max_cost`` counts one per selected field, and multiplies what is selected under a list by
    its size: the literal ``first``/``last``/``limit`` argument when given, else the field's
    maximum page size for root lists (and for the ``groupBy`` groups of an aggregate root
    field), else ``nested_list_size`` for lists inside documents.
    ``max_list_length`` bounds every list the client sends, in the document or the variables
    (batch mutation inputs, ``in`` filters...; see :mod:`fraiseql.security.input_lists`).

    ``max_length`` bounds the document text in characters (variables are not counted): a
    document within the token limit can still hold one huge string literal or comment, which
    graphql-core's lexer reads at about 100 ms per MiB. Large values belong in variables.
    """

    max_depth: int | None = 10
    max_aliases: int | None = 15
    max_tokens: int | None = 2000
    max_length: int | None = 100_000
    max_cost: int | None = 50_000
    nested_list_size: int = 10
    max_list_length: int | None = 1000
    introspection: bool = True
    suggestions: bool = True

    @classmethod
    def production(cls, **overrides: Any) -> QueryLimits:
        """The defaults with introspection and "did you mean" suggestions turned off."""
        return cls(**{"introspection": False, "suggestions": False, **overrides})


def _error(message: str, code: str, node: Any = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"message": message, "extensions": {"code": code}}
    if node is not None and node.loc is not None:
        location = node.loc.source.get_location(node.loc.start)
        entry["locations"] = [{"line": location.line, "column": location.column}]
    return entry


class _Walker:
    """Depth and alias counting over operations, following fragment spreads once per path."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.aliases = 0

    def depth(self, selection_set: SelectionSetNode | None, active: frozenset[str]) -> int:
        if selection_set is None:
            return 0
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    self.aliases += 1  # aliased __typename fields count too
                if selection.name.value.startswith("__"):
                    continue
                deepest = max(deepest, 1 + self.depth(selection.selection_set, active))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, self.depth(selection.selection_set, active))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in active:
                    continue  # unknown or cyclic: validation reports it
                deepest = max(deepest, self.depth(fragment.selection_set, active | {name}))
        return deepest


def check_shape(document: DocumentNode, limits: QueryLimits) -> list[dict[str, Any]]:
    """Depth and alias limits, on the syntax tree alone (before validation)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    errors: list[dict[str, Any]] = []
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        walker = _Walker(fragments)
        depth = walker.depth(operation.selection_set, frozenset())
        if limits.max_depth is not None and depth > limits.max_depth:
            errors.append(
                _error(
                    f"The query is {depth} levels deep; the limit is {limits.max_depth}.",
                    "QUERY_TOO_DEEP",
                    operation,
                )
            )
        if limits.max_aliases is not None and walker.aliases > limits.max_aliases:
            errors.append(
                _error(
                    f"The query uses {walker.aliases} aliases; the limit is {limits.max_aliases}.",
                    "TOO_MANY_ALIASES",
                    operation,
                )
            )
    return errors


_GROUP_LIST = "fraiseql_group_list"
"""Field extension of lists sized by the root field's maximum page size (aggregate groups)."""


def _list_size(
    field: FieldNode,
    is_root: bool,
    root_sizes: Mapping[str, int],
    limits: QueryLimits,
    root_size: int | None = None,
) -> int:
    for argument in field.arguments or ():
        if argument.name.value in ("first", "last", "limit") and isinstance(
            argument.value, IntValueNode
        ):
            return max(int(argument.value.value), 0)
    if is_root:
        return root_sizes.get(field.name.value, limits.nested_list_size)
    if root_size is not None:
        return root_size
    return limits.nested_list_size


def _is_list(gql_type: GraphQLOutputType) -> bool:
    if isinstance(gql_type, GraphQLNonNull):
        gql_type = gql_type.of_type
    return isinstance(gql_type, GraphQLList)


class _Coster:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        root_sizes: Mapping[str, int],
        limits: QueryLimits,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.root_sizes = root_sizes
        self.limits = limits

    def cost(
        self,
        selections: Iterable[Any],
        parent: Any,
        is_root: bool,
        active: frozenset[str],
        edges_size: int | None = None,
        root_size: int | None = None,
    ) -> int:
        """The cost of ``selections`` on ``parent``; ``edges_size`` sizes a connection's edges.

        ``root_size`` is the maximum page size of the root field the selections are under.
        """
        total = 0
        for selection in selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name.startswith("__") or not hasattr(parent, "fields"):
                    continue
                definition = parent.fields.get(name)
                if definition is None:
                    continue
                named = get_named_type(definition.type)
                is_connection = "edges" in getattr(named, "fields", {}) and not _is_list(
                    definition.type
                )
                inner_edges = (
                    _list_size(selection, is_root, self.root_sizes, self.limits)
                    if is_connection
                    else None
                )
                under = self.root_sizes.get(name) if is_root else root_size
                children = 0
                if selection.selection_set is not None:
                    children = self.cost(
                        selection.selection_set.selections,
                        named,
                        False,
                        active,
                        inner_edges,
                        under,
                    )
                if name == "edges" and edges_size is not None:
                    children *= max(edges_size, 1)
                elif _is_list(definition.type):
                    grouped = (definition.extensions or {}).get(_GROUP_LIST)
                    size = _list_size(
                        selection,
                        is_root,
                        self.root_sizes,
                        self.limits,
                        root_size if grouped else None,
                    )
                    children *= max(size, 1)
                total += 1 + children
            elif isinstance(selection, InlineFragmentNode):
                condition = parent
                if selection.type_condition is not None:
                    condition = self.schema.get_type(selection.type_condition.name.value)
                total += self.cost(
                    selection.selection_set.selections,
                    condition,
                    is_root,
                    active,
                    edges_size,
                    root_size,
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in active:
                    continue
                condition = self.schema.get_type(fragment.type_condition.name.value)
                total += self.cost(
                    fragment.selection_set.selections,
                    condition,
                    is_root,
                    active | {name},
                    edges_size,
                    root_size,
                )
        return total


def check_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    limits: QueryLimits,
    root_sizes: Mapping[str, int],
) -> list[dict[str, Any]]:
    """The cost limit, on a valid document (``root_sizes``: max page size per root field)."""
    if limits.max_cost is None:
        return []
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    coster = _Coster(schema, fragments, root_sizes, limits)
    errors = []
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        root = schema.get_root_type(operation.operation)
        if not isinstance(root, GraphQLObjectType):
            continue
        cost = coster.cost(operation.selection_set.selections, root, True, frozenset())
        if cost > limits.max_cost:
            errors.append(
                _error(
                    f"The query's estimated cost is {cost}; the limit is {limits.max_cost}.",
                    "QUERY_TOO_COMPLEX",
                    operation,
                )
            )
    return errors
