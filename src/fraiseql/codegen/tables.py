"""``CREATE TABLE`` for the write tables (``tb_*``) and the read models (``tv_*``), with indexes.

A read model's expression indexes are built from the very expressions FraiseQL's filters and
orderings write (:class:`fraiseql.sql.where.FieldAccess`), so PostgreSQL can use them: a
``DateTime`` is read through ``fraiseql_timestamptz(data->>'x')``, the IMMUTABLE helper of
``CONTRACT_SQL``, where the plain cast could not be indexed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fraiseql.codegen.model import (
    MAX_NAME,
    DDLDefinitionError,
    Entity,
    EntityGraph,
    ident,
    literal,
)
from fraiseql.schema.model import INDEXABLE_CASTS, SchemaModel, TypeModel
from fraiseql.sql.where import FieldAccess
from fraiseql.types.definitions import EnumDefinition, TypeDefinition
from fraiseql.types.scalars import ScalarDefinition

INDEXABLE_TYPES = frozenset(
    {"text", "numeric", "double precision", "boolean", "uuid", "ltree", "inet", "cidr"}
    | set(INDEXABLE_CASTS)
)
"""The types a filter reads a document's text as, whose reading an index can hold (the cast is
IMMUTABLE, or replaced by an IMMUTABLE helper). ``date`` and ``time`` casts read DateStyle and
are not."""


def _columns_block(lines: Sequence[tuple[str, str]], constraints: Sequence[str]) -> str:
    width = max(len(name) for name, _ in lines)
    body = [f"    {name.ljust(width)} {rest}" for name, rest in lines]
    body += [f"    {constraint}" for constraint in constraints]
    return ",\n".join(body)


def write_table_sql(entity: Entity, graph: EntityGraph) -> str:
    """The write table of ``entity``, its constraints and the indexes on its foreign keys."""
    table = entity.table
    lines = [
        (entity.pk, "integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
        ("id", "uuid NOT NULL DEFAULT gen_random_uuid()"),
    ]
    if entity.has_identifier:
        lines.append(("identifier", "text NOT NULL"))
    for key in entity.foreign_keys:
        lines.append((key.column, "integer" if key.nullable else "integer NOT NULL"))
    for column in entity.columns:
        rest = column.sql_type + ("" if column.nullable else " NOT NULL")
        if column.default is not None:
            rest += f" DEFAULT {column.default}"
        lines.append((ident(column.name), rest))
    constraints = [f"CONSTRAINT {table}_id_key UNIQUE (id)"]
    if entity.has_identifier:
        # The identifier comes first, so that a conflict names it and a lookup by identifier
        # alone can use the index; the tenant key has its own index below.
        scope = entity.tenant_key
        keys = "identifier" if scope is None else f"identifier, {scope.column}"
        constraints.append(f"CONSTRAINT {table}_identifier_key UNIQUE ({keys})")
    for key in entity.foreign_keys:
        target = graph.entities[key.target]
        constraints.append(
            f"CONSTRAINT {table}_{key.column}_fkey FOREIGN KEY ({key.column}) "
            f"REFERENCES {target.table} ({target.pk})"
        )
    for column in entity.columns:
        if not column.enum_values:
            continue
        values = ", ".join(literal(v) for v in column.enum_values)
        name = ident(column.name)
        check = (
            f"{name} <@ ARRAY[{values}]::text[]"
            if column.kind == "array"
            else f"{name} IN ({values})"
        )
        constraints.append(f"CONSTRAINT {ident(f'{table}_{column.name}_check')} CHECK ({check})")
    text = f"CREATE TABLE {table} (\n{_columns_block(lines, constraints)}\n);\n"
    for key in entity.foreign_keys:
        text += f"CREATE INDEX {table}_{key.column}_idx ON {table} ({key.column});\n"
    return text


@dataclass(frozen=True, slots=True)
class ReadIndex:
    """An expression index on a read model's document."""

    name: str
    expression: str
    method: str
    ordering: bool


