"""The account routes beside GraphQL: sign-up, login, and accepting an invitation.

They are plain HTTP routes (``create_app(routes=...)``), outside the GraphQL endpoint because
they are what a caller without a token uses to get one. Each takes a small JSON body and
answers JSON; each token they issue is signed by the example's key (``tokens.py``).

- ``POST /auth/signup`` ``{"organisation": {"identifier", "name"}, "member": {"identifier",
  "name", "email"}, "password"}`` creates an organisation and its owner (201, with a token).
- ``POST /auth/login`` ``{"organisation", "email", "password"}``: 200 with a token, or 401
  with ``WWW-Authenticate: Bearer`` for any wrong organisation, email or password alike.
- ``POST /auth/accept-invitation`` ``{"token", "member": {"identifier", "name"}, "password"}``
  creates the invited member with the invitation's email and role, once (201, with a token);
  an unknown, used or expired token is refused (400).

Passwords are hashed with scrypt (``passwords.py``) in a worker thread and never logged nor
sent to the database in clear. Database work runs as the request role ``saas_app`` under RLS,
with the claims each step needs, in the app's pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import asyncpg
import orjson
from examples.saas.passwords import PasswordError, check_password, hash_password, verify_password
from examples.saas.schema import token_hash
from examples.saas.security import APP_ROLE, INVITATION_SETTING, TENANT_SETTING
from examples.saas.tokens import DEFAULT_TTL, SigningKey
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fraiseql.db.contract import ContractError, check_outcome
from fraiseql.db.sqlstate import map_database_error
from fraiseql.execution.outcome import ServiceUnavailable

logger = logging.getLogger("examples.saas.routes")

MAX_BODY = 16 * 1024
"""The largest body the account routes read."""

CHALLENGE = 'Bearer realm="fraiseql-saas"'


class RequestError(Exception):
    """A refused request: its HTTP status, error code, message and field errors."""

    def __init__(
        self, status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or []


def _json(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


async def _body(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise RequestError(415, "unsupported_media_type", "send application/json")
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise RequestError(413, "too_large", f"the body exceeds {MAX_BODY} bytes")
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise RequestError(400, "invalid_json", "the body is not JSON") from None
    if not isinstance(parsed, dict):
        raise RequestError(400, "invalid_request", "the body must be a JSON object")
    return parsed


def _text(body: Mapping[str, Any], *path: str) -> str:
    value: Any = body
    for step in path:
        value = value.get(step) if isinstance(value, Mapping) else None
    if not isinstance(value, str) or not value:
        field = ".".join(path)
        error = {"field": field, "message": "required", "code": "required"}
        raise RequestError(400, "invalid_request", f"{field} must be a non-empty string", [error])
    return value


def _password(body: Mapping[str, Any]) -> str:
    try:
        return check_password(body.get("password"))
    except PasswordError as error:
        raise RequestError(
            400, "invalid_password", str(error),
            [{"field": "password", "message": str(error), "code": "weak_password"}],
        ) from None  # fmt: skip


@contextlib.asynccontextmanager
async def _as_app(request: Request, claims: Mapping[str, str]) -> AsyncIterator[Any]:
    """A transaction as the request role with ``claims``, on the app's pool."""
    database = request.app.state.fraiseql_schema.database
    settings = {"role": APP_ROLE, **claims}
    statement = "SELECT " + ", ".join(
        f"set_config(${2 * i + 1}, ${2 * i + 2}, true)" for i in range(len(settings))
    )
    values = [item for pair in settings.items() for item in pair]
    async with database.pool.acquire() as connection, connection.transaction():
        await connection.execute(statement, *values)
        yield connection


class _RefusedWriteError(Exception):
    """Raised inside a transaction to roll a refused write back."""

    def __init__(self, refusal: RequestError) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


async def _call(connection: Any, function: str, arguments: Mapping[str, Any]) -> uuid.UUID:
    """Call a mutation function; its entity id, or :class:`_RefusedWriteError` with the refusal."""
    sql = f"SELECT r.status, r.id, r.message, r.errors::text FROM {function}($1::jsonb) AS r"
    try:
        async with connection.transaction():
            row = await connection.fetchrow(sql, orjson.dumps(arguments).decode())
            outcome = check_outcome(function, row)
            if outcome.status != "success" or outcome.id is None:
                status = {"conflict": 409, "forbidden": 403}.get(outcome.status, 400)
                message = outcome.message or "refused"
                refusal = RequestError(status, outcome.status, message, outcome.errors)
                raise _RefusedWriteError(refusal)
    except asyncpg.PostgresError as error:
        mapped = map_database_error(error)
        if mapped is None:
            raise
        status = 409 if mapped.status == "conflict" else 400
        refusal = RequestError(status, mapped.status, mapped.message, mapped.errors)
        raise _RefusedWriteError(refusal) from None
    return outcome.id


