"""Invitations: an admin invites an email with a role and gets a one-time token; accepting it
with a password creates the member, once; expired, used and revoked tokens are refused."""

from __future__ import annotations

import asyncpg
from examples.saas.schema import token_hash

from .conftest import Client

BOB = ("acme", "bob")


async def _invite(client: Client, email: str, role: str = "MEMBER") -> dict:
    data = await client.data(
        "mutation($email: EmailAddress!, $role: Role!) {"
        " inviteMember(input: {email: $email, role: $role})"
        " { token invitation { identifier } } }",
        BOB,
        email=email,
        role=role,
    )
    return data["inviteMember"]


async def _accept(client: Client, token: str, identifier: str, password: str = "s3cret-pass"):
    return await client.http.post(
        "/auth/accept-invitation",
        json={
            "token": token,
            "member": {"identifier": identifier, "name": "New"},
            "password": password,
        },
    )


async def test_an_accepted_invitation_creates_the_member_once(client: Client, saas_db: str) -> None:
    ticket = await _invite(client, "nora@acme.example", "ADMIN")
    accepted = await _accept(client, ticket["token"], "nora")
    assert accepted.status_code == 201, accepted.text
    token = accepted.json()["token"]
    me = await client.graphql("{ me { identifier role email organisation { identifier } } }",
                              token=token)  # fmt: skip
    assert me.json() == {
        "data": {"me": {"identifier": "nora", "role": "ADMIN", "email": "nora@acme.example",
                        "organisation": {"identifier": "acme"}}}
    }  # fmt: skip
    login = await client.http.post(
        "/auth/login",
        json={"organisation": "acme", "email": "nora@acme.example", "password": "s3cret-pass"},
    )
    assert login.status_code == 200
    again = await _accept(client, ticket["token"], "nora-again")
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "used"
    listed = await client.data("{ invitations { email acceptedAt } }", BOB)
    nora = next(i for i in listed["invitations"] if i["email"] == "nora@acme.example")
    assert nora["acceptedAt"] is not None
    # Only the token's hash was stored.
    connection = await asyncpg.connect(saas_db)
    try:
        stored = await connection.fetchval(
            "SELECT token_hash FROM tb_invitation WHERE email = 'nora@acme.example'"
        )
    finally:
        await connection.close()
    assert stored == token_hash(ticket["token"]) != ticket["token"]


async def test_an_expired_invitation_is_refused(client: Client) -> None:
    response = await _accept(client, "globex-expired-invitation", "grace")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "expired"


async def test_unknown_and_revoked_tokens_are_refused(client: Client) -> None:
    unknown = await _accept(client, "no-such-token", "someone")
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "not_found"
    ticket = await _invite(client, "olga@acme.example")
    revoked = await client.data(
        "mutation($i: String!) { revokeInvitation(input: {invitation: $i}) { status } }",
        BOB,
        i=ticket["invitation"]["identifier"],
    )
    assert revoked["revokeInvitation"]["status"] == "SUCCESS"
    response = await _accept(client, ticket["token"], "olga")
    assert response.status_code == 400
    assert response.json()["error"] == "not_found"


async def test_the_seeded_invitation_and_bad_inputs(client: Client) -> None:
    weak = await _accept(client, "acme-demo-invitation", "frank", password="short")
    assert weak.status_code == 400
    assert weak.json()["error"] == "invalid_password"
    bad_slug = await _accept(client, "acme-demo-invitation", "Frank!")
    assert bad_slug.status_code == 400
    assert bad_slug.json()["errors"][0]["field"] == "identifier"
    taken = await _accept(client, "acme-demo-invitation", "carol")
    assert taken.status_code == 409
    # None of the refusals used the invitation up.
    accepted = await _accept(client, "acme-demo-invitation", "frank")
    assert accepted.status_code == 201


async def test_inviting_a_member_twice_is_a_conflict(client: Client) -> None:
    response = await client.graphql(
        'mutation { inviteMember(input: {email: "carol@acme.example"}) { token } }', caller=BOB
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "CONFLICT"
    assert error["extensions"]["errors"][0]["field"] == "email"
