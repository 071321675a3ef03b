"""The event-sourcing example as an ASGI app: ``uvicorn examples.event_sourcing.app:app``.

It reads the database URL from ``FRAISEQL_DATABASE_URL``; ``python -m
examples.event_sourcing.serve`` also starts a database when there is none and runs the
catch-up projector beside the app.

Every request runs as the ``events_app`` role (no superuser, owns nothing, no UPDATE or
DELETE on the event store), with the claim ``app.actor`` taken from the ``X-Actor`` header:
each event records it, and a command without it answers FORBIDDEN. **The header is not
authentication**: it stands in, for the demo only, for the subject of a verified token (see
docs/guides/authentication.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

import fraiseql
from examples.event_sourcing.schema import MUTATIONS, QUERIES, TYPES
from fraiseql.security.claims import ClaimsError

__all__ = ["ACTOR_HEADER", "ACTOR_SETTING", "APP_ROLE", "MAX_ACTOR_LENGTH", "actor_claims", "build"]

ACTOR_HEADER = "X-Actor"
"""The demo's stand-in for authentication: who is acting, unverified."""

ACTOR_SETTING = "app.actor"
"""The claim the commands read (``fn_actor()``) and record in every event."""

APP_ROLE = "events_app"
"""The role requests run as (created by ``db/schema/70_security/``)."""

MAX_ACTOR_LENGTH = 100


async def context(request: Request) -> dict[str, Any]:
    """Per-request context: the actor header."""
    return {"actor": request.headers.get(ACTOR_HEADER)}


def actor_claims(context: Mapping[str, Any]) -> dict[str, str | None]:
    """The ``app.actor`` claim; an empty, overlong or non-printable actor is refused."""
    actor = context.get("actor")
    if actor is None or actor == "":
        return {ACTOR_SETTING: None}  # queries need no actor; commands answer FORBIDDEN
    if (
        not isinstance(actor, str)
        or len(actor) > MAX_ACTOR_LENGTH
        or not actor.isprintable()
        or actor.strip() != actor
    ):
        raise ClaimsError(
            f"the {ACTOR_HEADER} header must be 1 to {MAX_ACTOR_LENGTH} printable characters"
            " without surrounding spaces"
        )
    return {ACTOR_SETTING: actor}


def build(database_url: str | None = None) -> Any:
    """The app on ``database_url`` (default: ``FRAISEQL_DATABASE_URL``)."""
    return fraiseql.create_app(
        types=TYPES,
        queries=QUERIES,
        mutations=MUTATIONS,
        database_url=database_url,
        context_getter=context,
        session=fraiseql.SessionSettings(claims=actor_claims, role=APP_ROLE),
    )


def __getattr__(name: str) -> Any:
    # Built on first access, so that importing this module needs no database URL.
    if name == "app":
        return build()
    raise AttributeError(name)
