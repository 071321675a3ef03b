"""The example blog as an ASGI app: ``uvicorn examples.blog.app:app``.

It reads the database URL from ``FRAISEQL_DATABASE_URL``.

Every request runs as the ``blog_app`` role (no superuser, no BYPASSRLS, owns nothing), with
the tenant claim ``app.tenant_id`` taken from the ``X-Tenant-Id`` request header: the tenant
policies of ``examples/blog/security.py`` then show it its organisation's rows only, and
without the header no rows at all. The app refuses to start unless RLS confines that role on
every table it reads.

**The header is not authentication.** Any client can send any organisation's id: it stands in,
for the demo only, for what a real application takes from a verified token (see
docs/guides/MULTI_TENANCY.md). ``single_tenant_app`` (and ``build(tenancy=False)``) serves the
same schema as the connecting user, without role or claims: every organisation's rows, as the
benchmarks and the cross-tenant tests need.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

import fraiseql
from examples.blog.schema import MUTATIONS, QUERIES, TYPES
from examples.blog.security import APP_ROLE, TENANT_SETTING
from fraiseql.security.claims import ClaimsError

TENANT_HEADER = "X-Tenant-Id"
"""The demo's stand-in for authentication: the caller's organisation id, unverified."""


async def context(request: Request) -> dict[str, Any]:
    """Per-request context handed to resolvers as ``info.context``."""
    return {
        "user_agent": request.headers.get("user-agent"),
        "tenant_id": request.headers.get(TENANT_HEADER),
    }


def tenant_claims(context: Mapping[str, Any]) -> dict[str, str | None]:
    """The ``app.tenant_id`` claim from the request's header; a malformed id is refused."""
    tenant = context.get("tenant_id")
    if tenant is None:
        return {TENANT_SETTING: None}  # no tenant: the policies show nothing
    try:
        return {TENANT_SETTING: str(uuid.UUID(tenant))}
    except ValueError:
        raise ClaimsError(
            f"the {TENANT_HEADER} header must be an organisation id (a UUID)"
        ) from None


def build(database_url: str | None = None, *, tenancy: bool = True) -> Any:
    """The blog app on ``database_url`` (default: ``FRAISEQL_DATABASE_URL``).

    ``tenancy=False`` drops the role and the claims (see the module documentation).
    """
    options: dict[str, Any] = {}
    if tenancy:
        options["session"] = fraiseql.SessionSettings(claims=tenant_claims, role=APP_ROLE)
        options["require_rls"] = True
    return fraiseql.create_app(
        types=TYPES,
        queries=QUERIES,
        mutations=MUTATIONS,
        database_url=database_url,
        context_getter=context,
        **options,
    )


def __getattr__(name: str) -> Any:
    # The apps are built on first access so that importing this module needs no database URL.
    if name == "app":
        return build()
    if name == "single_tenant_app":
        return build(tenancy=False)
    raise AttributeError(name)
