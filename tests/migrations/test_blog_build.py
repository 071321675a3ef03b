"""The blog example built by Confiture: the same catalog as loading its files directly."""

from __future__ import annotations

import time

import asyncpg
from examples.blog.database import (
    GENERATED_FILES,
    SCHEMA_DIR,
    SCHEMA_FILES,
    generated_files,
    load_schema,
)
from examples.blog.security import security_sql
from tests.conftest import temporary_database

from fraiseql.db.commands import CONTRACT_SQL
from fraiseql.migrations import diff, schema_files

CATALOG = {
    "tables": """
        SELECT table_name || ' ' || table_type FROM information_schema.tables
        WHERE table_schema = 'public' AND table_name NOT LIKE 'tb\\_confiture%' ORDER BY 1""",
    "columns": """
        SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable
               || ' ' || coalesce(column_default, '')
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name NOT LIKE 'tb\\_confiture%' ORDER BY 1""",
    "functions": """
        SELECT p.oid::regprocedure::text || ' ' || md5(p.prosrc)
               || ' ' || coalesce(array_to_string(p.proconfig, ','), '')
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
        ORDER BY 1""",
    "policies": """
        SELECT tablename || ' ' || policyname || ' ' || coalesce(qual, '') || ' '
               || coalesce(with_check, '') || ' ' || array_to_string(roles, ',')
        FROM pg_policies WHERE schemaname = 'public' ORDER BY 1""",
    "rls": """
        SELECT relname || ' ' || relrowsecurity || ' ' || relforcerowsecurity
        FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
          AND relname NOT LIKE 'tb\\_confiture%' ORDER BY 1""",
    "indexes": """
        SELECT indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename NOT LIKE 'tb\\_confiture%' ORDER BY 1""",
    "constraints": """
        SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace
          AND conrelid::regclass::text NOT LIKE 'tb\\_confiture%' ORDER BY 1""",
    "grants": """
        SELECT table_name || ' ' || privilege_type FROM information_schema.role_table_grants
        WHERE grantee = 'blog_app' ORDER BY 1""",
    "view_options": """
        SELECT relname || ' ' || coalesce(array_to_string(reloptions, ','), '')
        FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'v' ORDER BY 1""",
}


async def _catalog(dsn: str) -> dict[str, list[str]]:
    connection = await asyncpg.connect(dsn)
    try:
        return {name: [r[0] for r in await connection.fetch(sql)] for name, sql in CATALOG.items()}
    finally:
        await connection.close()


async def _old_loader(dsn: str) -> None:
    """What load_schema did before Confiture: CONTRACT_SQL, the files, security_sql(), one
    transaction."""
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL client_min_messages = warning")
            await connection.execute(CONTRACT_SQL)
            # The contract and the security file came as CONTRACT_SQL and security_sql().
            separate = {SCHEMA_DIR / "00_common" / "02_fraiseql_contract.sql"} | {
                path for path in GENERATED_FILES if path.parent.name == "50_security"
            }
            for path in SCHEMA_FILES:
                if path not in separate:
                    await connection.execute(path.read_text(encoding="utf-8"))
            await connection.execute(security_sql())
    finally:
        await connection.close()


def test_generated_files_are_current() -> None:
    """The contract, sync and security files equal what they are generated from (not stale)."""
    expected = generated_files()
    assert set(expected) == set(GENERATED_FILES)
    for path, text in expected.items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path} is stale: python -m examples.blog.database --write-generated"
        )
    contract = SCHEMA_DIR / "00_common" / "02_fraiseql_contract.sql"
    assert contract.read_text(encoding="utf-8").endswith(CONTRACT_SQL.lstrip("\n"))


def test_schema_files_are_confiture_build_order() -> None:
    assert list(SCHEMA_FILES) == schema_files(SCHEMA_DIR)
    assert SCHEMA_FILES[0].parent.name == "00_common"


async def test_confiture_build_matches_the_old_loader(server_dsn: str) -> None:
    async with (
        temporary_database(server_dsn) as built,
        temporary_database(server_dsn) as loaded,
    ):
        started = time.perf_counter()
        result = await load_schema(built)
        elapsed = time.perf_counter() - started
        print(
            f"\nblog schema built by Confiture in {elapsed:.3f} s ({result.seconds:.3f} s in build)"
        )
        await _old_loader(loaded)
        new, old = await _catalog(built), await _catalog(loaded)
        for name in CATALOG:
            assert new[name] == old[name], name
        assert len(new["tables"]) >= 12 and len(new["policies"]) == 8
        # the declared tree and the built database agree (Confiture's drift detector)
        assert diff(built, schema_dir=SCHEMA_DIR).in_sync
        assert result.files == len(SCHEMA_FILES)
        assert elapsed < 5  # the issue promises under a second; measured in the report
