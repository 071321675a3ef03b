"""The chat example's database security: an application role and tenant policies everywhere.

``security_sql()`` is run by ``load_schema`` after the tables, read models and functions, the
same way as the blog's (``examples/blog/security.py``):

- ``chat_app``: the role requests run as (``SET LOCAL ROLE`` through ``SessionSettings``). It
  cannot log in, is not a superuser, has no BYPASSRLS and owns nothing; it may read the tables
  and views and write what the mutation functions write (the functions run as the caller, so
  their reads and writes are confined too). Roles belong to the server: it is created once and
  granted in each database the example is loaded into.
- Tenant policies keyed on the organisation (the claim ``app.tenant_id``): on
  ``tb_organisation`` (its own ``id``) and on the read models (their ``tenant_id``), from
  :func:`fraiseql.security.rls.tenant_policy_sql`. The other write tables follow their foreign
  keys: a user or a room is visible when its organisation is; a membership, a message or a
  typing row when its room is (a policy's subquery is filtered by the policies of the table it
  reads).
- RLS is forced, so it would apply to the tables' owner too; the loader and the tests connect
  as a superuser, to which RLS never applies.
- The ``v_tv_*`` views become ``security_invoker`` (PostgreSQL 15+), so that a sync function run
  by a request reads the write tables as the request's role.

Without an ``app.tenant_id`` claim, the role sees no rows at all.
"""

from __future__ import annotations

from fraiseql.security.rls import tenant_policy_sql
from fraiseql.sql.identifiers import quote_identifier

APP_ROLE = "chat_app"
"""The role the example's requests run as."""

TENANT_SETTING = "app.tenant_id"
"""The claim the policies read: the id of the caller's organisation."""

USER_SETTING = "app.user_id"
"""The claim the mutation functions read: the id of the user acting."""

ENTITIES = ("organisation", "user", "room", "message", "typing")
READ_MODELS = tuple(f"tv_{entity}" for entity in ENTITIES)
VIEWS = tuple(f"v_tv_{entity}" for entity in ENTITIES)
WRITE_TABLES = (
    "tb_organisation",
    "tb_user",
    "tb_room",
    "tb_room_member",
    "tb_message",
    "tb_typing",
)

_ROLE = f"""
DO $$
BEGIN
    CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
EXCEPTION
    -- Another loader created it first (roles are shared by the server's databases).
    WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
"""

# What the mutation functions write: rooms (create_room, and post_message's message counter),
# memberships, messages, typing rows, and the read models they sync.
_GRANTS = f"""
GRANT USAGE ON SCHEMA public TO {APP_ROLE};
GRANT SELECT ON {", ".join(WRITE_TABLES)}, {", ".join(READ_MODELS)} TO {APP_ROLE};
GRANT SELECT ON {", ".join(VIEWS)} TO {APP_ROLE};
GRANT INSERT, UPDATE ON tb_room, tb_typing TO {APP_ROLE};
GRANT INSERT ON tb_room_member, tb_message TO {APP_ROLE};
GRANT INSERT, UPDATE, DELETE ON tv_room, tv_message, tv_typing TO {APP_ROLE};
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
    ("tb_room", "fk_organisation", "tb_organisation", "pk_organisation"),
    ("tb_room_member", "fk_room", "tb_room", "pk_room"),
    ("tb_message", "fk_room", "tb_room", "pk_room"),
    ("tb_typing", "fk_room", "tb_room", "pk_room"),
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
