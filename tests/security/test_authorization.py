"""Field-, type- and root-level authorization checks inside the one execution path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import fraiseql
from fraiseql import Schema
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.types.scalars import UUID, EmailAddress

CALLS: list[str] = []


def is_admin(context: dict[str, Any]) -> bool:
    return context.get("role") == "admin"


def explodes(context: dict[str, Any]) -> bool:
    raise RuntimeError("the policy service is down")


@fraiseql.type(requires=is_admin)
class SecretOrganisation:
    id: UUID
    name: str


@fraiseql.type(sql_source="tv_user")
class Member:
    id: UUID
    name: str
    email: EmailAddress | None = fraiseql.field(requires=is_admin)
    organisation: SecretOrganisation | None
    role: str | None = fraiseql.field(requires=explodes)

    @fraiseql.field(requires=is_admin)
    def audit_note(self) -> str | None:
        CALLS.append(self.name)
        return f"audited {self.name}"


@fraiseql.query
async def members(info, limit: int | None = None) -> list[Member]: ...


@fraiseql.query(requires=is_admin)
async def admin_members(info, limit: int | None = None) -> list[Member]: ...


@pytest.fixture(scope="module")
async def observed(blog_database: str) -> AsyncIterator[tuple[Schema, list[str]]]:
    statements: list[str] = []
    database = Database(PoolSettings(dsn=blog_database), observe_statements=True)
    database.statement_observers.append(statements.append)
    schema = Schema(types=[Member], queries=[members, admin_members], database=database)
    await schema.open()
    yield schema, statements
    await schema.close()


async def test_admins_see_everything(observed: tuple[Schema, list[str]]) -> None:
    schema, _ = observed
    result = await schema.run(
        "{ members(limit: 2) { name email organisation { name } auditNote } }",
        context={"role": "admin"},
    )
    assert "errors" not in result
    assert all(m["email"] and m["organisation"]["name"] for m in result["data"]["members"])
    assert all(m["auditNote"].startswith("audited") for m in result["data"]["members"])


async def test_denied_fields_are_null_with_forbidden_errors_and_resolvers_do_not_run(
    observed: tuple[Schema, list[str]],
) -> None:
    schema, _ = observed
    CALLS.clear()
    result = await schema.run(
        "{ members(limit: 2) { name mail: email organisation { name } auditNote } }",
        context={"role": "reader"},
    )
    members = result["data"]["members"]
    assert [set(m) for m in members] == [{"name", "mail", "organisation", "auditNote"}] * 2
    assert all(m["mail"] is None and m["organisation"] is None for m in members)
    assert all(m["name"] for m in members)
    assert CALLS == []
    paths = sorted(tuple(e["path"]) for e in result["errors"])
    assert paths == sorted(
        ("members", i, key) for i in (0, 1) for key in ("mail", "organisation", "auditNote")
    )
    assert {e["extensions"]["code"] for e in result["errors"]} == {"FORBIDDEN"}
    assert (
        "Member.email" in result["errors"][0]["message"]
        or "Member." in result["errors"][0]["message"]
    )


async def test_a_denied_root_field_runs_no_sql(observed: tuple[Schema, list[str]]) -> None:
    schema, statements = observed
    statements.clear()
    result = await schema.run("{ adminMembers(limit: 1) { name } }", context={"role": "reader"})
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert result["errors"][0]["path"] == ["adminMembers"]
    assert statements == []


async def test_a_failing_check_denies(observed: tuple[Schema, list[str]]) -> None:
    schema, _ = observed
    result = await schema.run("{ members(limit: 1) { name role } }", context={"role": "admin"})
    assert result["data"]["members"][0]["role"] is None
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "policy service" not in result["errors"][0]["message"]


async def test_unguarded_selections_take_the_fast_path(observed: tuple[Schema, list[str]]) -> None:
    schema, _ = observed
    result = await schema.run("{ members(limit: 3) { id name } }", context={})
    assert "errors" not in result
    assert len(result["data"]["members"]) == 3
