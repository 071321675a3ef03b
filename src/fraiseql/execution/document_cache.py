"""Parse and validate each document once: a bounded LRU keyed by the document text."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

from fraiseql.execution.error_bounds import MAX_ERRORS, bound_errors
from fraiseql.execution.errors import format_graphql_error
from fraiseql.security.input_lists import literal_list_errors
from fraiseql.security.limits import QueryLimits, check_cost, check_shape
from fraiseql.security.tokens import length_limit_error, token_limit_error


@dataclass(slots=True)
class CachedDocument:
    """A parsed document and its validation outcome; ``errors`` is empty when valid."""

    document: DocumentNode | None
    errors: list[dict[str, Any]]
    operations: dict[str | None, OperationDefinitionNode] = field(default_factory=dict)
    fragments: dict[str, FragmentDefinitionNode] = field(default_factory=dict)
    prepared: dict[str | None, Any] = field(default_factory=dict)


class DocumentCache:
    """Bounded LRU of :class:`CachedDocument` for one schema.

    Invalid documents are cached too, so a client repeating a bad query costs a lookup.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        *,
        max_size: int = 1000,
        limits: QueryLimits | None = None,
        root_sizes: Mapping[str, int] | None = None,
    ) -> None:
        self.schema = schema
        self.max_size = max_size
        self.limits = limits or QueryLimits()
        self.root_sizes = dict(root_sizes or {})
        self.rules = list(specified_rules)
        if not self.limits.introspection:
            self.rules.append(NoSchemaIntrospectionCustomRule)
        self._entries: OrderedDict[str, CachedDocument] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, source: str) -> CachedDocument:
        """The cached document for ``source``, parsing and validating it on a miss."""
        entry = self._entries.get(source)
        if entry is not None:
            self._entries.move_to_end(source)
            self.hits += 1
            return entry
        self.misses += 1
        refused = token_limit_error(source, self.limits.max_tokens) or length_limit_error(
            source, self.limits.max_length
        )
        if refused is not None:
            # Not cached: its key would be up to a whole body, and refusing it again is cheap.
            return CachedDocument(None, [format_graphql_error(refused, "GRAPHQL_PARSE_FAILED")])
        entry = self._load(source)
        entry.errors = bound_errors(entry.errors)  # once, so a repeated bad document stays cheap
        self._entries[source] = entry
        if len(self._entries) > self.max_size:
            self._entries.popitem(last=False)
        return entry

    def _load(self, source: str) -> CachedDocument:
        limits = self.limits
        try:
            document = parse(source, max_tokens=limits.max_tokens)
        except GraphQLError as error:
            return CachedDocument(None, [format_graphql_error(error, "GRAPHQL_PARSE_FAILED")])
        shape_errors = check_shape(document, limits) + literal_list_errors(
            document, limits.max_list_length
        )
        if shape_errors:
            return CachedDocument(document, shape_errors)
        # One less than the response cap: graphql-core adds its own "Validation aborted" error.
        errors = validate(
            self.schema,
            document,
            self.rules,
            max_errors=MAX_ERRORS - 1,
            hide_suggestions=not limits.suggestions,
        )
        if errors:
            return CachedDocument(
                document, [format_graphql_error(e, "GRAPHQL_VALIDATION_FAILED") for e in errors]
            )
        cost_errors = check_cost(self.schema, document, limits, self.root_sizes)
        if cost_errors:
            return CachedDocument(document, cost_errors)
        entry = CachedDocument(document, [])
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                name = definition.name.value if definition.name else None
                entry.operations[name] = definition
            elif isinstance(definition, FragmentDefinitionNode):
                entry.fragments[definition.name.value] = definition
        return entry

    def __len__(self) -> int:
        return len(self._entries)
