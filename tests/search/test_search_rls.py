"""A search under row-level security: the policy, ``where`` and the search in one statement."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest
from tests.conftest import temporary_database

from fraiseql import SessionSettings

from .conftest import Observed, oracle
from .library import load

POLICY = """
ALTER TABLE tv_doc ENABLE ROW LEVEL SECURITY;
ALTER TABLE tv_doc FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tv_doc
    USING (data->>'tenant' = current_setting('app.tenant', true));
"""
QUERY = (
    "query($s: SearchInput, $w: DocWhereInput) "
    "{ docs(search: $s, where: $w, limit: 100) { identifier tenant } }"
)


@pytest.fixture(scope="module")
async def secured(server_dsn: str) -> AsyncIterator[tuple[Observed, str]]:
    role = f"fraiseql_search_{secrets.token_hex(4)}"
    async with temporary_database(server_dsn) as dsn:
        await load(dsn)
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(f'CREATE ROLE "{role}" NOLOGIN NOSUPERUSER NOBYPASSRLS')
            await connection.execute(f'GRANT SELECT ON tv_doc, tv_note TO "{role}"')
            await connection.execute(POLICY)
        finally:
            await connection.close()
        session = SessionSettings(
            role=role, claims=lambda context: {"app.tenant": context.get("tenant")}
        )
        observed = Observed(dsn, session=session)
        await observed.schema.open()
        try:
            yield observed, dsn
        finally:
            await observed.schema.close()
            connection = await asyncpg.connect(dsn)
            try:
                await connection.execute(f'DROP OWNED BY "{role}"')
            finally:
                await connection.close()
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await admin.close()


async def test_each_tenant_finds_only_its_rows(secured: tuple[Observed, str]) -> None:
    observed, dsn = secured
    connection = await asyncpg.connect(dsn)  # the owner's (superuser's) view: every row
    try:
        everything = await oracle(connection, "cat or dog")
        for tenant in ("t1", "t2"):
            variables = {"s": {"query": "cat or dog"}, "w": {"kind": {"neq": "news"}}}
            result = await observed.run(QUERY, variables, context={"tenant": tenant})
            expected = await oracle(
                connection,
                "cat or dog",
                where="data->>'tenant' = $2 AND data->>'kind' <> $3",
                args=[tenant, "news"],
            )
            found = result["data"]["docs"]
            assert [doc["identifier"] for doc in found] == expected[:100]
            assert expected and {doc["tenant"] for doc in found} == {tenant}
            assert len(expected) < len(everything)
            [statement] = observed.reads()
            assert "@@ websearch_to_tsquery" in statement and "'kind'" in statement
        nobody = await observed.run(QUERY, {"s": {"query": "cat or dog"}}, context={})
        assert nobody == {"data": {"docs": []}}
    finally:
        await connection.close()
