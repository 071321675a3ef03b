"""Role checks, twice: ``requires=`` in the GraphQL layer, and the SQL functions and policies.

A member may not create an invoice: GraphQL refuses before any SQL runs, and SQL run as the
request role with the member's claims (bypassing GraphQL) is refused by the function and,
for a raw INSERT, by the invoice table's policy.
"""

from __future__ import annotations

import asyncpg
import pytest
from examples.saas.database import seed_uuid

from .conftest import Client, as_caller, token_for

CREATE = """mutation { createInvoice(input: {identifier: "inv-x", project: "website",
  customer: "X", lines: [{description: "a", quantity: "1", unitPrice: "1"}]}) {
  status errors { code } } }"""


async def _count(dsn: str, table: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await connection.close()


async def test_a_member_cannot_create_an_invoice_through_graphql(
    client: Client, saas_db: str
) -> None:
    before = await _count(saas_db, "tb_invoice")
    response = await client.graphql(CREATE, caller=("acme", "carol"))
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["path"] == ["createInvoice"]
    assert await _count(saas_db, "tb_invoice") == before


async def test_a_member_cannot_create_an_invoice_in_sql(saas_db: str) -> None:
    async with as_caller(saas_db, "acme", "carol") as connection:
        row = await connection.fetchrow(
            "SELECT status, message FROM fn_create_invoice($1::jsonb)",
            '{"identifier": "inv-x", "project": "website", "customer": "X", "lines": []}',
        )
        assert row["status"] == "forbidden"
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            await connection.execute(
                "INSERT INTO tb_invoice (identifier, fk_organisation, fk_project, customer)"
                " SELECT 'inv-raw', fk_organisation, pk_project, 'X' FROM tb_project"
                " WHERE identifier = 'website'"
            )
    async with as_caller(saas_db, "acme", "carol") as connection:
        # Updates and deletes of the policy-protected rows affect nothing.
        assert await connection.execute("UPDATE tb_invoice SET customer = 'Y'") == "UPDATE 0"
        assert await connection.execute("DELETE FROM tb_invoice_line") == "DELETE 0"
        # Reading stays allowed to members.
        assert await connection.fetchval("SELECT count(*) FROM tb_invoice") == 3
    async with as_caller(saas_db, "acme", "bob") as connection:
        row = await connection.fetchrow(
            "SELECT status FROM fn_create_invoice($1::jsonb)",
            '{"identifier": "inv-x", "project": "website", "customer": "X",'
            ' "lines": [{"description": "a", "quantity": 1, "unit_price": "2.50"}]}',
        )
        assert row["status"] == "success"


async def test_the_database_checks_the_current_role_not_the_token(client: Client) -> None:
    # carol's token claims admin: requires= lets the request through; SQL reads her real role.
    token = token_for(client.key, "acme", "carol", role="admin")
    response = await client.graphql(CREATE, token=token)
    assert response.json() == {
        "data": {"createInvoice": {"status": "FORBIDDEN", "errors": [{"code": "forbidden"}]}}
    }


async def test_a_removed_member_can_no_longer_write(client: Client) -> None:
    removed = await client.data(
        'mutation { removeMember(input: {member: "bob"}) { status } }', ("acme", "alice")
    )
    assert removed["removeMember"]["status"] == "SUCCESS"
    response = await client.graphql(CREATE, caller=("acme", "bob"))
    assert response.json()["data"]["createInvoice"]["status"] == "FORBIDDEN"


async def test_only_the_owner_deletes_the_organisation(client: Client, saas_db: str) -> None:
    mutation = 'mutation { deleteOrganisation(input: {organisation: "acme"}) { status } }'
    refused = await client.graphql(mutation, caller=("acme", "bob"))
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    async with as_caller(saas_db, "acme", "bob") as connection:
        status = await connection.fetchval(
            'SELECT status FROM fn_delete_organisation(\'{"organisation": "acme"}\')'
        )
        assert status == "forbidden"
    stale = token_for(client.key, "acme", "bob", role="owner")
    response = await client.graphql(mutation, token=stale)
    assert response.json() == {"data": {"deleteOrganisation": {"status": "FORBIDDEN"}}}
    assert await _count(saas_db, "tb_organisation") == 3


async def test_only_owners_and_admins_invite_and_see_invitations(
    client: Client, saas_db: str
) -> None:
    invite = 'mutation { inviteMember(input: {email: "x@acme.example"}) { token } }'
    refused = await client.graphql(invite, caller=("acme", "carol"))
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    listing = await client.graphql("{ invitations { email } }", caller=("acme", "carol"))
    assert listing.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    async with as_caller(saas_db, "acme", "carol") as connection:
        # Without GraphQL: the function refuses, and the policies hide every invitation.
        status = await connection.fetchval(
            "SELECT status FROM fn_invite_member($1::jsonb)",
            '{"email": "x@acme.example", "token_hash": "' + "0" * 64 + '"}',
        )
        assert status == "forbidden"
        assert await connection.fetchval("SELECT count(*) FROM tb_invitation") == 0
        assert await connection.fetchval("SELECT count(*) FROM tv_invitation") == 0
    # An admin may not invite an owner; an owner may.
    owner_invite = (
        'mutation { inviteMember(input: {email: "o@acme.example", role: OWNER}) { token } }'
    )
    by_admin = await client.graphql(owner_invite, caller=("acme", "bob"))
    assert by_admin.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    by_owner = await client.data(owner_invite, ("acme", "alice"))
    assert by_owner["inviteMember"]["token"]


async def test_members_emails_are_for_owners_and_admins(client: Client) -> None:
    query = '{ member(identifier: "alice") { identifier email } }'
    as_admin = await client.data(query, ("acme", "bob"))
    assert as_admin["member"] == {"identifier": "alice", "email": "alice@acme.example"}
    as_member = (await client.graphql(query, caller=("acme", "carol"))).json()
    assert as_member["data"] == {"member": {"identifier": "alice", "email": None}}
    assert as_member["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert as_member["errors"][0]["path"] == ["member", "email"]


async def test_members_rename_themselves_but_not_others(client: Client) -> None:
    own = await client.data(
        'mutation { updateMember(input: {member: "carol", name: "Carol"}) { status } }',
        ("acme", "carol"),
    )
    assert own["updateMember"]["status"] == "SUCCESS"
    other = await client.data(
        'mutation { updateMember(input: {member: "bob", name: "Robert"}) { status } }',
        ("acme", "carol"),
    )
    assert other["updateMember"]["status"] == "FORBIDDEN"
    promote = await client.data(
        'mutation { updateMember(input: {member: "carol", role: OWNER}) { status } }',
        ("acme", "bob"),
    )
    assert promote["updateMember"]["status"] == "FORBIDDEN"


async def test_the_request_role_cannot_read_password_hashes(saas_db: str) -> None:
    async with as_caller(saas_db, "acme", "alice") as connection:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with connection.transaction():  # a savepoint: the test goes on after it
                await connection.fetch("SELECT password_hash FROM tb_member")
        assert await connection.fetchval(
            "SELECT id FROM tb_member WHERE identifier = 'alice'"
        ) == seed_uuid("member", "acme", "alice")
