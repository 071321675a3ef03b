"""The ``v_tv_*`` views: what each read model must hold, computed from the write tables.

The document's keys are the Python (snake_case) field names, in declaration order. An object
field of another entity embeds that entity's stored columns through its foreign key (one level:
the embedded object holds its scalar fields, not its own objects and lists); a list field of
another entity aggregates the rows that reference this one, oldest first (by their key).
"""

from __future__ import annotations

from collections.abc import Sequence

from fraiseql.codegen.model import Entity, EntityGraph, Entry, ident, literal
from fraiseql.db.sync import ReadModel

_PAIRS_PER_CALL = 50
"""``jsonb_build_object`` takes at most 100 arguments: longer documents are concatenated."""


def _build_object(pairs: Sequence[tuple[str, str]], indent: str) -> str:
    """``jsonb_build_object(...)`` of ``(key, expression)`` pairs, one per line."""
    if not pairs:
        return "'{}'::jsonb"
    calls = []
    for start in range(0, len(pairs), _PAIRS_PER_CALL):
        chunk = pairs[start : start + _PAIRS_PER_CALL]
        inner = ",\n".join(f"{indent}    {literal(key)}, {value}" for key, value in chunk)
        calls.append(f"jsonb_build_object(\n{inner}\n{indent})")
    return f"\n{indent}|| ".join(calls)


def _stored(entity: Entity, alias: str) -> list[tuple[str, str]]:
    """The pairs of an entity's own stored fields (what an embedded copy of it holds)."""
    pairs = []
    for entry in entity.document:
        if entry.kind in ("id", "identifier"):
            pairs.append((entry.key, f"{alias}.{entry.key}"))
        elif entry.kind == "column" and entry.column is not None:
            pairs.append((entry.key, f"{alias}.{ident(entry.column.name)}"))
    return pairs


def join_alias(entry: Entry) -> str:
    """The alias of the table joined for an object field."""
    return ident(f"j_{entry.key}")


def view_sql(entity: Entity, graph: EntityGraph, *, invoker: bool) -> str:
    """``CREATE VIEW v_tv_<entity>``: id, identifier, tenant column, data."""
    tenant = graph.tenant
    joins: list[str] = []
    pairs: list[tuple[str, str]] = []
    tenant_alias = None
    for entry in entity.document:
        if entry.kind == "object" and entry.foreign_key is not None:
            key = entry.foreign_key
            target = graph.entities[key.target]
            alias = join_alias(entry)
            kind = "LEFT JOIN" if key.nullable else "JOIN"
            joins.append(f"{kind} {target.table} {alias} ON {alias}.{target.pk} = t.{key.column}")
            embedded = _build_object(_stored(target, alias), "           ")
            if key.nullable:
                embedded = f"CASE WHEN {alias}.{target.pk} IS NULL THEN NULL ELSE {embedded} END"
            pairs.append((entry.key, embedded))
            if key.is_tenant:
                tenant_alias = alias
        elif entry.kind == "list" and entry.relation is not None:
            relation = entry.relation
            child = graph.entities[relation.child]
            alias = ident(f"l_{entry.key}")
            element = _build_object(_stored(child, alias), "                   ")
            pairs.append(
                (
                    entry.key,
                    "COALESCE(\n"
                    f"               (SELECT jsonb_agg({element}\n"
                    f"                   ORDER BY {alias}.{child.pk})\n"
                    f"                FROM {child.table} {alias}\n"
                    f"                WHERE {alias}.{relation.child_fk} = t.{entity.pk}),\n"
                    "               '[]'::jsonb)",
                )
            )
        elif entry.kind in ("id", "identifier"):
            pairs.append((entry.key, f"t.{entry.key}"))
        elif entry.column is not None:
            pairs.append((entry.key, f"t.{ident(entry.column.name)}"))
    columns = ["t.id"]
    if entity.has_identifier:
        columns.append("t.identifier")
    if tenant is not None:
        column = ident(tenant.column)
        if entity.is_tenant:
            columns.append(f"t.id AS {column}")
        else:
            tenant_key = entity.tenant_key
            assert tenant_key is not None
            if tenant_alias is None:
                target = graph.entities[tenant_key.target]
                tenant_alias = "tn"
                joins.append(f"JOIN {target.table} tn ON tn.{target.pk} = t.{tenant_key.column}")
            columns.append(f"{tenant_alias}.id AS {column}")
    columns.append(f"{_build_object(pairs, '       ')} AS data")
    options = " WITH (security_invoker = true)" if invoker else ""
    select = ",\n       ".join(columns)
    text = f"CREATE VIEW {entity.view}{options} AS\nSELECT {select}\nFROM {entity.table} t"
    for join in joins:
        text += f"\n{join}"
    return text + ";\n"


def read_model_of(entity: Entity, tenant_column: str | None) -> ReadModel:
    """The :class:`ReadModel` the sync function generator and the drift check take."""
    columns: list[str] = []
    if entity.has_identifier:
        columns.append("identifier")
    if tenant_column is not None:
        columns.append(tenant_column)
    columns.append("data")
    return ReadModel(entity.name, columns=tuple(columns))
