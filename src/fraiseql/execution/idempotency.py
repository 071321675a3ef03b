"""Idempotency keys: a mutation retried with the same key is answered from its first run.

A client sends ``Idempotency-Key: <key>`` (or ``extensions.idempotencyKey``, for transports
without headers) with a mutation. The first request claims the key in the
``fraiseql_idempotency`` table, in the same transaction as the mutation, and stores its
complete response there before COMMIT: a crash before the commit leaves neither the key nor
the writes, after it both exist. A retry with the same key and the same request reads the
stored bytes back (``Idempotent-Replayed: true``) and the mutation does not run again. A retry
that arrives while the first request is still running waits on the key's row (the claim's
``INSERT ... ON CONFLICT`` waits for the first transaction to end) for at most ``wait``
seconds, then gets ``IDEMPOTENCY_KEY_IN_PROGRESS`` (409).

Keys are scoped by the caller: the request's session settings (role and claims, see
:class:`~fraiseql.security.claims.SessionSettings`) and ``Idempotency.scope``. A key sent
again with another document, operation or variables gets ``IDEMPOTENCY_KEY_REUSED`` (422),
never the other request's answer. Only committed answers are kept: a mutation whose writes
were rolled back (a failed status of a lone mutation) leaves no key, so its retry runs again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import orjson

from fraiseql.db.pool import Database
from fraiseql.db.session import RequestSession
from fraiseql.db.sqlstate import RetryableTransactionError
from fraiseql.execution.outcome import ExecutionResponse, GraphQLRequest, RequestError
from fraiseql.execution.plan import PreparedDocumentOperation

logger = logging.getLogger("fraiseql.execution")

IDEMPOTENCY_TABLE = "fraiseql_idempotency"
IDEMPOTENCY_HEADER = "Idempotency-Key"
"""The request header carrying the key (draft-ietf-httpapi-idempotency-key-header)."""
REPLAYED_HEADER = "Idempotent-Replayed"
"""The response header of an answer read back from the table (``true``)."""
EXTENSION = "idempotencyKey"
"""The key in a request's ``extensions``, for WebSocket and other transports without headers."""
MAX_KEY_LENGTH = 255

IDEMPOTENCY_SQL = f"""
CREATE TABLE IF NOT EXISTS {IDEMPOTENCY_TABLE} (
    scope_hash   text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    response     bytea,
    has_errors   boolean,
    data_is_null boolean,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (scope_hash, key)
);
CREATE INDEX IF NOT EXISTS {IDEMPOTENCY_TABLE}_expires_at_idx ON {IDEMPOTENCY_TABLE} (expires_at);
REVOKE ALL ON {IDEMPOTENCY_TABLE} FROM PUBLIC;

CREATE OR REPLACE FUNCTION fraiseql_idempotency_claim(
    p_scope text, p_key text, p_request text, p_ttl interval, p_wait_ms integer)
RETURNS TABLE (claimed boolean, stored_request text, stored_response bytea,
               stored_has_errors boolean, stored_data_is_null boolean)
LANGUAGE plpgsql SECURITY DEFINER SET lock_timeout = 0 AS $fn$
DECLARE
    v_row {IDEMPOTENCY_TABLE};
BEGIN
    -- Local to this function (its SET clause restores the caller's value on exit).
    PERFORM set_config('lock_timeout', greatest(p_wait_ms, 1)::text, true);
    FOR v_attempt IN 1..3 LOOP
        -- Waits while another transaction holds an uncommitted claim of the same key.
        INSERT INTO {IDEMPOTENCY_TABLE} (scope_hash, key, request_hash, expires_at)
        VALUES (p_scope, p_key, p_request, clock_timestamp() + p_ttl)
        ON CONFLICT (scope_hash, key) DO NOTHING;
        IF FOUND THEN
            RETURN QUERY SELECT true, p_request, NULL::bytea, NULL::boolean, NULL::boolean;
            RETURN;
        END IF;
        SELECT * INTO v_row FROM {IDEMPOTENCY_TABLE} WHERE scope_hash = p_scope AND key = p_key;
        IF FOUND AND v_row.expires_at > clock_timestamp() THEN
            RETURN QUERY SELECT false, v_row.request_hash, v_row.response, v_row.has_errors,
                                v_row.data_is_null;
            RETURN;
        END IF;
        DELETE FROM {IDEMPOTENCY_TABLE}
        WHERE scope_hash = p_scope AND key = p_key AND expires_at <= clock_timestamp();
    END LOOP;
    RAISE EXCEPTION 'the idempotency key is being replaced concurrently'
        USING ERRCODE = 'lock_not_available';
END $fn$;

CREATE OR REPLACE FUNCTION fraiseql_idempotency_store(
    p_scope text, p_key text, p_response bytea, p_has_errors boolean, p_data_is_null boolean)
RETURNS void LANGUAGE sql SECURITY DEFINER AS $fn$
    UPDATE {IDEMPOTENCY_TABLE}
    SET response = p_response, has_errors = p_has_errors, data_is_null = p_data_is_null
    WHERE scope_hash = p_scope AND key = p_key AND response IS NULL
$fn$;

CREATE OR REPLACE FUNCTION fraiseql_idempotency_purge(p_limit integer) RETURNS integer
LANGUAGE sql SECURITY DEFINER AS $fn$
    WITH gone AS (
        DELETE FROM {IDEMPOTENCY_TABLE} WHERE (scope_hash, key) IN (
            SELECT scope_hash, key FROM {IDEMPOTENCY_TABLE}
            WHERE expires_at <= now() ORDER BY expires_at LIMIT p_limit
            FOR UPDATE SKIP LOCKED)
        RETURNING 1)
    SELECT count(*)::integer FROM gone
$fn$;

-- SECURITY DEFINER functions must not resolve names through schemas others can write to.
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION fraiseql_idempotency_claim(text, text, text, interval, '
                   'integer) SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION fraiseql_idempotency_store(text, text, bytea, boolean, '
                   'boolean) SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION fraiseql_idempotency_purge(integer) '
                   'SET search_path = %I, pg_temp', current_schema());
END $$;
"""
"""The table and its three functions; run once (``Idempotency(install=True)`` does it).

The app role needs no privilege on the table: it calls the functions, which run as their owner.
"""