def _token_response(
    key: SigningKey, status: int, member: uuid.UUID, organisation: uuid.UUID, role: str
) -> Response:
    token = key.issue(member=member, organisation=organisation, role=role)
    return _json(
        status,
        {
            "token": token,
            "tokenType": "Bearer",
            "expiresIn": DEFAULT_TTL,
            "member": {"id": str(member), "role": role},
            "organisation": {"id": str(organisation)},
        },
    )


def _refusal(error: RequestError) -> Response:
    headers = {"WWW-Authenticate": CHALLENGE} if error.status == 401 else None
    body = {"error": error.code, "message": error.message, "errors": error.errors}
    return _json(error.status, body, headers)


def account_routes(key: SigningKey) -> list[Route]:
    """The three account routes, issuing tokens signed by ``key``."""

    async def guarded(request: Request, handler: Any) -> Response:
        try:
            return await handler(request)
        except RequestError as error:
            return _refusal(error)
        except _RefusedWriteError as undo:
            return _refusal(undo.refusal)
        except ServiceUnavailable as error:
            return _json(503, {"error": "unavailable", "message": str(error)},
                         {"Retry-After": str(error.retry_after)})  # fmt: skip
        except (ContractError, asyncpg.PostgresError):
            logger.exception("account route %s failed", request.url.path)
            return _json(500, {"error": "internal", "message": "internal error"})

    async def login(request: Request) -> Response:
        body = await _body(request)
        organisation, email = _text(body, "organisation"), _text(body, "email")
        password = body.get("password")
        if not isinstance(password, str):
            raise RequestError(400, "invalid_request", "password must be a string")
        async with _as_app(request, {}) as connection:
            row = await connection.fetchrow(
                "SELECT organisation_id, member_id, role, password_hash"
                " FROM fn_login_lookup($1, $2)",
                organisation,
                email,
            )
        stored = row["password_hash"] if row is not None else None
        if not await asyncio.to_thread(verify_password, password, stored) or row is None:
            logger.info("login refused for an account of %r", organisation)
            raise RequestError(401, "invalid_credentials", "wrong organisation, email or password")
        return _token_response(key, 200, row["member_id"], row["organisation_id"], row["role"])

    async def signup(request: Request) -> Response:
        body = await _body(request)
        password = _password(body)
        organisation_id = uuid.uuid4()
        arguments = {
            "id": str(organisation_id),
            "identifier": _text(body, "organisation", "identifier"),
            "name": _text(body, "organisation", "name"),
            "owner": {
                "identifier": _text(body, "member", "identifier"),
                "name": _text(body, "member", "name"),
                "email": _text(body, "member", "email"),
                "password_hash": await asyncio.to_thread(hash_password, password),
            },
        }
        async with _as_app(request, {TENANT_SETTING: str(organisation_id)}) as connection:
            owner = await _call(connection, "fn_create_organisation", arguments)
        return _token_response(key, 201, owner, organisation_id, "owner")

    async def accept_invitation(request: Request) -> Response:
        body = await _body(request)
        digest = token_hash(_text(body, "token"))
        identifier, name = _text(body, "member", "identifier"), _text(body, "member", "name")
        password = _password(body)
        async with _as_app(request, {}) as connection:
            organisation = await connection.fetchval(
                "SELECT fn_invitation_organisation($1)", digest
            )
        if organisation is None:
            raise RequestError(400, "not_found", "No such invitation.",
                               [{"field": "token", "message": "no invitation has this token",
                                 "code": "not_found"}])  # fmt: skip
        arguments = {
            "token_hash": digest,
            "identifier": identifier,
            "name": name,
            "password_hash": await asyncio.to_thread(hash_password, password),
        }
        claims = {TENANT_SETTING: str(organisation), INVITATION_SETTING: digest}
        async with _as_app(request, claims) as connection:
            member = await _call(connection, "fn_accept_invitation", arguments)
            role = await connection.fetchval("SELECT role FROM tb_member WHERE id = $1", member)
        return _token_response(key, 201, member, organisation, role)

    def route(path: str, handler: Any) -> Route:
        async def endpoint(request: Request) -> Response:
            return await guarded(request, handler)

        return Route(path, endpoint, methods=["POST"])

    return [
        route("/auth/login", login),
        route("/auth/signup", signup),
        route("/auth/accept-invitation", accept_invitation),
    ]
