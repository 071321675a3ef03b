"""``fn_upsert_<entity>(input)``: create the entity its ``identifier`` names, or update it.

Written by ``generate_ddl(upserts=True)`` for every entity with an ``identifier`` (not for the
tenant entity, whose rows an administrator writes). One ``INSERT ... ON CONFLICT ON CONSTRAINT
tb_<entity>_identifier_key DO UPDATE``: the identifier is unique, per tenant with tenancy, so
two upserts of a new identifier at once never surface a unique violation; the second waits for
the first and updates the row it created.

The input is checked as a create's (the required fields, the references); on update the
fields the input leaves out keep their values. It returns the contract's statuses:
``success`` (message ``The <entity> was created.`` or ``... was updated.``), ``noop`` when the
row already held those values, ``validation_error``, ``conflict`` (an ``id`` that is not the
identified row's, or one another row has), ``forbidden`` without a tenant claim. The ``id``
is the row's, created or kept; the read models are synced as by the create or update function.
"""

from __future__ import annotations

from fraiseql.codegen.model import Entity, EntityGraph, ident, literal
from fraiseql.codegen.mutations import (
    _checks,
    _conflict,
    _error,
    _function,
    _key_variables,
    _reject,
    _result,
    _sync,
    _sync_related,
    _tenant_guard,
    _tenant_variable,
    _value,
)


def has_upsert(entity: Entity, graph: EntityGraph) -> bool:
    """Whether ``entity`` gets an upsert: it has an identifier and is not the tenant."""
    return entity.has_identifier and not (entity.is_tenant and graph.tenant is not None)


def _insert(entity: Entity) -> tuple[list[str], list[str], list[str]]:
    """The inserted columns, their values, and the ``SET`` list of the update."""
    columns, values = ["id", "identifier"], ["v_new_id", "input->>'identifier'"]
    sets: list[str] = []
    for key in entity.foreign_keys:
        columns.append(key.column)
        if key.is_tenant:
            values.append("v_tenant")
            continue
        values.append(f"v_{key.column}")
        assert key.field is not None
        given = f"input ? {literal(key.field.python_name)}"
        sets.append(
            f"{key.column} = CASE WHEN {given} THEN EXCLUDED.{key.column} ELSE t.{key.column} END"
        )
    for column in entity.columns:
        name = ident(column.name)
        columns.append(name)
        value = _value(column)
        values.append(value if column.default is None else f"coalesce({value}, {column.default})")
        given = f"input ? {literal(column.name)}"
        sets.append(f"{name} = CASE WHEN {given} THEN EXCLUDED.{name} ELSE t.{name} END")
    return columns, values, sets


def upsert_sql(entity: Entity, graph: EntityGraph) -> str:
    """``fn_upsert_<entity>(input)``, see the module."""
    tenant_key = entity.tenant_key
    same_tenant = f" AND {tenant_key.column} = v_tenant" if tenant_key is not None else ""
    columns, values, sets = _insert(entity)
    if not sets:  # nothing but the identifier: the update only takes the row lock
        sets = ["identifier = t.identifier"]
    checks = [
        "IF input->>'identifier' IS NULL THEN",
        f"    {_error('identifier', 'identifier is required', 'required')}",
        "END IF;",
        *_checks(entity, update=False),
    ]
    upsert = [
        "BEGIN",
        f"    INSERT INTO {entity.table} AS t ({', '.join(columns)})",
        "    VALUES (" + ",\n            ".join(values) + ")",
        f"    ON CONFLICT ON CONSTRAINT {entity.table}_identifier_key DO UPDATE SET",
        "        " + ",\n            ".join(sets),
        # An id in the input must be the identified row's: else nothing is updated.
        "    WHERE t.id = coalesce((input->>'id')::uuid, t.id)",
        # The row a conflict updated carries the lock ON CONFLICT took: its xmax is set.
        f"    RETURNING t.{entity.pk}, t.id, t.xmax = 0 INTO v_pk, v_id, v_inserted;",
        *_conflict(entity, "NULL"),
        "END;",
        "IF v_pk IS NULL THEN",
        "    "
        + _result(
            "conflict",
            "v_before.id",
            f"This identifier names another {entity.name}.",
            "jsonb_build_array(jsonb_build_object("
            "'field', 'id', 'message', 'does not match the identifier', 'code', 'mismatch'))",
        ),
        "END IF;",
        f"SELECT * INTO v_after FROM {entity.table} WHERE {entity.pk} = v_pk;",
    ]
    body = [
        *_tenant_guard(graph),
        *checks,
        *_reject("NULL"),
        "v_new_id := coalesce((input->>'id')::uuid, gen_random_uuid());",
        "-- The row as it was, locked (NULL when new, or created by a concurrent upsert).",
        f"SELECT * INTO v_before FROM {entity.table}",
        f"WHERE identifier = input->>'identifier'{same_tenant} FOR UPDATE;",
        *upsert,
        "IF v_inserted THEN",
        *[f"    {line}" for line in _sync(entity, "insert", "v_id")],
        *[f"    {line}" for line in _sync_related(entity, graph, ["v_after"], embedded=False)],
        "    " + _result("success", "v_id", f"The {entity.name} was created."),
        "END IF;",
        "IF v_after IS NOT DISTINCT FROM v_before THEN",
        "    " + _result("noop", "v_id", "Nothing changed."),
        "END IF;",
        *_sync(entity, "update", "v_id"),
        *_sync_related(entity, graph, ["v_before", "v_after"], embedded=True),
        _result("success", "v_id", f"The {entity.name} was updated."),
    ]
    declarations = [
        "v_errors jsonb := '[]';",
        *_tenant_variable(graph),
        "v_pk integer;",
        "v_id uuid;",
        "v_new_id uuid;",
        "v_inserted boolean;",
        f"v_before {entity.table};",
        f"v_after {entity.table};",
        "v_ids uuid[];",
        "v_constraint text;",
        *_key_variables(entity),
    ]
    return _function(f"fn_upsert_{entity.name}", declarations, body)
