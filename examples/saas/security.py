"""The SaaS example's database security: two roles, grants, and a policy on every table.

``security_sql()`` becomes ``db/schema/50_security/01_security.sql`` (generated, see
``examples/saas/database.py``), built after the tables, read models and functions:

- ``saas_app``: the role every request runs as (``SessionSettings(role=...)``). It cannot log
  in, is not a superuser, has no BYPASSRLS and owns nothing. It reads the tables and views and
  writes what the mutation functions write (they run as the caller, so under its policies),
  but it cannot read ``tb_member.password_hash`` (column privileges).
- ``saas_auth``: the owner of the two SECURITY DEFINER lookups that must work before a tenant
  is known (login, and finding an invitation's organisation from its token). It owns nothing
  else, cannot log in, has no BYPASSRLS: it reads ``tb_organisation``, ``tb_member`` and
  ``tb_invitation`` through SELECT policies written for it alone.
- Every ``tb_*`` and ``tv_*`` has RLS enabled and forced. ``tb_organisation`` and the read
  models are keyed on the ``app.tenant_id`` claim; the other write tables follow their
  ``fk_organisation`` (a row is visible when its organisation is: a policy's subquery is itself
  filtered by the policies of the table it reads).
- Role-specific policies repeat the rules of the mutation functions for SQL that bypasses them:
  only an owner or an admin writes invoices and their lines (``fn_caller_at_least('admin')``,
  the member's role read from ``tb_member``); invitations are visible to owners and admins,
  and to the holder of the invitation's token (the ``app.invitation_token_hash`` claim that
  the accept route sets).
- The ``v_*`` views are ``security_invoker`` (PostgreSQL 15+), so that a sync function run by a
  request reads the write tables as the request's role.

The loader must be a superuser (it creates roles and changes function owners; RLS is forced,
so a non-superuser owner would need BYPASSRLS to seed). Without a tenant claim the
application role sees no rows at all.
"""

from __future__ import annotations

from fraiseql.security.rls import tenant_policy_sql
from fraiseql.sql.identifiers import quote_identifier

APP_ROLE = "saas_app"
"""The role the example's requests run as."""

AUTH_ROLE = "saas_auth"
"""The owner of the SECURITY DEFINER lookups of login and invitations."""

TENANT_SETTING = "app.tenant_id"
"""The claim the policies read: the id of the caller's organisation."""

USER_SETTING = "app.user_id"
"""The claim the functions read: the id of the member acting."""

INVITATION_SETTING = "app.invitation_token_hash"
"""The claim of the accept route: the SHA-256 of the invitation token being accepted."""

ENTITIES = ("organisation", "member", "project", "invoice", "invitation")
READ_MODELS = tuple(f"tv_{entity}" for entity in ENTITIES)
WRITE_TABLES = (
    "tb_organisation",
    "tb_member",
    "tb_project",
    "tb_invoice",
    "tb_invoice_line",
    "tb_invitation",
)
VIEWS = (*(f"v_tv_{entity}" for entity in ENTITIES), "v_invoice_amount")
DEFINER_FUNCTIONS = (
    "fn_login_lookup(text, text)",
    "fn_invitation_organisation(text)",
)

_MEMBER_READABLE = "pk_member, id, identifier, fk_organisation, name, email, role, created_at"

_ROLES = "".join(
    f"""
DO $$
BEGIN
    CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
EXCEPTION
    -- Another loader created it first (roles are shared by the server's databases).
    WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
"""
    for role in (APP_ROLE, AUTH_ROLE)
)

_GRANTS = f"""
GRANT USAGE ON SCHEMA public TO {APP_ROLE}, {AUTH_ROLE};
GRANT SELECT ON tb_organisation, tb_project, tb_invoice, tb_invoice_line, tb_invitation,
    {", ".join(READ_MODELS)}, {", ".join(VIEWS)} TO {APP_ROLE};
GRANT SELECT ({_MEMBER_READABLE}) ON tb_member TO {APP_ROLE};
GRANT INSERT, DELETE ON {", ".join(WRITE_TABLES)} TO {APP_ROLE};
GRANT UPDATE ON tb_organisation, tb_project, tb_invoice, tb_invoice_line, tb_invitation
    TO {APP_ROLE};
GRANT UPDATE (name, role) ON tb_member TO {APP_ROLE};
GRANT INSERT, UPDATE, DELETE ON {", ".join(READ_MODELS)} TO {APP_ROLE};
GRANT SELECT ON tb_organisation, tb_member, tb_invitation TO {AUTH_ROLE};
""" + "".join(
    f"ALTER FUNCTION {function} OWNER TO {AUTH_ROLE};\n"
    f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC;\n"
    f"GRANT EXECUTE ON FUNCTION {function} TO {APP_ROLE};\n"
    for function in DEFINER_FUNCTIONS
)