INSTALL_LOCK = 0x4652_4149_4944_454D
"""The advisory lock that makes concurrent installs (several app processes) wait in turn."""

_CLAIM_SQL = "SELECT * FROM fraiseql_idempotency_claim($1, $2, $3, $4, $5)"
_STORE_SQL = "SELECT fraiseql_idempotency_store($1, $2, $3, $4, $5)"
_PURGE_SQL = "SELECT fraiseql_idempotency_purge($1)"

Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy

ScopeGetter = Callable[[dict[str, Any]], str | None]
"""Adds to a key's scope from the request context (such as the authenticated user's id)."""


@dataclass(frozen=True, slots=True)
class Idempotency:
    """Idempotency keys for mutations, on a schema: ``Schema(idempotency=Idempotency())``.

    ``ttl`` (seconds, default 24 h) is how long a stored answer is replayed; after it the key
    is free again. ``wait`` (seconds) bounds how long a retry waits for the first request with
    its key before ``IDEMPOTENCY_KEY_IN_PROGRESS``; it holds a pool connection while it waits.
    ``install=True`` creates the table and its functions when the pool opens
    (:data:`IDEMPOTENCY_SQL`, under an advisory lock). Every ``purge_interval`` seconds
    (``None``: never) the app deletes expired rows, ``purge_batch`` per statement. ``scope``
    adds to the caller's identity, which is otherwise the request's session settings.
    """

    ttl: float = 24 * 3600.0
    wait: float = 5.0
    install: bool = False
    purge_interval: float | None = 600.0
    purge_batch: int = 1000
    scope: ScopeGetter | None = None

    def __post_init__(self) -> None:
        if not self.ttl > 0:
            raise ValueError("Idempotency ttl must be a positive number of seconds")
        if not 0 < self.wait <= 3600:
            raise ValueError("Idempotency wait must be between 0 and 3600 seconds (exclusive of 0)")
        if self.purge_interval is not None and not self.purge_interval > 0:
            raise ValueError("Idempotency purge_interval must be positive (or None)")
        if self.purge_batch < 1:
            raise ValueError("Idempotency purge_batch must be at least 1")


