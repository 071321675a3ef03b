"""Create, read, update and delete every entity of the SaaS example through GraphQL, under RLS.

Each request runs as ``saas_app`` with a seeded member's token; what it reads back comes from
the read models, so each step also checks that the write functions synced them.
"""

from __future__ import annotations

from examples.saas.database import seed_uuid

from .conftest import Client

BOB = ("acme", "bob")  # an admin of acme
ALICE = ("acme", "alice")  # the owner of acme
CAROL = ("acme", "carol")  # a member of acme


async def test_reads_see_the_callers_organisation_only(client: Client) -> None:
    data = await client.data(
        "{ organisations { identifier } members { identifier organisation { identifier } }"
        " projects { identifier } invoices { identifier } invitations { email } }",
        BOB,
    )
    assert data["organisations"] == [{"identifier": "acme"}]
    assert {m["identifier"] for m in data["members"]} == {"alice", "bob", "carol"}
    assert {m["organisation"]["identifier"] for m in data["members"]} == {"acme"}
    assert {p["identifier"] for p in data["projects"]} == {"website", "mobile-app"}
    assert {i["identifier"] for i in data["invoices"]} == {
        "inv-2023-042",
        "inv-2024-001",
        "inv-2024-002",
    }
    assert data["invitations"] == [{"email": "frank@acme.example"}]


async def test_organisation_update_and_delete(client: Client) -> None:
    renamed = await client.data(
        'mutation { updateOrganisation(input: {name: "Acme Ltd"}) { status'
        " organisation { name plan } } }",
        BOB,
    )
    assert renamed["updateOrganisation"] == {
        "status": "SUCCESS",
        "organisation": {"name": "Acme Ltd", "plan": "TEAM"},
    }
    # Members embed their organisation's name: their documents followed.
    me = await client.data("{ me { organisation { name } } }", CAROL)
    assert me["me"]["organisation"]["name"] == "Acme Ltd"
    plan = await client.data(
        "mutation { updateOrganisation(input: {plan: ENTERPRISE}) { status } }", ALICE
    )
    assert plan["updateOrganisation"]["status"] == "SUCCESS"

    deleted = await client.data(
        'mutation { deleteOrganisation(input: {organisation: "acme"}) { status id } }', ALICE
    )
    assert deleted["deleteOrganisation"] == {
        "status": "SUCCESS",
        "id": str(seed_uuid("organisation", "acme")),
    }
    after = await client.data("{ organisations { id } projects { id } invoices { id } }", ALICE)
    assert after == {"organisations": [], "projects": [], "invoices": []}
    # The other organisations are untouched.
    globex = await client.data("{ projects { identifier } }", ("globex", "dave"))
    assert {p["identifier"] for p in globex["projects"]} == {"website", "ops"}


async def test_member_update_and_removal(client: Client) -> None:
    promoted = await client.data(
        'mutation { updateMember(input: {member: "carol", role: ADMIN, name: "Carol M."})'
        " { status member { name role } } }",
        BOB,
    )
    assert promoted["updateMember"] == {
        "status": "SUCCESS",
        "member": {"name": "Carol M.", "role": "ADMIN"},
    }
    unchanged = await client.data(
        'mutation { updateMember(input: {member: "carol", role: ADMIN}) { status } }', BOB
    )
    assert unchanged["updateMember"]["status"] == "NOOP"
    removed = await client.data(
        'mutation { removeMember(input: {member: "carol"}) { status id } }', BOB
    )
    assert removed["removeMember"]["status"] == "SUCCESS"
    members = await client.data("{ members { identifier } }", BOB)
    assert {m["identifier"] for m in members["members"]} == {"alice", "bob"}


async def test_the_last_owner_stays(client: Client) -> None:
    data = await client.data(
        'mutation { updateMember(input: {member: "alice", role: MEMBER})'
        " { status errors { field code } } }",
        ALICE,
    )
    assert data["updateMember"] == {
        "status": "CONFLICT",
        "errors": [{"field": "role", "code": "last_owner"}],
    }


async def test_project_crud(client: Client) -> None:
    created = await client.data(
        'mutation { createProject(input: {identifier: "billing", name: "Billing"})'
        " { status project { identifier name description archived invoices { id } } } }",
        CAROL,
    )
    assert created["createProject"] == {
        "status": "SUCCESS",
        "project": {
            "identifier": "billing",
            "name": "Billing",
            "description": "",
            "archived": False,
            "invoices": [],
        },
    }
    duplicate = await client.data(
        'mutation { createProject(input: {identifier: "billing", name: "Again"})'
        " { status errors { field } } }",
        CAROL,
    )
    assert duplicate["createProject"] == {"status": "CONFLICT", "errors": [{"field": "identifier"}]}
    # globex has a "website" too; acme may still create its own slugs freely.
    updated = await client.data(
        'mutation { updateProject(input: {project: "billing", archived: true, name: "Billing v2"})'
        " { status project { name archived } } }",
        CAROL,
    )
    assert updated["updateProject"] == {
        "status": "SUCCESS",
        "project": {"name": "Billing v2", "archived": True},
    }
    deleted = await client.data(
        'mutation { deleteProject(input: {project: "billing"}) { status } }', BOB
    )
    assert deleted["deleteProject"]["status"] == "SUCCESS"
    gone = await client.data('{ project(identifier: "billing") { id } }', BOB)
    assert gone == {"project": None}


