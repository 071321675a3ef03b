"""The SaaS example as an ASGI app: GraphQL at ``/graphql``, the account routes at ``/auth/*``.

Every GraphQL request needs a bearer token signed by the example's key (``tokens.py``),
verified by :class:`fraiseql.JWTAuth`: without one, or with a bad or expired one, it gets 401
with ``WWW-Authenticate``. The token's claims become the request's database settings
(``org`` → ``app.tenant_id``, ``sub`` → ``app.user_id``) and the request runs as the role
``saas_app`` (no superuser, no BYPASSRLS, owns nothing): the policies of ``security.py`` show
it its organisation's rows only, and the app refuses to start unless RLS confines that role
on every read model.
"""

from __future__ import annotations

from typing import Any

from examples.saas.routes import account_routes
from examples.saas.schema import MUTATIONS, QUERIES, TYPES
from examples.saas.security import APP_ROLE
from examples.saas.tokens import SigningKey

import fraiseql


def build(database_url: str | None, key: SigningKey, **options: Any) -> Any:
    """The app on ``database_url`` (default: ``FRAISEQL_DATABASE_URL``), tokens of ``key``."""
    return fraiseql.create_app(
        types=TYPES,
        queries=QUERIES,
        mutations=MUTATIONS,
        database_url=database_url,
        auth=key.verifier(),
        session=fraiseql.SessionSettings(role=APP_ROLE),
        require_rls=True,
        routes=account_routes(key),
        **options,
    )
