"""The example's database security: an application role and tenant policies on every table.

``security_sql()`` is run by ``load_schema`` after the tables, read models and functions:

- ``blog_app``: the role requests run as (``SET LOCAL ROLE`` through ``SessionSettings``). It
  cannot log in, is not a superuser, has no BYPASSRLS and owns nothing; it may read the tables
  and views and write what the mutation functions write (the functions run as the caller, so
  their reads and writes are confined too). Roles belong to the server, not to one database:
  it is created once and granted in each database the example is loaded into.
- Tenant policies keyed on the organisation, from :func:`fraiseql.security.rls.tenant_policy_sql`:
  on ``tb_organisation`` (its own ``id``) and on the read models (their ``tenant_id``). The
  write tables ``tb_user``, ``tb_post`` and ``tb_comment`` carry the organisation's integer key
  ``fk_organisation``, not its id; their policies follow that key instead (a row is visible
  when its organisation is), since a policy's subquery is itself filtered by the policies of the
  table it reads. Composite foreign keys keep a post's ``fk_organisation`` equal to its
  author's and a comment's to its post's and its author's (foreign-key checks ignore RLS).
- RLS is forced, so it would apply to the tables' owner too; the loader and the test suite
  connect as a superuser, to which RLS never applies (loading the example as a non-superuser
  owner needs the BYPASSRLS attribute).
- The ``v_tv_*`` views become ``security_invoker`` (PostgreSQL 15+), so that a sync function
  run by a request reads the write tables as the request's role.

Without an ``app.tenant_id`` claim, the role sees no rows at all.
"""

from __future__ import annotations

from fraiseql.security.rls import tenant_policy_sql
from fraiseql.sql.identifiers import quote_identifier

APP_ROLE = "blog_app"
"""The role the example's requests run as."""

TENANT_SETTING = "app.tenant_id"
"""The claim the policies read: the id of the caller's organisation."""

READ_MODELS = ("tv_organisation", "tv_user", "tv_post", "tv_comment")
VIEWS = ("v_tv_organisation", "v_tv_user", "v_tv_post", "v_tv_comment")

_ROLE = f"""
DO $$
BEGIN
    CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
EXCEPTION
    -- Another loader created it first (roles are shared by the server's databases).
    WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
"""

_GRANTS = f"""
GRANT USAGE ON SCHEMA public TO {APP_ROLE};
GRANT SELECT ON tb_organisation, tb_user, tb_comment, {", ".join(READ_MODELS)} TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON tb_post TO {APP_ROLE};
GRANT INSERT, UPDATE, DELETE ON tv_post, tv_comment TO {APP_ROLE};
GRANT SELECT ON {", ".join(VIEWS)} TO {APP_ROLE};
"""

_INVOKER_VIEWS = (
    "DO $$\nBEGIN\n"
    "    IF current_setting('server_version_num')::integer >= 150000 THEN\n"
    + "".join(f"        ALTER VIEW {view} SET (security_invoker = true);\n" for view in VIEWS)
    + "    END IF;\nEND $$;\n"
)

# (table, foreign key, referenced table, referenced key): the row is visible when its parent is.
_FOLLOWED = (
    ("tb_user", "fk_organisation", "tb_organisation", "pk_organisation"),
    ("tb_post", "fk_organisation", "tb_organisation", "pk_organisation"),
    ("tb_comment", "fk_organisation", "tb_organisation", "pk_organisation"),
)


def _followed_policy(table: str, column: str, parent: str, key: str) -> str:
    condition = (
        f"{quote_identifier(column)} IN "
        f"(SELECT {quote_identifier(key)} FROM {quote_identifier(parent)})"
    )
    name = quote_identifier(table)
    return (
        f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;\n"
        f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY;\n"
        f"DROP POLICY IF EXISTS tenant_isolation ON {name};\n"
        f"CREATE POLICY tenant_isolation ON {name}\n"
        f"    USING ({condition})\n"
        f"    WITH CHECK ({condition});\n"
    )


def security_sql() -> str:
    """The SQL creating the role, the grants, the policies and the invoker views."""
    policies = [tenant_policy_sql("tb_organisation", tenant_column="id", setting=TENANT_SETTING)]
    policies += [_followed_policy(*followed) for followed in _FOLLOWED]
    policies += [
        tenant_policy_sql(table, tenant_column="tenant_id", setting=TENANT_SETTING)
        for table in READ_MODELS
    ]
    return "\n".join([_ROLE, _GRANTS, *policies, _INVOKER_VIEWS])


if __name__ == "__main__":
    print(security_sql())
