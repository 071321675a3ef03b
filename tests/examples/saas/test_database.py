"""The SaaS example's schema: generated files current, RLS forced everywhere, roles confined."""

from __future__ import annotations

import asyncpg
from examples.saas.database import SCHEMA_FILES, generated_files, seed
from examples.saas.security import APP_ROLE, AUTH_ROLE, READ_MODELS, WRITE_TABLES

from fraiseql.security.rls import rls_problems


def test_the_generated_sql_files_are_current() -> None:
    for path, text in generated_files().items():
        assert path in SCHEMA_FILES
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is stale: run python -m examples.saas.database --write-generated"
        )


async def test_every_table_forces_rls_on_a_confined_role(saas_schema_dsn: str) -> None:
    connection = await asyncpg.connect(saas_schema_dsn)
    try:
        tables = await connection.fetch(
            "SELECT relname, relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner) AS owner"
            " FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
            " AND (relname LIKE 'tb\\_%' OR relname LIKE 'tv\\_%')"
        )
        # Confiture's own bookkeeping (tb_confiture*) is no example table: the request role
        # has no privilege on it at all.
        tool = [t["relname"] for t in tables if t["relname"].startswith("tb_confiture")]
        for name in tool:
            assert not await connection.fetchval(
                "SELECT has_table_privilege($1, $2, 'SELECT, INSERT, UPDATE, DELETE')",
                APP_ROLE,
                name,
            )
        tables = [t for t in tables if t["relname"] not in tool]
        assert {t["relname"] for t in tables} == set(WRITE_TABLES) | set(READ_MODELS)
        for table in tables:
            assert table["relrowsecurity"] and table["relforcerowsecurity"], table["relname"]
            assert table["owner"] not in (APP_ROLE, AUTH_ROLE)
        assert await rls_problems(connection, [t["relname"] for t in tables], APP_ROLE) == []
        roles = await connection.fetch(
            "SELECT rolname, rolsuper, rolbypassrls, rolcanlogin FROM pg_roles"
            " WHERE rolname = ANY($1)",
            [APP_ROLE, AUTH_ROLE],
        )
        assert len(roles) == 2
        assert not any(r["rolsuper"] or r["rolbypassrls"] or r["rolcanlogin"] for r in roles)
        owned = await connection.fetch(
            "SELECT p.proname, p.prosecdef, has_function_privilege('public', p.oid, 'EXECUTE')"
            " AS public_may FROM pg_proc p WHERE pg_get_userbyid(p.proowner) = $1",
            AUTH_ROLE,
        )
        assert {(r["proname"], r["prosecdef"], r["public_may"]) for r in owned} == {
            ("fn_login_lookup", True, False),
            ("fn_invitation_organisation", True, False),
        }
        # The request role owns nothing at all.
        assert not await connection.fetchval(
            "SELECT count(*) FROM pg_class WHERE pg_get_userbyid(relowner) = $1", APP_ROLE
        )
    finally:
        await connection.close()


async def test_without_claims_the_request_role_sees_nothing(saas_db: str) -> None:
    connection = await asyncpg.connect(saas_db)
    try:
        async with connection.transaction():
            await connection.execute(f"SET LOCAL ROLE {APP_ROLE}")
            for table in (*WRITE_TABLES, *READ_MODELS):
                column = "pk_member" if table == "tb_member" else "1"
                assert await connection.fetchval(f"SELECT count({column}) FROM {table}") == 0
    finally:
        await connection.close()


async def test_the_seed_is_deterministic(saas_db: str) -> None:
    async def dump() -> list[str]:
        connection = await asyncpg.connect(saas_db)
        try:
            rows = []
            for table in (*WRITE_TABLES, *READ_MODELS):
                rows += [
                    r[0]
                    for r in await connection.fetch(
                        f"SELECT to_jsonb(t)::text FROM {table} t ORDER BY 1"
                    )
                ]
            return rows
        finally:
            await connection.close()

    first = await dump()
    await seed(saas_db)
    assert await dump() == first
