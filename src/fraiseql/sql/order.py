"""``orderBy`` inputs → ordering keys, and keyset conditions for cursor pagination.

Nulls sort last in both directions. A read model's id column ends every ordering, so the order
is total and cursors are stable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fraiseql.schema.model import SchemaModel, TypeModel
from fraiseql.sql.identifiers import Parameters
from fraiseql.sql.where import FALSE, FieldAccess, FilterError, _and, _or
from fraiseql.types.definitions import EnumDefinition, TypeDefinition
from fraiseql.types.scalars import ScalarDefinition

if TYPE_CHECKING:
    from fraiseql.sql.search import SearchClause

RANK_KEY = "_rank"
"""The ``orderBy`` item of a searchable type that orders by relevance (``[{_rank: DESC}]``)."""


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One ordering key: a typed SQL expression and its direction."""

    expression: str
    sql_type: str
    descending: bool
    nullable: bool = True
    label: str = ""


def order_keys(
    schema: SchemaModel,
    model: TypeModel,
    order_by: Sequence[Mapping[str, Any]] | None,
    base: str,
    columns: Mapping[str, str],
    *,
    rank: SearchClause | None = None,
) -> list[OrderKey]:
    """The ordering keys of an ``orderBy`` list, each item naming exactly one field.

    ``_rank`` orders by the relevance of the ``rank`` search (``ts_rank``, never null). A
    search without ``orderBy`` is ordered by relevance, best first: ordering its matches by
    the id alone would let PostgreSQL walk the primary key and test every row against the
    search instead of asking the search index (seconds at a million rows).
    """
    if rank is not None and not order_by:
        return [OrderKey(rank.rank, "real", True, nullable=False, label=rank.label)]
    keys: list[OrderKey] = []
    for item in order_by or ():
        if [k for k, v in item.items() if v is not None] == [RANK_KEY]:
            if rank is None:
                raise FilterError(f"ordering by '{RANK_KEY}' needs a 'search' argument")
            descending = item[RANK_KEY] == "DESC"
            keys.append(OrderKey(rank.rank, "real", descending, nullable=False, label=rank.label))
            continue
        keys.append(_one_key(schema, model, item, base, columns, ""))
    return keys


def _one_key(
    schema: SchemaModel,
    model: TypeModel,
    item: Mapping[str, Any],
    base: str,
    columns: Mapping[str, str],
    prefix: str,
) -> OrderKey:
    given = [(k, v) for k, v in item.items() if v is not None]
    if len(given) != 1:
        names = ", ".join(k for k, _ in given) or "none"
        raise FilterError(
            f"each orderBy item must set exactly one field (got {names}); "
            "use a list for several keys: [{a: ASC}, {b: DESC}]"
        )
    key, value = given[0]
    if key == RANK_KEY and key not in model.fields:
        raise FilterError(f"'{RANK_KEY}' orders the searched rows, not a nested object")
    field = model.fields[key]
    named = field.type_ref.named
    label = f"{prefix}{key}"
    if isinstance(named, TypeDefinition):
        nested = FieldAccess(base, field.python_name)
        return _one_key(schema, schema.types[named.name], value, nested.json, {}, label + ".")
    access = FieldAccess(base, field.python_name, columns.get(field.python_name), schema.casts)
    if isinstance(named, EnumDefinition):
        sql_type = "text"
    else:
        assert isinstance(named, ScalarDefinition)
        sql_type = named.sql_type
    nullable = field.type_ref.nullable or access.typed_column is None
    return OrderKey(access.typed(sql_type), sql_type, value == "DESC", nullable, label)


def order_by_clause(keys: Sequence[OrderKey], *, reverse: bool = False) -> str:
    """``ORDER BY`` terms; ``reverse`` flips every key, nulls included (for ``last``)."""
    terms = []
    for key in keys:
        descending = key.descending != reverse
        nulls = "FIRST" if reverse else "LAST"
        terms.append(f"{key.expression} {'DESC' if descending else 'ASC'} NULLS {nulls}")
    return ", ".join(terms)


def keyset_condition(
    keys: Sequence[OrderKey],
    values: Sequence[str | None],
    params: Parameters,
    *,
    reverse: bool = False,
) -> str:
    """Rows strictly after the cursor ``values`` in the ordering (or in its reverse)."""
    alternatives: list[str] = []
    equal_so_far: list[str] = []
    for key, value in zip(keys, values, strict=True):
        nulls_last = not reverse
        descending = key.descending != reverse
        if value is None:
            after = FALSE if nulls_last else f"({key.expression} IS NOT NULL)"
            equal = f"({key.expression} IS NULL)"
        else:
            bound = f"CAST({params.text(value)} AS {key.sql_type})"
            after = f"({key.expression} {'<' if descending else '>'} {bound})"
            if nulls_last and key.nullable:
                after = f"({after} OR {key.expression} IS NULL)"
            equal = f"({key.expression} = {bound})"
        if after != FALSE:
            alternatives.append(_and([*equal_so_far, after]))
        equal_so_far.append(equal)
    return _or(alternatives)