class IdempotencyKeyError(RequestError):
    """A request refused because of its idempotency key; ``status`` is its HTTP status.

    400 ``INVALID_IDEMPOTENCY_KEY``, 409 ``IDEMPOTENCY_KEY_IN_PROGRESS``, 422
    ``IDEMPOTENCY_KEY_REUSED``. Nothing was written.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__([{"message": message, "extensions": {"code": code}}])
        self.status = status
        self.code = code


def _invalid(message: str) -> IdempotencyKeyError:
    return IdempotencyKeyError(400, "INVALID_IDEMPOTENCY_KEY", message)


def check_key(key: object) -> str:
    """``key`` if it is a valid idempotency key (1 to 255 printable ASCII characters)."""
    if not isinstance(key, str):
        raise _invalid(f"The {IDEMPOTENCY_HEADER} must be a string.")
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise _invalid(
            f"The {IDEMPOTENCY_HEADER} must have 1 to {MAX_KEY_LENGTH} characters, not {len(key)}."
        )
    if not all(" " <= character <= "~" for character in key):
        raise _invalid(f"The {IDEMPOTENCY_HEADER} may hold only printable ASCII characters.")
    return key


def request_key(request: GraphQLRequest, context: Mapping[str, Any]) -> str | None:
    """The key the request carries (header or extension), ``None`` without one.

    The header is read only from an HTTP request: a WebSocket's handshake headers would
    apply to every operation of the connection.
    """
    header = None
    http = context.get("request")
    if getattr(http, "scope", {}).get("type") == "http":
        header = http.headers.get(IDEMPOTENCY_HEADER)  # type: ignore[union-attr]
    extension = (request.extensions or {}).get(EXTENSION)
    if header is None and extension is None:
        return None
    if header is not None and extension is not None and header != extension:
        raise _invalid(
            f"The {IDEMPOTENCY_HEADER} header and extensions.{EXTENSION} differ: send one key."
        )
    return check_key(header if header is not None else extension)


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def request_hash(prepared: PreparedDocumentOperation, request: GraphQLRequest) -> str:
    """What a replay must match: the document, the operation and the variables.

    The document is the text that was parsed (a persisted query's too), so a retry that sends
    only the hash of an automatic persisted query matches its first request.
    """
    operation = prepared.operation
    location = operation.loc
    document = location.source.body if location is not None else (request.query or "")
    name = operation.name.value if operation.name is not None else ""
    variables = orjson.dumps(request.variables or {}, option=orjson.OPT_SORT_KEYS, default=str)
    return _digest(document.encode(), name.encode(), variables)


class IdempotencyKeys:
    """A schema's idempotency: keys of requests, the table's install and its purge."""

    def __init__(self, options: Idempotency) -> None:
        self.options = options
        self._ttl = timedelta(seconds=options.ttl)
        self._wait_ms = max(1, round(options.wait * 1000))
        self._purger: asyncio.Task[None] | None = None
        self.replayed = 0
        """Answers read back from the table (for tests and metrics)."""

    def keyed(
        self,
        prepared: PreparedDocumentOperation,
        request: GraphQLRequest,
        context: dict[str, Any],
        settings: list[tuple[str, str]] | None,
    ) -> KeyedRequest | None:
        """The keyed form of a mutation request, ``None`` when it carries no key.

        Raises :class:`IdempotencyKeyError` (400) for a malformed key.
        """
        key = request_key(request, context)
        if key is None:
            return None
        identity = [[name, value] for name, value in settings or () if name != "statement_timeout"]
        extra = self.options.scope(context) if self.options.scope is not None else None
        scope = _digest(orjson.dumps(identity), orjson.dumps(extra))
        return KeyedRequest(self, key, scope, request_hash(prepared, request))

    async def install(self, connection: Connection) -> None:
        """Create the table and its functions (idempotent, one installer at a time)."""
        async with connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", INSTALL_LOCK)
            await connection.execute(IDEMPOTENCY_SQL)

    async def check(self, pool: asyncpg.Pool) -> None:
        """When the pool opens: install, or warn when the functions are missing."""
        async with pool.acquire() as connection:
            if self.options.install:
                await self.install(connection)
                return
            found = await connection.fetchval(
                "SELECT to_regprocedure("
                "'fraiseql_idempotency_claim(text, text, text, interval, integer)') IS NOT NULL"
            )
        if not found:
            logger.warning(
                "idempotency keys are on but the database lacks %s: run "
                "fraiseql.execution.idempotency.IDEMPOTENCY_SQL (or Idempotency(install=True))",
                IDEMPOTENCY_TABLE,
            )

    async def purge(self, connection: Connection) -> int:
        """Delete every expired key, ``purge_batch`` rows per statement; returns how many."""
        total = 0
        while True:
            deleted = int(await connection.fetchval(_PURGE_SQL, self.options.purge_batch))
            total += deleted
            if deleted < self.options.purge_batch:
                return total

    def start(self, database: Database) -> None:
        """Purge expired keys every ``purge_interval`` seconds while the app runs."""
        if self.options.purge_interval is not None and self._purger is None:
            self._purger = asyncio.create_task(self._purge_forever(database))

    async def stop(self) -> None:
        """Stop purging."""
        task, self._purger = self._purger, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _purge_forever(self, database: Database) -> None:
        assert self.options.purge_interval is not None
        while True:
            await asyncio.sleep(self.options.purge_interval)
            try:
                async with database.pool.acquire() as connection:
                    deleted = await self.purge(connection)
            except (OSError, RuntimeError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                logger.warning("could not purge expired idempotency keys: %s", error)
            else:
                if deleted:
                    logger.info("purged %d expired idempotency keys", deleted)


class KeyedRequest:
    """One mutation request with an idempotency key: claim, run or replay, store."""

    __slots__ = ("key", "keys", "request", "scope")

    def __init__(self, keys: IdempotencyKeys, key: str, scope: str, request: str) -> None:
        self.keys = keys
        self.key = key
        self.scope = scope
        self.request = request

    async def run(
        self, session: RequestSession, execute: Callable[[], Awaitable[ExecutionResponse]]
    ) -> ExecutionResponse:
        """Replay the stored answer, or ``execute`` and store its answer in the transaction.

        ``session`` is the request's (transactional) session: the claim is its first statement
        after the settings, the stored answer its last before COMMIT.
        """
        row = await self._claim(session)
        if not row["claimed"]:
            return self._replay(row)
        response = await execute()
        if session.rolls_back:
            return response  # nothing stays, the claim neither: a retry runs again
        try:
            async with session.use() as connection:
                await connection.execute(
                    _STORE_SQL,
                    self.scope,
                    self.key,
                    response.body,
                    response.has_errors,
                    response.data_is_null,
                )
        except asyncpg.InFailedSQLTransactionError:
            # A statement of the mutation failed and aborted the transaction: COMMIT would
            # roll it back anyway. Say so, so that the session ends it with ROLLBACK.
            session.mark_rollback()
        return response

    async def _claim(self, session: RequestSession) -> asyncpg.Record:
        keys = self.keys
        try:
            async with session.use() as connection:
                row = await connection.fetchrow(
                    _CLAIM_SQL, self.scope, self.key, self.request, keys._ttl, keys._wait_ms
                )
        except (asyncpg.LockNotAvailableError, asyncpg.QueryCanceledError):
            raise IdempotencyKeyError(
                409,
                "IDEMPOTENCY_KEY_IN_PROGRESS",
                "A request with this Idempotency-Key is still running; retry later.",
            ) from None
        except asyncpg.TransactionRollbackError:
            # Under REPEATABLE READ or SERIALIZABLE, a claim committed after the snapshot: a
            # new transaction sees it.
            raise RetryableTransactionError from None
        except asyncpg.UndefinedFunctionError as error:
            raise RuntimeError(
                f"the database lacks {IDEMPOTENCY_TABLE}: run "
                "fraiseql.execution.idempotency.IDEMPOTENCY_SQL or use Idempotency(install=True)"
            ) from error
        assert row is not None
        return row

    def _replay(self, row: asyncpg.Record) -> ExecutionResponse:
        if row["stored_request"] != self.request:
            raise IdempotencyKeyError(
                422,
                "IDEMPOTENCY_KEY_REUSED",
                "This Idempotency-Key was used with another operation or other variables.",
            )
        body = row["stored_response"]
        if body is None:  # never committed without an answer; refuse rather than guess
            raise IdempotencyKeyError(
                409,
                "IDEMPOTENCY_KEY_IN_PROGRESS",
                "A request with this Idempotency-Key has no answer yet; retry later.",
            )
        self.keys.replayed += 1
        return ExecutionResponse(
            body=bytes(body),
            has_errors=bool(row["stored_has_errors"]),
            data_is_null=bool(row["stored_data_is_null"]),
            headers={REPLAYED_HEADER: "true"},
        )
