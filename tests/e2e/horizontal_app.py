"""The chat example as one of several stateless processes, for ``test_horizontal.py``.

``uvicorn --factory tests.e2e.horizontal_app:create``: the chat schema on
``FRAISEQL_DATABASE_URL`` (tenancy on) plus two queries that tell processes apart and fail on
purpose, with error recording into the shared database. ``GET /ready`` answers once the event
listener is connected (an event sent before would reach nobody in this process).
"""

from __future__ import annotations

import os
from typing import Any

from examples.chat.app import context, tenant_claims
from examples.chat.schema import MUTATIONS, QUERIES, SUBSCRIPTIONS, TYPES
from examples.chat.security import APP_ROLE
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import fraiseql
from fraiseql.observability import Observability


@fraiseql.query
async def worker(info: fraiseql.Info) -> int:
    """The id of the process that answers."""
    return os.getpid()


@fraiseql.query
async def broken(info: fraiseql.Info) -> str:
    """Always fails the same way, in every process (one error fingerprint)."""
    raise RuntimeError("the horizontal test's deliberate failure")


def create() -> Any:
    """The app (a uvicorn factory)."""
    holder: dict[str, Any] = {}

    async def ready(request: Request) -> PlainTextResponse:
        listener = holder["app"].state.fraiseql_schema.listener
        up = listener is not None and listener.backend_pid is not None
        return PlainTextResponse("ready" if up else "waiting", status_code=200 if up else 503)

    app = fraiseql.create_app(
        types=TYPES,
        queries=[*QUERIES, worker, broken],
        mutations=MUTATIONS,
        subscriptions=SUBSCRIPTIONS,
        context_getter=context,
        session=fraiseql.SessionSettings(claims=tenant_claims, role=APP_ROLE),
        observability=Observability(
            log_requests=False, record_errors=True, install_errors_table=True
        ),
        routes=[Route("/ready", ready)],
    )
    holder["app"] = app
    return app
