"""The chat example as an ASGI app: ``uvicorn examples.chat.app:app``.

It reads the database URL from ``FRAISEQL_DATABASE_URL``; ``python -m examples.chat.serve``
also serves the page of ``static/`` and starts a database when there is none.

Every operation (HTTP, or WebSocket/SSE for subscriptions) runs as the ``chat_app`` role (no
superuser, no BYPASSRLS, owns nothing) with two claims:

- ``app.tenant_id``, the organisation, from the ``X-Tenant-Id`` header or the ``tenantId``
  connection parameter of ``connection_init`` (browsers cannot set WebSocket headers): the
  policies of ``examples/chat/security.py`` then show it its organisation's rows only, and
  without it no rows at all. Subscribers receive the events they could query, nothing else.
- ``app.user_id``, the user acting, from ``X-User-Id`` or ``userId``: the mutation functions
  post, join and type as that user (it must belong to the organisation).

The app refuses to start unless RLS confines that role on every table it reads.

**The header and the parameters are not authentication.** Any client can send any ids: they
stand in, for the demo only, for what a real application takes from a verified token (see
docs/guides/MULTI_TENANCY.md). ``build(tenancy=False)`` drops the role and the tenant claim
(every organisation's rows, as benchmarks need) and keeps the user claim.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from starlette.requests import HTTPConnection

import fraiseql
from examples.chat.page import page_routes
from examples.chat.schema import MUTATIONS, QUERIES, SUBSCRIPTIONS, TYPES
from examples.chat.security import APP_ROLE, TENANT_SETTING, USER_SETTING
from fraiseql.security.claims import ClaimsError

TENANT_HEADER = "X-Tenant-Id"
"""The demo's stand-in for authentication: the caller's organisation id, unverified."""

USER_HEADER = "X-User-Id"
"""The demo's stand-in for a login: the id of the user acting, unverified."""

TENANT_PARAM = "tenantId"
USER_PARAM = "userId"
"""The same over a WebSocket: keys of the ``connection_init`` payload."""


def _given(connection: HTTPConnection, header: str, param: str) -> Any:
    given = connection.headers.get(header)
    if given is None:
        given = fraiseql.connection_params(connection).get(param)
    return given


async def context(connection: HTTPConnection) -> dict[str, Any]:
    """Per-operation context: a ``Request`` over HTTP and SSE, a ``WebSocket`` over WS."""
    return {
        "tenant_id": _given(connection, TENANT_HEADER, TENANT_PARAM),
        "user_id": _given(connection, USER_HEADER, USER_PARAM),
    }


def _uuid_claim(value: Any, what: str) -> str | None:
    if value is None or value == "":
        return None  # no claim: the policies show nothing / the functions know no user
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return str(uuid.UUID(value))
    except ValueError:
        raise ClaimsError(f"{what} must be a UUID") from None


def user_claims(context: Mapping[str, Any]) -> dict[str, str | None]:
    """The ``app.user_id`` claim; a malformed id is refused."""
    user = _uuid_claim(context.get("user_id"), f"the {USER_HEADER} header ({USER_PARAM})")
    return {USER_SETTING: user}


def tenant_claims(context: Mapping[str, Any]) -> dict[str, str | None]:
    """The ``app.tenant_id`` and ``app.user_id`` claims; malformed ids are refused."""
    tenant = _uuid_claim(context.get("tenant_id"), f"the {TENANT_HEADER} header ({TENANT_PARAM})")
    return {TENANT_SETTING: tenant, **user_claims(context)}


def build(
    database_url: str | None = None,
    *,
    tenancy: bool = True,
    organisations: list[dict[str, Any]] | None = None,
) -> Any:
    """The chat app on ``database_url`` (default: ``FRAISEQL_DATABASE_URL``).

    ``tenancy=False`` drops the role and the tenant claim (see the module documentation).
    With ``organisations`` (see ``page.organisation_directory``) the app also serves the chat
    page at ``/``.
    """
    options: dict[str, Any] = {}
    if tenancy:
        options["session"] = fraiseql.SessionSettings(claims=tenant_claims, role=APP_ROLE)
        options["require_rls"] = True
    else:
        options["session"] = fraiseql.SessionSettings(claims=user_claims)
    return fraiseql.create_app(
        types=TYPES,
        queries=QUERIES,
        mutations=MUTATIONS,
        subscriptions=SUBSCRIPTIONS,
        database_url=database_url,
        context_getter=context,
        routes=page_routes(organisations) if organisations is not None else (),
        **options,
    )


def __getattr__(name: str) -> Any:
    # The apps are built on first access so that importing this module needs no database URL.
    if name == "app":
        return build()
    if name == "single_tenant_app":
        return build(tenancy=False)
    raise AttributeError(name)
