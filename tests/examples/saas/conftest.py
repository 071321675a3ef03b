"""Fixtures of the SaaS example's tests: its database, the app in process, tokens, SQL as a caller.

One database per session holds the schema; ``saas_db`` seeds it again before each test that
asks for it, so every test starts from the same fixed data (examples/saas/database.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import asyncpg
import httpx
import pytest
from examples.saas.app import build
from examples.saas.database import load_schema, seed, seed_uuid
from examples.saas.security import APP_ROLE, TENANT_SETTING, USER_SETTING
from examples.saas.tokens import SigningKey
from tests.conftest import temporary_database

ROLES = {
    "acme": {"alice": "owner", "bob": "admin", "carol": "member"},
    "globex": {"alice": "owner", "dave": "admin", "erin": "member"},
    "initech": {"peter": "owner", "milton": "member"},
}
"""The seeded members' roles, by organisation and member identifier."""


@pytest.fixture(scope="session")
async def saas_schema_dsn(server_dsn: str) -> AsyncIterator[str]:
    """A database holding the example's schema (data: see ``saas_db``)."""
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        yield dsn


@pytest.fixture
async def saas_db(saas_schema_dsn: str) -> str:
    """The example's database, freshly seeded for this test."""
    await seed(saas_schema_dsn)
    return saas_schema_dsn


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    """The key the tests' app signs and verifies tokens with."""
    return SigningKey.generate()


def token_for(key: SigningKey, organisation: str, member: str, **options: Any) -> str:
    """A token for a seeded member, with their seeded role unless ``role=`` says otherwise."""
    role = options.pop("role", ROLES[organisation][member])
    return key.issue(
        member=seed_uuid("member", organisation, member),
        organisation=seed_uuid("organisation", organisation),
        role=role,
        **options,
    )


class Client:
    """An HTTP client of the app in process, with a helper for GraphQL as a given caller."""

    def __init__(self, http: httpx.AsyncClient, key: SigningKey) -> None:
        self.http = http
        self.key = key

    async def graphql(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        caller: tuple[str, str] | None = None,
    ) -> httpx.Response:
        """POST ``query``; as ``caller`` (organisation, member) or with ``token``."""
        if caller is not None:
            token = token_for(self.key, *caller)
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = dict(variables)
        return await self.http.post("/graphql", json=body, headers=headers)

    async def data(self, query: str, caller: tuple[str, str], **variables: Any) -> Any:
        """The ``data`` of a request that must succeed without errors."""
        response = await self.graphql(query, variables or None, caller=caller)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


@pytest.fixture
async def client(saas_db: str, signing_key: SigningKey) -> AsyncIterator[Client]:
    """The app on a freshly seeded database, started (lifespan) and called in process."""
    app = build(saas_db, signing_key)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://saas.test") as http,
    ):
        yield Client(http, signing_key)


@contextlib.asynccontextmanager
async def as_caller(dsn: str, organisation: str, member: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection in a transaction as the request role with a seeded member's claims.

    What a request runs as, without GraphQL: the tests call the functions and write the
    tables directly, bypassing every check of the GraphQL layer. Rolled back at the end.
    """
    connection = await asyncpg.connect(dsn)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(
            "SELECT set_config('role', $1, true), set_config($2, $3, true),"
            " set_config($4, $5, true)",
            APP_ROLE,
            TENANT_SETTING,
            str(seed_uuid("organisation", organisation)),
            USER_SETTING,
            str(seed_uuid("member", organisation, member)),
        )
        try:
            yield connection
        finally:
            await transaction.rollback()
    finally:
        await connection.close()