_INVOKER_VIEWS = (
    "DO $$\nBEGIN\n"
    "    IF current_setting('server_version_num')::integer >= 150000 THEN\n"
    + "".join(f"        ALTER VIEW {view} SET (security_invoker = true);\n" for view in VIEWS)
    + "    END IF;\nEND $$;\n"
)

_IN_TENANT = "fk_organisation IN (SELECT pk_organisation FROM tb_organisation)"
_ADMIN = "fn_caller_at_least('admin')"
_TOKEN_HOLDER = f"token_hash = current_setting('{INVITATION_SETTING}', true)"


def _policies(table: str, *policies: tuple[str, str, str | None, str | None]) -> str:
    """Force RLS on ``table`` and (re)create ``(name, command, using, check)`` policies."""
    name = quote_identifier(table)
    lines = [
        f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;",
        f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY;",
    ]
    for policy, command, using, check in policies:
        lines.append(f"DROP POLICY IF EXISTS {policy} ON {name};")
        statement = f"CREATE POLICY {policy} ON {name} FOR {command} TO {APP_ROLE}"
        if using is not None:
            statement += f"\n    USING ({using})"
        if check is not None:
            statement += f"\n    WITH CHECK ({check})"
        lines.append(statement + ";")
    return "\n".join(lines) + "\n"


def _auth_lookup(table: str) -> str:
    name = quote_identifier(table)
    return (
        f"DROP POLICY IF EXISTS auth_lookup ON {name};\n"
        f"CREATE POLICY auth_lookup ON {name} FOR SELECT TO {AUTH_ROLE} USING (true);\n"
    )


def _admin_writes(table: str) -> str:
    """Tenant-wide reads; writes by owners and admins only."""
    admin = f"{_IN_TENANT} AND {_ADMIN}"
    return _policies(
        table,
        ("tenant_read", "SELECT", _IN_TENANT, None),
        ("admin_insert", "INSERT", None, admin),
        ("admin_update", "UPDATE", admin, admin),
        ("admin_delete", "DELETE", admin, None),
    )


def security_sql() -> str:
    """The SQL creating the roles, the grants, the policies and the invoker views."""
    invitation = f"{_IN_TENANT} AND ({_ADMIN} OR {_TOKEN_HOLDER})"
    tv_invitation = (
        f"tenant_id = fn_claim_uuid('{TENANT_SETTING}') AND "
        f"({_ADMIN} OR id IN (SELECT id FROM tb_invitation))"
    )
    parts = [
        _ROLES,
        _GRANTS,
        tenant_policy_sql("tb_organisation", tenant_column="id", setting=TENANT_SETTING),
        _policies("tb_member", ("tenant_isolation", "ALL", _IN_TENANT, _IN_TENANT)),
        _policies("tb_project", ("tenant_isolation", "ALL", _IN_TENANT, _IN_TENANT)),
        _admin_writes("tb_invoice"),
        _admin_writes("tb_invoice_line"),
        _policies("tb_invitation", ("invitation_access", "ALL", invitation, invitation)),
        *(
            tenant_policy_sql(table, tenant_column="tenant_id", setting=TENANT_SETTING)
            for table in READ_MODELS
            if table != "tv_invitation"
        ),
        _policies("tv_invitation", ("invitation_access", "ALL", tv_invitation, tv_invitation)),
        *(_auth_lookup(table) for table in ("tb_organisation", "tb_member", "tb_invitation")),
        _INVOKER_VIEWS,
    ]
    return "\n".join(parts)


if __name__ == "__main__":
    print(security_sql())