def _index_for(model: TypeModel, path: str, schema: SchemaModel, read_model: str) -> ReadIndex:
    where = f"{model.cls.__qualname__}: index {path!r}"
    base, current = "data", model
    parts = path.split(".")
    for position, part in enumerate(parts):
        item = current.field_by_python_name(part)
        if item is None:
            raise DDLDefinitionError(f"{where}: {current.name} has no field {part!r}")
        if item.resolver is not None or item.type_ref.is_list:
            raise DDLDefinitionError(
                f"{where}: {current.name}.{part} is a list or computed field; only stored "
                "scalar, enum and object fields can be indexed"
            )
        named = item.type_ref.named
        last = position == len(parts) - 1
        if isinstance(named, TypeDefinition):
            if last:
                raise DDLDefinitionError(
                    f"{where}: {current.name}.{part} is an object; index one of its fields "
                    f"({path}.id)"
                )
            base = FieldAccess(base, part).json
            current = schema.types[named.name]
            continue
        if not last:
            raise DDLDefinitionError(f"{where}: {current.name}.{part} has no fields")
        if isinstance(named, EnumDefinition):
            sql_type = "text"
        elif isinstance(named, ScalarDefinition):
            sql_type = named.sql_type
        else:
            raise DDLDefinitionError(f"{where}: {current.name}.{part} cannot be indexed")
        if sql_type not in INDEXABLE_TYPES:
            raise DDLDefinitionError(
                f"{where}: {current.name}.{part} is read as {sql_type}, a cast PostgreSQL does "
                "not let an index hold (it depends on session settings)"
            )
        expression = FieldAccess(base, part, None, INDEXABLE_CASTS).typed(sql_type)
        name = f"{read_model}_{'_'.join(parts)}_idx"
        if len(name) > MAX_NAME:
            raise DDLDefinitionError(f"{where}: the index name {name!r} is too long")
        method = "gist" if sql_type == "ltree" else "btree"
        return ReadIndex(name, expression, method, ordering=sql_type in INDEXABLE_CASTS)
    raise DDLDefinitionError(f"{where}: an empty path")  # pragma: no cover - split gives one


def ordered_types(schema: SchemaModel) -> set[str]:
    """GraphQL names of the types some list or connection root query can order."""
    return {
        root.target.name
        for root in schema.queries.values()
        if root.target is not None
        and root.kind in ("list", "connection")
        and any(a.python_name == "order_by" for a in root.arguments.values())
    }


def read_indexes(
    entity: Entity,
    schema: SchemaModel,
    extra: Sequence[str],
    *,
    automatic: bool,
) -> list[ReadIndex]:
    """The expression indexes of ``entity``'s read model, by path, each once, sorted by name.

    ``automatic``: every stored ``DateTime`` field of a type that a root query can order gets
    an ordering index. ``extra`` are the paths asked for (``created_at``, ``author.id``).
    """
    model = entity.type_model
    paths = set(extra)
    if automatic and model.name in ordered_types(schema):
        for column in entity.columns:
            named = column.field.type_ref.named
            if column.kind != "scalar" or not isinstance(named, ScalarDefinition):
                continue
            if named.sql_type in INDEXABLE_CASTS:
                paths.add(column.name)
    indexes = {path: _index_for(model, path, schema, entity.read_model) for path in paths}
    return sorted(indexes.values(), key=lambda index: index.name)


def read_model_sql(
    entity: Entity,
    graph: EntityGraph,
    indexes: Sequence[ReadIndex],
    tenant_column: str | None,
    extra_columns: Sequence[tuple[str, str]] = (),
) -> str:
    """The read model: id, identifier, tenant column, data; its unique keys and indexes.

    ``extra_columns`` (``(name, definition)``) follow ``data``: generated columns computed
    from it, such as a stored search vector.
    """
    table = entity.read_model
    lines = [("id", "uuid PRIMARY KEY")]
    if entity.has_identifier:
        lines.append(("identifier", "text NOT NULL"))
    if tenant_column is not None:
        lines.append((ident(tenant_column), "uuid NOT NULL"))
    lines.append(("data", "jsonb NOT NULL"))
    lines.extend(extra_columns)
    constraints = []
    if entity.has_identifier:
        keys = "identifier" if tenant_column is None else f"identifier, {ident(tenant_column)}"
        constraints.append(f"CONSTRAINT {table}_identifier_key UNIQUE ({keys})")
    text = f"CREATE TABLE {table} (\n{_columns_block(lines, constraints)}\n);\n"
    if tenant_column is not None:
        text += f"CREATE INDEX {table}_{tenant_column}_idx ON {table} ({ident(tenant_column)});\n"
    text += f"CREATE INDEX {table}_data_idx ON {table} USING gin (data jsonb_path_ops);\n"
    for index in indexes:
        using = "" if index.method == "btree" else f" USING {index.method}"
        element = f"({index.expression})"
        if index.ordering:
            # Newest first is the common order; the id is FraiseQL's tie-breaker.
            element += " DESC NULLS LAST, id"
        text += f"CREATE INDEX {index.name}\n    ON {table}{using} ({element});\n"
    return text


def index_options(
    graph: EntityGraph, indexes: Mapping[str, Sequence[str]] | None
) -> dict[str, list[str]]:
    """``indexes`` (GraphQL type name → paths) by entity; unknown type names are errors."""
    by_type = {entity.type_model.name: entity.name for entity in graph.ordered()}
    found: dict[str, list[str]] = {}
    for type_name, paths in (indexes or {}).items():
        if type_name not in by_type:
            raise DDLDefinitionError(
                f"indexes: {type_name!r} is not a type with a tv_* read model "
                f"(known: {', '.join(sorted(by_type))})"
            )
        if isinstance(paths, str):
            raise DDLDefinitionError(f"indexes[{type_name!r}]: give a list of field paths")
        found.setdefault(by_type[type_name], []).extend(paths)
    return found
