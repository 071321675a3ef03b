"""Helpers of the write functions: the caller's tenant and lookups by Trinity reference."""

from __future__ import annotations

from fraiseql.codegen.model import DDLDefinitionError, Entity, EntityGraph, literal

_UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def caller_tenant_function(graph: EntityGraph) -> str:
    """The name of the function giving the caller's tenant key (tenancy only)."""
    return f"fn_caller_{graph.tenant_entity}_pk"


def caller_tenant_sql(graph: EntityGraph) -> str:
    """``fn_caller_<tenant>_pk()``: the key of the tenant named by the request's claim."""
    tenant = graph.tenant
    assert tenant is not None and graph.tenant_entity is not None
    target = graph.entities[graph.tenant_entity]
    return (
        f"CREATE OR REPLACE FUNCTION {caller_tenant_function(graph)}() RETURNS integer\n"
        "LANGUAGE sql STABLE AS $fn$\n"
        f"    SELECT {target.pk} FROM {target.table}\n"
        f"    WHERE id = nullif(current_setting({literal(tenant.setting)}, true), '')::uuid\n"
        "$fn$;\n"
    )


def lookup_sql(entity: Entity, graph: EntityGraph) -> str:
    """``fn_<entity>_pk(reference)``: the key of the row a UUID or identifier names, or NULL.

    With tenancy, only the caller's tenant's rows are found (for every role, RLS or not); a
    reference matching several rows names none.
    """
    by_identifier = "identifier = reference" if entity.has_identifier else "false"
    scope = ""
    if graph.tenant is not None:
        if entity.is_tenant:
            scope = f"\n      AND {entity.pk} = {caller_tenant_function(graph)}()"
        else:
            key = entity.tenant_key
            assert key is not None
            scope = f"\n      AND {key.column} = {caller_tenant_function(graph)}()"
    return (
        f"CREATE OR REPLACE FUNCTION fn_{entity.name}_pk(reference text) RETURNS integer\n"
        "LANGUAGE sql STABLE AS $fn$\n"
        f"    SELECT CASE WHEN count(*) = 1 THEN min({entity.pk}) END FROM {entity.table}\n"
        "    WHERE CASE\n"
        f"        WHEN reference ~* {literal(_UUID_PATTERN)} THEN id = reference::uuid\n"
        f"        ELSE {by_identifier}\n"
        f"    END{scope}\n"
        "$fn$;\n"
    )


def check_variables(entity: Entity) -> None:
    """Columns the functions' variables would shadow (``input``, ``v_*``) are errors."""
    for column in entity.columns:
        if column.name == "input" or column.name.startswith("v_"):
            raise DDLDefinitionError(
                f"{entity.type_model.cls.__qualname__}.{column.name}: the generated functions "
                "name their argument input and their variables v_*; rename the field"
            )
