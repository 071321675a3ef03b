"""Write functions that honour the mutation contract: ``fn_create/update/delete_<entity>``.

Each takes one JSONB argument with snake_case keys and returns ``fraiseql_mutation_result``:
``validation_error`` with one error per field (``required``, ``not_found``, ``invalid``),
``not_found``, ``conflict`` on a unique violation (mapped to its field), ``noop`` for an update
that changes nothing, ``forbidden`` without a tenant claim (when tenancy is on), and ``success``
after syncing every read model whose documents changed (``fn_sync_tv_*``) and telling
subscriptions and caches (``fraiseql_notify``). They are skeletons: a starting point to edit.
"""

from __future__ import annotations

from fraiseql.codegen.lookups import caller_tenant_function, check_variables, lookup_sql
from fraiseql.codegen.model import (
    Column,
    Entity,
    EntityGraph,
    ForeignKey,
    ident,
    literal,
)

_RESULT = "ROW({}, {}, {}, {})::fraiseql_mutation_result"


def _result(status: str, entity_id: str, message: str, errors: str = "'[]'::jsonb") -> str:
    return "RETURN " + _RESULT.format(literal(status), entity_id, literal(message), errors) + ";"


def _error(field: str, message: str, code: str) -> str:
    return (
        f"v_errors := v_errors || jsonb_build_object("
        f"'field', {literal(field)}, 'message', {literal(message)}, 'code', {literal(code)});"
    )


def _value(column: Column) -> str:
    """The column's value read from ``input``."""
    key = literal(column.name)
    if column.kind == "json":
        return f"input->{key}"
    if column.kind == "array":
        return (
            f"CASE WHEN jsonb_typeof(input->{key}) = 'array' THEN "
            f"ARRAY(SELECT jsonb_array_elements_text(input->{key}))::{column.sql_type} END"
        )
    if column.sql_type == "text":
        return f"input->>{key}"
    return f"(input->>{key})::{column.sql_type}"


def _checks(entity: Entity, *, update: bool) -> list[str]:
    """Input checks appending to ``v_errors``: required fields, references, enum values."""
    lines: list[str] = []
    for column in entity.columns:
        key = literal(column.name)
        if not column.nullable and (update or column.required):
            condition = (
                f"input ? {key} AND input->>{key} IS NULL" if update else (f"input->>{key} IS NULL")
            )
            lines += [
                f"IF {condition} THEN",
                f"    {_error(column.name, f'{column.name} is required', 'required')}",
                "END IF;",
            ]
        if column.kind == "enum":
            allowed = ", ".join(literal(v) for v in column.enum_values)
            lines += [
                f"IF input->>{key} NOT IN ({allowed}) THEN",
                "    "
                + _error(
                    column.name,
                    f"{column.name} must be one of {', '.join(column.enum_values)}",
                    "invalid",
                ),
                "END IF;",
            ]
    for reference in entity.foreign_keys:
        if reference.is_tenant or reference.field is None:
            continue
        lines += _reference_check(reference, graph_name=reference.target, update=update)
    return lines


def _reference_check(key: ForeignKey, *, graph_name: str, update: bool) -> list[str]:
    assert key.field is not None
    name = key.field.python_name
    field = literal(name)
    variable = f"v_{key.column}"
    resolve = [
        f"    {variable} := fn_{graph_name}_pk(input->>{field});",
        f"    IF {variable} IS NULL THEN",
        f"        {_error(name, f'no {graph_name} has this id or identifier', 'not_found')}",
        "    END IF;",
    ]
    if update:
        null_case = (
            [f"        {variable} := NULL;"]
            if key.nullable
            else [f"        {_error(name, f'{name} is required', 'required')}"]
        )
        return [
            f"IF input ? {field} THEN",
            f"    IF input->>{field} IS NULL THEN",
            *null_case,
            "    ELSE",
            *[f"    {line}" for line in resolve],
            "    END IF;",
            "END IF;",
        ]
    if key.nullable:
        return [f"IF input->>{field} IS NOT NULL THEN", *resolve, "END IF;"]
    return [
        f"IF input->>{field} IS NULL THEN",
        f"    {_error(name, f'{name} is required', 'required')}",
        "ELSE",
        *resolve,
        "END IF;",
    ]


def _conflict(entity: Entity, entity_id: str) -> list[str]:
    cases = [f"WHEN {literal(f'{entity.table}_id_key')} THEN 'id'"]
    if entity.has_identifier:
        cases.insert(0, f"WHEN {literal(f'{entity.table}_identifier_key')} THEN 'identifier'")
    field = f"CASE v_constraint {' '.join(cases)} END"
    errors = (
        f"jsonb_build_array(jsonb_build_object('field', {field}, "
        "'message', 'already taken', 'code', 'unique'))"
    )
    return [
        "EXCEPTION WHEN unique_violation THEN",
        "    GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;",
        "    " + _result("conflict", entity_id, f"This {entity.name} already exists.", errors),
    ]


