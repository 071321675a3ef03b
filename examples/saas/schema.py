"""The SaaS example's GraphQL types, queries and mutations, over the read models in db/.

Every field is confined twice: by the tenant policies (the request runs as ``saas_app`` with
the token's organisation as ``app.tenant_id``) and by the role checks (``requires=`` here,
on the token's role claim; the SQL functions and policies again, on the member's current
role). Mutations with an empty body call ``fn_<name>``; ``invite_member`` is a custom mutation
because the one-time token is made in Python and returned once, never stored.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from typing import Any

from examples.saas.roles import IS_ADMIN, IS_MEMBER, IS_OWNER

import fraiseql
from fraiseql import FraiseQLError, OrderBy, Where
from fraiseql.types.scalars import UUID, Date, DateTime, Decimal, EmailAddress


@fraiseql.enum
class Role(enum.Enum):
    """What a member may do: an owner everything, an admin all but the owner's."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


@fraiseql.enum
class Plan(enum.Enum):
    """The organisation's subscription."""

    FREE = "free"
    TEAM = "team"
    ENTERPRISE = "enterprise"


@fraiseql.enum
class InvoiceStatus(enum.Enum):
    """Where an invoice is in its life."""

    DRAFT = "draft"
    SENT = "sent"
    PAID = "paid"
    VOID = "void"


@fraiseql.type(sql_source="tv_organisation", require_rls=True)
class Organisation:
    """A tenant: its members, projects, invoices and invitations belong to it."""

    id: UUID
    identifier: str
    name: str
    plan: Plan
    created_at: DateTime


@fraiseql.type
class OrganisationRef:
    """The organisation a member belongs to."""

    id: UUID
    identifier: str
    name: str


@fraiseql.type(sql_source="tv_member", require_rls=True)
class Member:
    """Someone who works in an organisation, with one role."""

    id: UUID
    identifier: str
    name: str
    email: EmailAddress | None = fraiseql.field(
        requires=IS_ADMIN, description="Only owners and admins see members' emails (else null)."
    )
    role: Role
    created_at: DateTime
    organisation: OrganisationRef


@fraiseql.type
class MemberRef:
    """A member as embedded elsewhere."""

    id: UUID
    identifier: str
    name: str


@fraiseql.type
class InvoiceSummary:
    """An invoice as embedded in its project."""

    id: UUID
    identifier: str
    customer: str
    status: InvoiceStatus
    currency: str
    total: Decimal


@fraiseql.type(sql_source="tv_project", require_rls=True)
class Project:
    """A piece of work the organisation invoices for."""

    id: UUID
    identifier: str
    name: str
    description: str
    archived: bool
    created_at: DateTime
    invoices: list[InvoiceSummary]


@fraiseql.type
class ProjectRef:
    """The project an invoice belongs to."""

    id: UUID
    identifier: str
    name: str


@fraiseql.type
class InvoiceLine:
    """One line: quantity times unit price, rounded to cents."""

    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@fraiseql.type(sql_source="tv_invoice", require_rls=True)
class Invoice:
    """An invoice of a project, with exact decimal amounts."""

    id: UUID
    identifier: str
    customer: str
    status: InvoiceStatus
    currency: str
    due_on: Date | None
    created_at: DateTime
    total: Decimal
    project: ProjectRef
    lines: list[InvoiceLine]


@fraiseql.type(sql_source="tv_invitation", require_rls=True, requires=IS_ADMIN)
class Invitation:
    """An invitation to join the organisation (owners and admins only)."""

    id: UUID
    identifier: str
    email: EmailAddress
    role: Role
    expires_at: DateTime
    accepted_at: DateTime | None
    created_at: DateTime
    invited_by: MemberRef | None


@fraiseql.type
class InvitationTicket:
    """A new invitation and its one-time token: give the token to the invitee; it is shown
    only here, once (the database keeps its SHA-256 only)."""

    token: str
    invitation: Invitation


# --- Queries -------------------------------------------------------------------------------


