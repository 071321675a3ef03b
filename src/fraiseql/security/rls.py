"""Row-level-security helpers: tenant policies, and the startup check behind ``require_rls``."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from fraiseql.sql.identifiers import quote_identifier, quote_literal, quote_qualified


class RLSConfigurationError(RuntimeError):
    """The database does not enforce row-level security the way the schema requires."""


def tenant_policy_sql(
    table: str,
    *,
    tenant_column: str = "tenant_id",
    setting: str = "app.tenant_id",
    policy: str = "tenant_isolation",
    column_type: str = "uuid",
) -> str:
    """SQL that enables and forces RLS on ``table`` with a policy keyed on the tenant claim.

    Rows are visible and writable only when their ``tenant_column`` equals the request's
    ``setting`` (set by :class:`fraiseql.SessionSettings`); without a claim nothing is visible.
    Running it again replaces the policy.
    """
    name = quote_qualified(table)
    claim = f"nullif(current_setting({quote_literal(setting)}, true), '')::{column_type}"
    condition = f"{quote_identifier(tenant_column)} = {claim}"
    return (
        f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;\n"
        f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY;\n"
        f"DROP POLICY IF EXISTS {quote_identifier(policy)} ON {name};\n"
        f"CREATE POLICY {quote_identifier(policy)} ON {name}\n"
        f"    USING ({condition})\n"
        f"    WITH CHECK ({condition});\n"
    )


_RELATIONS = """
SELECT c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity,
       pg_get_userbyid(c.relowner) AS owner,
       coalesce('security_invoker=true' = ANY (c.reloptions)
                OR 'security_invoker=on' = ANY (c.reloptions), false) AS invoker
FROM pg_class c
WHERE c.oid = to_regclass($1)
"""

_ROLE = "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1"


async def rls_problems(
    connection: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy,
    relations: Iterable[str],
    role: str,
) -> list[str]:
    """What keeps ``role`` from being confined by RLS on ``relations`` (empty when all is well).

    Tables must have RLS enabled and forced and not be owned by the role; views must be
    ``security_invoker`` (their tables are checked by PostgreSQL as the caller); the role must
    not be a superuser nor have BYPASSRLS.
    """
    problems: list[str] = []
    role_row = await connection.fetchrow(_ROLE, role)
    if role_row is None:
        return [f"role {role!r} does not exist"]
    if role_row["rolsuper"]:
        problems.append(f"role {role!r} is a superuser: RLS does not apply to it")
    if role_row["rolbypassrls"]:
        problems.append(f"role {role!r} has BYPASSRLS")
    for relation in relations:
        row = await connection.fetchrow(_RELATIONS, relation)
        if row is None:
            problems.append(f"{relation} does not exist")
            continue
        if row["owner"] == role:
            problems.append(f"{relation} is owned by {role!r}: owners bypass RLS unless forced")
        if row["relkind"] == "v":
            if not row["invoker"]:
                problems.append(f"view {relation} is not security_invoker")
            continue
        if not row["relrowsecurity"]:
            problems.append(f"{relation} does not have row level security enabled")
        if not row["relforcerowsecurity"]:
            problems.append(f"{relation} does not force row level security")
    return problems
