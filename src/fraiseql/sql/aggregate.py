"""The one SQL statement of an aggregate root field: totals and groups over the filtered rows.

```sql
WITH "f" AS (SELECT t.* FROM "tv_post" AS t WHERE <where>)
SELECT (jsonb_build_object('count', count(*), 'sum', jsonb_build_object('views', sum(...)))
     || jsonb_build_object('group_by:groupBy', (
          SELECT COALESCE(jsonb_agg(g.o ORDER BY g.n), '[]'::jsonb) FROM (
            SELECT jsonb_build_object('keys', jsonb_build_object('status', <status>), ...) AS o,
                   row_number() OVER (ORDER BY <status> ASC NULLS LAST) AS n
            FROM "f" AS t GROUP BY <status> HAVING <having>
            ORDER BY <status> ASC NULLS LAST LIMIT $2::bigint) AS g)))::text
FROM "f" AS t
```

Only the aggregates the selection asks for are computed. Fields are read through the same
typed accessors as ``where`` filters (:class:`FieldAccess`), so types and indexes match; every
value (filters, ``having`` operands, the limit) is a bind parameter. Nulls are ignored by
``sum``/``avg``/``min``/``max`` (all null: null) and sort last in both directions; a missing
or null group key is a group of its own (key null).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fraiseql.schema.aggregates import AggregateField, AggregateSpec
from fraiseql.schema.model import SchemaModel, TypeModel
from fraiseql.sql.identifiers import Parameters, quote_literal
from fraiseql.sql.select import ROW_ALIAS, Statement, _source
from fraiseql.sql.where import FieldAccess, FilterError, WhereCompiler, _and, _or
from fraiseql.types.definitions import EnumDefinition
from fraiseql.types.scalars import INT, ScalarDefinition

_CTE = '"f"'
_MAX_PAIRS = 50  # jsonb_build_object takes at most 100 arguments


@dataclass(slots=True)
class Measures:
    """What one scope (all rows, or each group) computes: the count and aggregates by member.

    ``members`` maps ``sum``/``avg``/``min``/``max`` to the fields selected under it, by key.
    """

    count: bool = False
    members: dict[str, dict[str, AggregateField]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """Whether nothing is computed."""
        return not self.count and not any(self.members.values())


@dataclass(slots=True)
class GroupRequest:
    """One ``groupBy`` selection: its result key, keys, measures, condition, order and limit."""

    source: str
    by: list[AggregateField]
    measures: Measures
    having: Mapping[str, Any] | None
    order_by: Sequence[Mapping[str, Any]] | None
    limit: int


@dataclass(slots=True)
class AggregateRequest:
    """Everything one aggregate root field computes."""

    totals: Measures
    groups: list[GroupRequest] = field(default_factory=list)


def _object(pairs: Sequence[tuple[str, str]]) -> str:
    """``jsonb_build_object`` of ``(key, expression)`` pairs, chunked under its argument limit."""
    if not pairs:
        return "'{}'::jsonb"
    chunks = []
    for start in range(0, len(pairs), _MAX_PAIRS):
        items = ", ".join(f"{quote_literal(k)}, {v}" for k, v in pairs[start : start + _MAX_PAIRS])
        chunks.append(f"jsonb_build_object({items})")
    return chunks[0] if len(chunks) == 1 else "(" + " || ".join(chunks) + ")"


def _direction(value: Any) -> str:
    """``ASC`` or ``DESC`` of a coerced ``OrderDirection`` (a closed enum, never user text)."""
    return "DESC" if value == "DESC" else "ASC"


class AggregateCompiler:
    """Compiles one :class:`AggregateRequest` over a type's read model."""

    def __init__(self, schema: SchemaModel, model: TypeModel, spec: AggregateSpec) -> None:
        self.schema = schema
        self.model = model
        self.spec = spec
        self.params = Parameters()
        _table, self.data, self.columns = _source(model)

    def typed(self, item: AggregateField) -> str:
        """The typed expression of a field, as ``where`` reads it."""
        casts = self.schema.casts
        if len(item.path) == 1:
            access = FieldAccess(self.data, item.path[0], self.columns.get(item.path[0]), casts)
        else:
            parent = FieldAccess(self.data, item.path[0])
            access = FieldAccess(parent.json, item.path[1], None, casts)
        return access.typed(item.sql_type)

    def aggregate(self, member: str, item: AggregateField) -> str:
        """The SQL aggregate ``member`` (``sum``/``avg``/``min``/``max``) of a field."""
        typed = self.typed(item)
        if member == "avg" and item.is_int:
            return f"avg({typed})::double precision"
        return f"{member}({typed})"

    def measures(self, measures: Measures) -> list[tuple[str, str]]:
        """The result pairs of a scope's measures."""
        pairs: list[tuple[str, str]] = []
        if measures.count:
            pairs.append(("count", "count(*)"))
        for member, fields in measures.members.items():
            if fields:
                inner = [(key, self.aggregate(member, f)) for key, f in fields.items()]
                pairs.append((member, _object(inner)))
        return pairs

    def having(self, having: Mapping[str, Any] | None) -> str:
        """The ``HAVING`` condition of a ``<T>Having`` input (same semantics as ``where``)."""
        if having is None:
            return "TRUE"
        where = WhereCompiler(self.schema, self.params)
        parts: list[str] = []
        for key, value in having.items():
            if value is None:
                raise FilterError(f"'{key}' in having cannot be null; leave it out instead")
            if key == "and":
                parts.append(_and([self.having(item) for item in value]))
            elif key == "or":
                parts.append(_or([self.having(item) for item in value]))
            elif key == "not":
                parts.append(f"(({self.having(value)}) IS NOT TRUE)")
            elif key == "count":
                parts.append(where.expression_condition("count(*)", INT, "numeric", value, key))
            else:
                fields = self.spec.numeric if key in ("sum", "avg") else self.spec.orderable
                for name, ops in value.items():
                    if ops is None:
                        raise FilterError(f"'{key}.{name}' in having cannot be null")
                    item = fields[name]
                    named: ScalarDefinition | EnumDefinition = item.named
                    sql_type = item.sql_type
                    if key in ("sum", "avg"):
                        scalar = item.sum_type() if key == "sum" else item.avg_type()
                        named, sql_type = scalar, scalar.sql_type
                    expression = self.aggregate(key, item)
                    parts.append(
                        where.expression_condition(
                            expression, named, sql_type, ops, f"{key}.{name}"
                        )
                    )
        return _and(parts)

    def ordering(self, group: GroupRequest, keys: Sequence[str]) -> str:
        """``ORDER BY`` terms of a group request: its ``orderBy``, then its keys."""
        terms: list[str] = []
        by_name = {item.graphql_name: expr for item, expr in zip(group.by, keys, strict=True)}
        for entry in group.order_by or ():
            given = [(k, v) for k, v in entry.items() if v is not None]
            if len(given) != 1:
                raise FilterError("each groupBy orderBy item must set exactly one field")
            member, value = given[0]
            if member == "count":
                terms.append(f"count(*) {_direction(value)} NULLS LAST")
                continue
            inner = [(k, v) for k, v in value.items() if v is not None]
            if len(inner) != 1:
                raise FilterError(f"orderBy '{member}' must set exactly one field")
            name, direction = inner[0][0], _direction(inner[0][1])
            if member == "keys":
                if name not in by_name:
                    raise FilterError(f"orderBy keys.{name}: groups are not grouped by {name}")
                terms.append(f"{by_name[name]} {direction} NULLS LAST")
            else:
                fields = self.spec.numeric if member in ("sum", "avg") else self.spec.orderable
                terms.append(f"{self.aggregate(member, fields[name])} {direction} NULLS LAST")
        terms.extend(f"{expr} ASC NULLS LAST" for expr in keys)
        return ", ".join(terms)

    def groups(self, group: GroupRequest) -> str:
        """The scalar subquery of one ``groupBy``: its groups as a JSON array."""
        keys = [self.typed(item) for item in group.by]
        key_object = _object([(item.key, expr) for item, expr in zip(group.by, keys, strict=True)])
        document = _object([("keys", key_object), *self.measures(group.measures)])
        ordering = self.ordering(group, keys)
        condition = self.having(group.having)
        limit = self.params.add(group.limit)
        return (
            f"(SELECT COALESCE(jsonb_agg(g.o ORDER BY g.n), '[]'::jsonb) FROM ("
            f"SELECT {document} AS o, row_number() OVER (ORDER BY {ordering}) AS n "
            f"FROM {_CTE} AS {ROW_ALIAS} GROUP BY {', '.join(keys)} HAVING {condition} "
            f"ORDER BY {ordering} LIMIT {limit}::bigint) AS g)"
        )

    def compile(self, where: Mapping[str, Any] | None, request: AggregateRequest) -> Statement:
        """The statement: one row, one column, the result object's JSON text."""
        table, data, columns = _source(self.model)
        condition = WhereCompiler(self.schema, self.params).compile(
            self.model, where, data, columns
        )
        cte = f"WITH {_CTE} AS (SELECT {ROW_ALIAS}.* FROM {table} WHERE {condition}) "
        totals = self.measures(request.totals)
        groups = [(group.source, self.groups(group)) for group in request.groups]
        parts = [_object(pairs) for pairs in (totals, groups) if pairs]
        result = " || ".join(parts) if parts else "'{}'::jsonb"
        sql = f"{cte}SELECT ({result})::text"
        if totals:
            sql += f" FROM {_CTE} AS {ROW_ALIAS}"
        return Statement(sql, self.params.values)


def select_aggregate(
    schema: SchemaModel,
    model: TypeModel,
    spec: AggregateSpec,
    where: Mapping[str, Any] | None,
    request: AggregateRequest,
) -> Statement:
    """The one statement of an aggregate root field (see the module docstring)."""
    return AggregateCompiler(schema, model, spec).compile(where, request)