async def test_a_project_with_invoices_is_not_deleted(client: Client) -> None:
    data = await client.data(
        'mutation { deleteProject(input: {project: "website"}) { status errors { code }'
        " project { identifier } } }",
        BOB,
    )
    assert data["deleteProject"] == {
        "status": "CONFLICT",
        "errors": [{"code": "has_invoices"}],
        "project": {"identifier": "website"},
    }


LINES = [
    {"description": "Consulting", "quantity": "3.333", "unitPrice": "0.10"},
    {"description": "Support", "quantity": "1", "unitPrice": "12345678.91"},
]
CREATE_INVOICE = """mutation($lines: [InvoiceLineInput!]!) {
  createInvoice(input: {identifier: "inv-2024-003", project: "website",
                        customer: "Cyberdyne", dueOn: "2024-06-30", lines: $lines}) {
    status invoice { total dueOn status lines { position quantity unitPrice amount } }
  }
}"""
EXACT_INVOICE = {
    "total": "12345679.24",
    "dueOn": "2024-06-30",
    "status": "DRAFT",
    "lines": [
        {"position": 1, "quantity": "3.333", "unitPrice": "0.10", "amount": "0.33"},
        {"position": 2, "quantity": "1.000", "unitPrice": "12345678.91", "amount": "12345678.91"},
    ],
}
"""What the read model holds after CREATE_INVOICE, digit for digit (NUMERIC(12, 3) quantities,
NUMERIC(14, 2) prices)."""


async def test_invoice_crud_with_exact_decimals(client: Client) -> None:
    created = await client.data(CREATE_INVOICE, BOB, lines=LINES)
    assert created["createInvoice"]["status"] == "SUCCESS"
    read = await client.data(
        '{ invoice(identifier: "inv-2024-003") { total dueOn status'
        " lines { position quantity unitPrice amount } } }",
        CAROL,
    )
    assert read["invoice"] == EXACT_INVOICE
    # The project embeds its invoices' totals.
    project = await client.data(
        '{ project(identifier: "website") { invoices { identifier total } } }', CAROL
    )
    assert {"identifier": "inv-2024-003", "total": "12345679.24"} in project["project"]["invoices"]

    updated = await client.data(
        """mutation { updateInvoice(input: {invoice: "inv-2024-003", status: SENT,
              lines: [{description: "Consulting", quantity: "2", unitPrice: "0.05"}]}) {
            status } }""",
        BOB,
    )
    assert updated["updateInvoice"]["status"] == "SUCCESS"
    read = await client.data('{ invoice(identifier: "inv-2024-003") { status total } }', CAROL)
    assert read["invoice"] == {"status": "SENT", "total": "0.10"}
    closed = await client.data(
        'mutation { updateInvoice(input: {invoice: "inv-2024-001", customer: "Other"})'
        " { status errors { code } } }",
        BOB,
    )
    assert closed["updateInvoice"] == {"status": "CONFLICT", "errors": [{"code": "closed"}]}
    bad = await client.data(
        'mutation { updateInvoice(input: {invoice: "inv-2024-003",'
        ' lines: [{description: "x", quantity: "-1", unitPrice: "1"}]}) { status errors { field } } }',
        BOB,
    )
    assert bad["updateInvoice"] == {"status": "VALIDATION_ERROR", "errors": [{"field": "quantity"}]}

    deleted = await client.data(
        'mutation { deleteInvoice(input: {invoice: "inv-2024-003"}) { status } }', BOB
    )
    assert deleted["deleteInvoice"]["status"] == "SUCCESS"
    invoices = await client.data("{ invoices { identifier } }", CAROL)
    assert {i["identifier"] for i in invoices["invoices"]} == {
        "inv-2023-042",
        "inv-2024-001",
        "inv-2024-002",
    }


async def test_invitation_create_and_revoke(client: Client) -> None:
    created = await client.data(
        'mutation { inviteMember(input: {email: "Zoe@Acme.example", role: ADMIN})'
        " { token invitation { identifier email role acceptedAt invitedBy { identifier } } } }",
        BOB,
    )
    ticket = created["inviteMember"]
    assert len(ticket["token"]) >= 40
    assert ticket["invitation"]["email"] == "zoe@acme.example"
    assert ticket["invitation"]["role"] == "ADMIN"
    assert ticket["invitation"]["acceptedAt"] is None
    assert ticket["invitation"]["invitedBy"] == {"identifier": "bob"}
    revoked = await client.data(
        "mutation($i: String!) { revokeInvitation(input: {invitation: $i}) { status } }",
        BOB,
        i=ticket["invitation"]["identifier"],
    )
    assert revoked["revokeInvitation"]["status"] == "SUCCESS"
    left = await client.data("{ invitations { email } }", BOB)
    assert left["invitations"] == [{"email": "frank@acme.example"}]


async def test_a_mutation_payload_keeps_exact_decimals(client: Client) -> None:
    created = await client.data(CREATE_INVOICE, BOB, lines=LINES)
    assert created["createInvoice"]["invoice"] == EXACT_INVOICE
