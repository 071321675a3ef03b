"""``search`` inputs → a full-text condition and a rank over a read model's documents.

The document vector of a searchable type is the concatenation of one ``tsvector`` per declared
field, each ``to_tsvector('<config>'::regconfig, COALESCE(<text>, ''))`` (weighted with
``setweight`` when the declaration gives a weight). The two-argument ``to_tsvector`` with a
constant configuration is IMMUTABLE, so a GIN index on exactly this expression (written by the
DDL generator from :func:`document_vector` too) serves the condition. The query text is only
ever a bind parameter, parsed by ``websearch_to_tsquery`` with a configuration taken from the
declaration (the client's ``language`` only selects one of the allowed names).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fraiseql.schema.model import SchemaModel, TypeModel
from fraiseql.schema.refs import SchemaDefinitionError, TypeRef
from fraiseql.sql.identifiers import Parameters, quote_literal
from fraiseql.sql.order import RANK_KEY
from fraiseql.sql.where import FieldAccess, FilterError
from fraiseql.types.definitions import TypeDefinition
from fraiseql.types.scalars import ScalarDefinition
from fraiseql.types.search import MAX_SEARCH_QUERY_LENGTH, Search, SearchInput

_TEXT_KINDS = ("string", "id")


@dataclass(frozen=True, slots=True)
class SearchClause:
    """What one search adds to a statement: its condition, its rank and the rank's label.

    ``label`` names the ordering in cursors: it holds the configuration and the query, so a
    cursor of one search is refused by another (its ranks are other numbers).
    """

    condition: str
    rank: str
    label: str


def declared_search(model: TypeModel) -> Search | None:
    """The ``Search`` declaration of a type, if it has one."""
    search = model.definition.search
    return search if isinstance(search, Search) else None


def searched_texts(schema: SchemaModel, model: TypeModel, base: str) -> list[tuple[str, str]]:
    """``(field path, text expression)`` of each declared field, read from JSONB ``base``.

    Raises :class:`SchemaDefinitionError` for a path that is not a stored string field.
    """
    search = declared_search(model)
    assert search is not None
    texts: list[tuple[str, str]] = []
    for path in search.fields:
        where = f"{model.cls.__qualname__}: search field {path!r}"
        current, json = model, base
        parts = path.split(".")
        for position, part in enumerate(parts):
            item = current.field_by_python_name(part)
            if item is None:
                raise SchemaDefinitionError(f"{where}: {current.name} has no field {part!r}")
            named = item.type_ref.named
            if item.resolver is not None or item.type_ref.is_list:
                raise SchemaDefinitionError(
                    f"{where}: {current.name}.{part} is a list or computed field; only stored "
                    "string fields (and objects on the way to them) can be searched"
                )
            last = position == len(parts) - 1
            if isinstance(named, TypeDefinition) and not last:
                json = FieldAccess(json, part).json
                current = schema.types[named.name]
                continue
            if not (last and isinstance(named, ScalarDefinition)) or (
                named.filter_kind not in _TEXT_KINDS
            ):
                raise SchemaDefinitionError(f"{where}: {current.name}.{part} is not a string field")
            texts.append((path, FieldAccess(json, part).text))
    return texts


def check_search_argument(ref: TypeRef, target: TypeModel | None, where: str) -> None:
    """Fail at schema build time unless ``search`` is a ``SearchInput`` of a searchable type."""
    named = ref.named
    if not isinstance(named, TypeDefinition) or named.cls is not SearchInput:
        raise SchemaDefinitionError(
            f"{where}(search): annotate it `search: fraiseql.SearchInput | None = None`"
        )
    if target is None or declared_search(target) is None:
        name = target.name if target is not None else "the returned type"
        raise SchemaDefinitionError(
            f"{where}(search): {name} declares nothing to search; give its @fraiseql.type "
            "search=fraiseql.Search(fields=[...])"
        )


def check_declaration(schema: SchemaModel, model: TypeModel) -> None:
    """Fail at schema build time when a type's ``Search`` names fields it cannot search."""
    if declared_search(model) is not None:
        searched_texts(schema, model, "data")


def document_vector(schema: SchemaModel, model: TypeModel, base: str, config: str) -> str:
    """The ``tsvector`` expression of ``model``'s documents at ``base`` with ``config``.

    ``config`` comes from the declaration, never from a request. The DDL generator indexes
    this very expression (with ``base`` ``data``), which PostgreSQL matches structurally.
    """
    search = declared_search(model)
    assert search is not None
    regconfig = f"{quote_literal(config)}::regconfig"
    parts = []
    for path, text in searched_texts(schema, model, base):
        vector = f"to_tsvector({regconfig}, COALESCE({text}, ''))"
        weight = search.weights.get(path)
        parts.append(f"setweight({vector}, {quote_literal(weight)})" if weight else vector)
    return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"


def _member(value: Any, name: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(name)
    return getattr(value, name, None)


def search_config(model: TypeModel, language: Any) -> str:
    """The declared configuration a request's ``language`` names (the default when ``None``)."""
    search = declared_search(model)
    if search is None:
        raise FilterError(f"{model.name} declares no searchable fields (Search)")
    if language is None:
        return search.language
    for allowed in search.languages:
        if language == allowed:
            return allowed  # the declaration's own string goes into the SQL
    shown = language[:40] if isinstance(language, str) else language
    raise FilterError(
        f"'search.language' {shown!r} is not a text search configuration {model.name} "
        f"allows; allowed: {', '.join(search.languages)}",
        allowed=list(search.languages),
    )


def search_query_text(value: Any) -> str:
    """The query text of a search input, checked: bounded, without NUL, with a word in it."""
    query = _member(value, "query")
    if not isinstance(query, str):
        raise FilterError("'search.query' must be a string")
    if len(query) > MAX_SEARCH_QUERY_LENGTH:
        raise FilterError(
            f"'search.query' is {len(query)} characters long; the limit is "
            f"{MAX_SEARCH_QUERY_LENGTH}",
            maxLength=MAX_SEARCH_QUERY_LENGTH,
        )
    if "\x00" in query:
        raise FilterError("'search.query' holds a NUL character (U+0000)")
    if not query.strip():
        raise FilterError(
            "'search.query' is empty; give a word to search for, or leave 'search' out"
        )
    return query


def search_clause(
    schema: SchemaModel,
    model: TypeModel,
    value: Any,
    params: Parameters,
    base: str,
    stored: str | None,
) -> SearchClause:
    """The condition and rank of one search input on ``model``'s documents at ``base``.

    ``stored`` is the expression of the read model's stored vector column (when declared); it
    holds the declared language's vector, so another allowed language computes its own.
    """
    config = search_config(model, _member(value, "language"))
    query = search_query_text(value)
    search = declared_search(model)
    assert search is not None
    if stored is not None and config == search.language:
        vector = stored
    else:
        vector = document_vector(schema, model, base, config)
    tsquery = f"websearch_to_tsquery({quote_literal(config)}::regconfig, {params.text(query)})"
    return SearchClause(
        condition=f"({vector} @@ {tsquery})",
        rank=f"ts_rank({vector}, {tsquery})",
        label=f"{RANK_KEY}\x1e{config}\x1e{query}",
    )