def _sync(entity: Entity, op: str, entity_id: str) -> list[str]:
    return [
        f"PERFORM fn_sync_tv_{entity.name}(ARRAY[{entity_id}]);",
        f"PERFORM fraiseql_notify({literal(entity.name)}, {literal(op)}, ARRAY[{entity_id}]);",
    ]


def _sync_related(
    entity: Entity, graph: EntityGraph, rows: list[str], *, embedded: bool
) -> list[str]:
    """Sync the read models listing the entity (its parents in ``rows``).

    With ``embedded``, also those embedding it as an object (an update changed its copy).
    """
    lines: list[str] = []
    for parent, key in graph.listing(entity.name):
        keys = ", ".join(f"{row}.{key.column}" for row in rows)
        lines += [
            f"v_ids := ARRAY(SELECT id FROM {parent.table} WHERE {parent.pk} IN ({keys}));",
            f"PERFORM fn_sync_tv_{parent.name}(v_ids);",
            f"PERFORM fraiseql_notify({literal(parent.name)}, 'update', v_ids);",
        ]
    if embedded:
        for child, key in graph.embedding(entity.name):
            lines += [
                f"v_ids := ARRAY(SELECT id FROM {child.table} WHERE {key.column} = v_pk);",
                f"PERFORM fn_sync_tv_{child.name}(v_ids);",
                f"PERFORM fraiseql_notify({literal(child.name)}, 'update', v_ids);",
            ]
    return lines


def _function(name: str, declarations: list[str], body: list[str]) -> str:
    declare = "".join(f"    {line}\n" for line in declarations)
    statements = "".join(f"    {line}\n" if line else "\n" for line in body)
    return (
        f"CREATE OR REPLACE FUNCTION {name}(input jsonb) RETURNS fraiseql_mutation_result\n"
        f"LANGUAGE plpgsql SET TimeZone = 'UTC' AS $fn$\nDECLARE\n{declare}BEGIN\n"
        f"{statements}END;\n$fn$;\n"
    )


def _tenant_guard(graph: EntityGraph) -> list[str]:
    if graph.tenant is None:
        return []
    return [
        f"v_tenant := {caller_tenant_function(graph)}();",
        "IF v_tenant IS NULL THEN",
        "    " + _result("forbidden", "NULL", "The request names no tenant."),
        "END IF;",
    ]


def _tenant_variable(graph: EntityGraph) -> list[str]:
    return [] if graph.tenant is None else ["v_tenant integer;"]


def _locate(entity: Entity) -> list[str]:
    """Find the row by ``id``, else by ``identifier``: ``not_found`` or ``v_pk``."""
    lines = ["IF input->>'id' IS NOT NULL THEN", f"    v_pk := fn_{entity.name}_pk(input->>'id');"]
    if entity.has_identifier:
        lines += [
            "ELSIF input->>'identifier' IS NOT NULL THEN",
            f"    v_pk := fn_{entity.name}_pk(input->>'identifier');",
        ]
    lines += [
        "ELSE",
        "    "
        + _result(
            "validation_error",
            "NULL",
            f"Name the {entity.name} by id or identifier.",
            "jsonb_build_array(jsonb_build_object("
            "'field', 'id', 'message', 'id is required', 'code', 'required'))",
        ),
        "END IF;",
        "IF v_pk IS NULL THEN",
        "    " + _result("not_found", "NULL", f"No such {entity.name}."),
        "END IF;",
    ]
    return lines


def _reject(entity_id: str) -> list[str]:
    return [
        "IF jsonb_array_length(v_errors) > 0 THEN",
        "    " + _result("validation_error", entity_id, "The input is not valid.", "v_errors"),
        "END IF;",
    ]


def _key_variables(entity: Entity) -> list[str]:
    return [f"v_{key.column} integer;" for key in entity.foreign_keys if not key.is_tenant]


