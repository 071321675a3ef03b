"""Row-level security for tenancy: the application role, its grants, and forced policies.

The tenant's own write table and every read model use
:func:`fraiseql.security.rls.tenant_policy_sql` (their tenant is a UUID column compared with
the claim). The other write tables carry the tenant's integer key ``fk_<tenant>``; their policy
compares it with ``fn_caller_<tenant>_pk()``, the key the claim names. RLS is forced, so the
tables' owner is held to it too; the role owns nothing and has no BYPASSRLS.
"""

from __future__ import annotations

from fraiseql.codegen.lookups import caller_tenant_function
from fraiseql.codegen.model import EntityGraph, TenantOptions, ident
from fraiseql.security.rls import tenant_policy_sql


def role_sql(tenant: TenantOptions) -> str:
    """Create the application role once (roles belong to the server, not to one database)."""
    assert tenant.role is not None
    return (
        "DO $$\nBEGIN\n"
        f"    CREATE ROLE {ident(tenant.role)} "
        "NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;\n"
        "EXCEPTION\n"
        "    -- It exists already (created by another database's load).\n"
        "    WHEN duplicate_object OR unique_violation THEN NULL;\n"
        "END $$;\n"
    )


def grants_sql(graph: EntityGraph, role: str) -> str:
    """What the role may do: read and write the tables, read the views."""
    entities = graph.ordered()
    tables = [e.table for e in entities] + [e.read_model for e in entities]
    views = [e.view for e in entities]
    grantee = ident(role)
    lines = [f"GRANT USAGE ON SCHEMA public TO {grantee};"]
    lines += [f"GRANT SELECT, INSERT, UPDATE, DELETE ON {t} TO {grantee};" for t in tables]
    lines += [f"GRANT SELECT ON {view} TO {grantee};" for view in views]
    return "\n".join(lines) + "\n"


def _keyed_policy(table: str, column: str, function: str) -> str:
    condition = f"{ident(column)} = {function}()"
    return (
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\n"
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY;\n"
        f"DROP POLICY IF EXISTS tenant_isolation ON {table};\n"
        f"CREATE POLICY tenant_isolation ON {table}\n"
        f"    USING ({condition})\n"
        f"    WITH CHECK ({condition});\n"
    )


def policies_sql(graph: EntityGraph) -> str:
    """Forced tenant policies on every write table and read model."""
    tenant = graph.tenant
    assert tenant is not None
    parts = []
    for entity in graph.ordered():
        if entity.is_tenant:
            parts.append(
                tenant_policy_sql(entity.table, tenant_column="id", setting=tenant.setting)
            )
        else:
            key = entity.tenant_key
            assert key is not None
            parts.append(_keyed_policy(entity.table, key.column, caller_tenant_function(graph)))
    for entity in graph.ordered():
        parts.append(
            tenant_policy_sql(
                entity.read_model, tenant_column=tenant.column, setting=tenant.setting
            )
        )
    return "\n".join(parts)