@fraiseql.query(requires=IS_MEMBER)
async def organisations(info, where: Where[Organisation] | None = None) -> list[Organisation]:
    """The caller's organisation (the tenant policies show no other)."""


@fraiseql.query(requires=IS_MEMBER)
async def organisation(
    info, id: UUID | None = None, identifier: str | None = None
) -> Organisation | None:
    """The caller's organisation by id or identifier."""


@fraiseql.query(requires=IS_MEMBER)
async def members(
    info,
    where: Where[Member] | None = None,
    order_by: list[OrderBy[Member]] | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> list[Member]:
    """The members of the caller's organisation."""


@fraiseql.query(requires=IS_MEMBER)
async def member(info, id: UUID | None = None, identifier: str | None = None) -> Member | None:
    """One member by id or identifier."""


@fraiseql.query(requires=IS_MEMBER)
async def me(info) -> Member | None:
    """The calling member, from the token's subject."""
    subject = info.context["auth"].subject
    return await info.repository.find_one(Member, id=subject)


@fraiseql.query(requires=IS_MEMBER)
async def projects(
    info,
    where: Where[Project] | None = None,
    order_by: list[OrderBy[Project]] | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> list[Project]:
    """The projects of the caller's organisation."""


@fraiseql.query(requires=IS_MEMBER)
async def project(info, id: UUID | None = None, identifier: str | None = None) -> Project | None:
    """One project by id or identifier."""


@fraiseql.query(requires=IS_MEMBER)
async def invoices(
    info,
    where: Where[Invoice] | None = None,
    order_by: list[OrderBy[Invoice]] | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> list[Invoice]:
    """The invoices of the caller's organisation."""


@fraiseql.query(requires=IS_MEMBER)
async def invoice(info, id: UUID | None = None, identifier: str | None = None) -> Invoice | None:
    """One invoice by id or identifier."""


@fraiseql.query
async def invitations(
    info,
    where: Where[Invitation] | None = None,
    order_by: list[OrderBy[Invitation]] | None = None,
    limit: int | None = None,
) -> list[Invitation]:
    """The invitations of the caller's organisation (owners and admins: the type requires)."""


QUERIES = [
    organisations,
    organisation,
    members,
    member,
    me,
    projects,
    project,
    invoices,
    invoice,
    invitations,
]
TYPES = [Organisation, Member, Project, Invoice, Invitation]


# --- Mutations -----------------------------------------------------------------------------


@fraiseql.input
class UpdateOrganisationInput:
    """Changes to the caller's organisation; the plan is the owner's to change."""

    name: str | None
    plan: Plan | None


@fraiseql.input
class DeleteOrganisationInput:
    """The caller's organisation (id or identifier), named again as a confirmation."""

    organisation: str


@fraiseql.input
class UpdateMemberInput:
    """Changes to a member (id or identifier); fields left out stay as they are."""

    member: str
    name: str | None
    role: Role | None


@fraiseql.input
class RemoveMemberInput:
    """The member to remove, by id or identifier."""

    member: str


@fraiseql.input
class CreateProjectInput:
    """A new project."""

    identifier: str
    name: str
    description: str = ""


@fraiseql.input
class UpdateProjectInput:
    """Changes to a project (id or identifier)."""

    project: str
    name: str | None
    description: str | None
    archived: bool | None


@fraiseql.input
class DeleteProjectInput:
    """The project to delete (it must have no invoices)."""

    project: str


@fraiseql.input
class InvoiceLineInput:
    """One line of an invoice."""

    description: str
    quantity: Decimal
    unit_price: Decimal


@fraiseql.input
class CreateInvoiceInput:
    """A new invoice of a project (id or identifier)."""

    identifier: str
    project: str
    customer: str
    currency: str = "EUR"
    due_on: Date | None = None
    lines: list[InvoiceLineInput]


@fraiseql.input
class UpdateInvoiceInput:
    """Changes to an invoice (id or identifier); ``lines`` replaces every line."""

    invoice: str
    customer: str | None
    status: InvoiceStatus | None
    due_on: Date | None
    lines: list[InvoiceLineInput] | None


@fraiseql.input
class DeleteInvoiceInput:
    """The invoice to delete, by id or identifier."""

    invoice: str


@fraiseql.input
class InviteMemberInput:
    """Whom to invite, with which role, for how long (1 to 720 hours)."""

    email: EmailAddress
    role: Role = Role.MEMBER
    valid_hours: int = 72


@fraiseql.input
class RevokeInvitationInput:
    """The invitation to revoke, by id or identifier."""

    invitation: str


@fraiseql.mutation(requires=IS_ADMIN)
async def update_organisation(info, input: UpdateOrganisationInput) -> Organisation:
    """Rename the organisation or change its plan (calls fn_update_organisation)."""


@fraiseql.mutation(requires=IS_OWNER)
async def delete_organisation(info, input: DeleteOrganisationInput) -> Organisation:
    """Delete the organisation and everything in it (owners only)."""


@fraiseql.mutation(requires=IS_MEMBER)
async def update_member(info, input: UpdateMemberInput) -> Member:
    """Rename a member (oneself, or anyone for admins) or change a role (admins, owners)."""


@fraiseql.mutation(requires=IS_ADMIN)
async def remove_member(info, input: RemoveMemberInput) -> Member:
    """Remove a member from the organisation."""


@fraiseql.mutation(requires=IS_MEMBER)
async def create_project(info, input: CreateProjectInput) -> Project:
    """Create a project (any member)."""


@fraiseql.mutation(requires=IS_MEMBER)
async def update_project(info, input: UpdateProjectInput) -> Project:
    """Change a project (any member)."""


@fraiseql.mutation(requires=IS_ADMIN)
async def delete_project(info, input: DeleteProjectInput) -> Project:
    """Delete a project without invoices (owners and admins)."""


@fraiseql.mutation(requires=IS_ADMIN)
async def create_invoice(info, input: CreateInvoiceInput) -> Invoice:
    """Create an invoice with its lines (owners and admins)."""


@fraiseql.mutation(requires=IS_ADMIN)
async def update_invoice(info, input: UpdateInvoiceInput) -> Invoice:
    """Change an invoice (owners and admins)."""


@fraiseql.mutation(requires=IS_ADMIN)
async def delete_invoice(info, input: DeleteInvoiceInput) -> Invoice:
    """Delete an invoice (owners and admins)."""


@fraiseql.mutation(requires=IS_ADMIN)
async def invite_member(info, input: InviteMemberInput) -> InvitationTicket:
    """Invite an email with a role; the answer carries the one-time token (shown once)."""
    token = secrets.token_urlsafe(32)
    outcome = await info.commands.run(
        "fn_invite_member",
        {
            "email": input.email,
            "role": input.role.value,
            "valid_hours": input.valid_hours,
            "token_hash": token_hash(token),
        },
    )
    if outcome.status != "success" or outcome.id is None:
        raise FraiseQLError(
            outcome.message or "The invitation was refused.",
            code=outcome.status.upper(),
            errors=outcome.errors,
        )
    invitation: dict[str, Any] | None = await info.repository.find_one(Invitation, id=outcome.id)
    return InvitationTicket(token=token, invitation=invitation)  # type: ignore[arg-type]


@fraiseql.mutation(requires=IS_ADMIN)
async def revoke_invitation(info, input: RevokeInvitationInput) -> Invitation:
    """Revoke an invitation: its token stops working."""


MUTATIONS = [
    update_organisation,
    delete_organisation,
    update_member,
    remove_member,
    create_project,
    update_project,
    delete_project,
    create_invoice,
    update_invoice,
    delete_invoice,
    invite_member,
    revoke_invitation,
]


def token_hash(token: str) -> str:
    """What the database keeps of an invitation token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def printable_schema() -> fraiseql.Schema:
    """The schema without a database (``fraiseql schema examples.saas.schema:printable_schema``)."""
    return fraiseql.Schema(types=TYPES, queries=QUERIES, mutations=MUTATIONS)