def create_sql(entity: Entity, graph: EntityGraph) -> str:
    """``fn_create_<entity>(input)``: insert one row from the input."""
    columns, values = ["id"], ["coalesce((input->>'id')::uuid, gen_random_uuid())"]
    if entity.has_identifier:
        columns.append("identifier")
        values.append("input->>'identifier'")
    for key in entity.foreign_keys:
        columns.append(key.column)
        values.append("v_tenant" if key.is_tenant else f"v_{key.column}")
    for column in entity.columns:
        columns.append(ident(column.name))
        value = _value(column)
        values.append(value if column.default is None else f"coalesce({value}, {column.default})")
    checks = _checks(entity, update=False)
    if entity.has_identifier:
        checks = [
            "IF input->>'identifier' IS NULL THEN",
            f"    {_error('identifier', 'identifier is required', 'required')}",
            "END IF;",
            *checks,
        ]
    insert = [
        "BEGIN",
        f"    INSERT INTO {entity.table} ({', '.join(columns)})",
        "    VALUES (" + ",\n            ".join(values) + ")",
        f"    RETURNING {entity.pk}, id INTO v_pk, v_id;",
        *_conflict(entity, "NULL"),
        "END;",
    ]
    body = [
        *_tenant_guard(graph),
        *checks,
        *_reject("NULL"),
        *insert,
        f"SELECT * INTO v_after FROM {entity.table} WHERE {entity.pk} = v_pk;",
        *_sync(entity, "insert", "v_id"),
        *_sync_related(entity, graph, ["v_after"], embedded=False),
        _result("success", "v_id", f"The {entity.name} was created."),
    ]
    declarations = [
        "v_errors jsonb := '[]';",
        *_tenant_variable(graph),
        "v_pk integer;",
        "v_id uuid;",
        f"v_after {entity.table};",
        "v_ids uuid[];",
        "v_constraint text;",
        *_key_variables(entity),
    ]
    return _function(f"fn_create_{entity.name}", declarations, body)


def update_sql(entity: Entity, graph: EntityGraph) -> str:
    """``fn_update_<entity>(input)``: change the given fields of the row ``id`` names."""
    sets = []
    if entity.has_identifier:
        sets.append(
            "identifier = CASE WHEN input->>'id' IS NOT NULL AND input ? 'identifier' "
            "THEN input->>'identifier' ELSE identifier END"
        )
    for key in entity.foreign_keys:
        if not key.is_tenant:
            sets.append(f"{key.column} = v_{key.column}")
    for column in entity.columns:
        name = ident(column.name)
        given = f"input ? {literal(column.name)}"
        sets.append(f"{name} = CASE WHEN {given} THEN {_value(column)} ELSE {name} END")
    checks = _checks(entity, update=True)
    if entity.has_identifier:
        checks = [
            "IF input->>'id' IS NOT NULL AND input ? 'identifier' "
            "AND input->>'identifier' IS NULL THEN",
            f"    {_error('identifier', 'identifier is required', 'required')}",
            "END IF;",
            *checks,
        ]
    keys = [
        f"v_{key.column} := v_before.{key.column};"
        for key in entity.foreign_keys
        if not key.is_tenant
    ]
    update = (
        [
            "BEGIN",
            f"    UPDATE {entity.table} SET",
            "        " + ",\n            ".join(sets),
            f"    WHERE {entity.pk} = v_pk",
            "    RETURNING * INTO v_after;",
            *_conflict(entity, "v_before.id"),
            "END;",
        ]
        if sets
        else [f"SELECT * INTO v_after FROM {entity.table} WHERE {entity.pk} = v_pk;"]
    )
    body = [
        *_tenant_guard(graph),
        *_locate(entity),
        f"SELECT * INTO v_before FROM {entity.table} WHERE {entity.pk} = v_pk FOR UPDATE;",
        *keys,
        *checks,
        *_reject("v_before.id"),
        *update,
        "IF v_after IS NOT DISTINCT FROM v_before THEN",
        "    " + _result("noop", "v_before.id", "Nothing changed."),
        "END IF;",
        *_sync(entity, "update", "v_after.id"),
        *_sync_related(entity, graph, ["v_before", "v_after"], embedded=True),
        _result("success", "v_after.id", f"The {entity.name} was updated."),
    ]
    declarations = [
        "v_errors jsonb := '[]';",
        *_tenant_variable(graph),
        "v_pk integer;",
        f"v_before {entity.table};",
        f"v_after {entity.table};",
        "v_ids uuid[];",
        "v_constraint text;",
        *_key_variables(entity),
    ]
    return _function(f"fn_update_{entity.name}", declarations, body)


def delete_sql(entity: Entity, graph: EntityGraph) -> str:
    """``fn_delete_<entity>(input)``: delete the row ``id`` (or ``identifier``) names."""
    body = [
        *_tenant_guard(graph),
        *_locate(entity),
        f"DELETE FROM {entity.table} WHERE {entity.pk} = v_pk RETURNING * INTO v_before;",
        *_sync(entity, "delete", "v_before.id"),
        *_sync_related(entity, graph, ["v_before"], embedded=False),
        _result("success", "v_before.id", f"The {entity.name} was deleted."),
    ]
    declarations = [
        *_tenant_variable(graph),
        "v_pk integer;",
        f"v_before {entity.table};",
        "v_ids uuid[];",
    ]
    return _function(f"fn_delete_{entity.name}", declarations, body)


def mutations_sql(entity: Entity, graph: EntityGraph) -> str:
    """The lookup helper and the three write functions of ``entity``."""
    check_variables(entity)
    parts = [lookup_sql(entity, graph)]
    if not (entity.is_tenant and graph.tenant is not None):
        parts += [create_sql(entity, graph), update_sql(entity, graph), delete_sql(entity, graph)]
    return "\n".join(parts)
