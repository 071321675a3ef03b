"""Errors recorded in PostgreSQL: categories, fingerprints, upserts, the query API, and a
recorder that never fails or slows a request (queue full, writes refused, table missing)."""

from __future__ import annotations

import asyncio
import secrets
import urllib.parse
from collections.abc import AsyncIterator

import asyncpg
import pytest
from tests.conftest import temporary_database

from fraiseql.observability import (
    Observability,
    install_errors_table,
    list_errors,
    resolve_error,
    set_error_status,
)
from fraiseql.observability.classify import fingerprint, normalize_message
from fraiseql.observability.error_recorder import ErrorRecorder
from fraiseql.observability.record import ErrorEvent
from fraiseql.observability.redaction import REDACTED

from .conftest import graphql, observed_app, serving


@pytest.fixture
async def errors_dsn(server_dsn: str) -> AsyncIterator[str]:
    """A database of its own for the error table."""
    async with temporary_database(server_dsn) as dsn:
        yield dsn


def recorder_of(app: object) -> ErrorRecorder:
    recorder = app.state.fraiseql_observability.recorder  # type: ignore[attr-defined]
    assert isinstance(recorder, ErrorRecorder)
    return recorder


async def rows(dsn: str, **filters: str | None) -> list[dict[str, object]]:
    connection = await asyncpg.connect(dsn)
    try:
        return await list_errors(connection, **filters)  # type: ignore[arg-type]
    finally:
        await connection.close()


async def test_every_category_is_recorded_with_its_context(
    blog_database: str, errors_dsn: str
) -> None:
    observability = Observability(
        record_errors=True, errors_dsn=errors_dsn, install_errors_table=True
    )
    app = observed_app(blog_database, observability)
    async with serving(app) as client:
        for _ in range(3):
            response = await graphql(
                client, "query Crash($label: String) { boom(label: $label) }", {"label": "x"}
            )
            assert response.status_code == 200
        await graphql(client, "query Broken { broken }")
        await graphql(client, 'query Refuse { refuse(reason: "no") }')
        await graphql(client, "{ nope }")
        await recorder_of(app).flush()
        recorded = await rows(errors_dsn)
    assert sorted((r["category"], r["code"], r["path"]) for r in recorded) == [
        ("system", "INTERNAL_SERVER_ERROR", "broken"),
        ("unexpected", "INTERNAL_SERVER_ERROR", "boom"),
        ("user", "FORBIDDEN_THING", "refuse"),
        ("user", "GRAPHQL_VALIDATION_FAILED", None),
    ]
    by_category = {row["category"]: row for row in await rows(errors_dsn, status=None)}
    crash = next(
        row for row in await rows(errors_dsn, category="unexpected") if row["path"] == "boom"
    )
    assert crash["occurrences"] == 3
    assert crash["message"] == "RuntimeError: boom x"
    assert crash["operation_name"] == "Crash" and crash["document_hash"]
    assert crash["variables"] == {"label": REDACTED}
    assert crash["first_seen"] <= crash["last_seen"] and crash["status"] == "open"
    system = by_category["system"]
    assert system["sqlstate"] == "42P01" and system["path"] == "broken"
    assert system["code"] == "INTERNAL_SERVER_ERROR"
    user_codes = {row["code"] for row in await rows(errors_dsn, category="user")}
    assert user_codes == {"FORBIDDEN_THING", "GRAPHQL_VALIDATION_FAILED"}
    assert recorder_of(app).written == 6 and recorder_of(app).failed == 0


async def test_resolve_reopens_on_recurrence(blog_database: str, errors_dsn: str) -> None:
    observability = Observability(
        record_errors=True, errors_dsn=errors_dsn, install_errors_table=True
    )
    app = observed_app(blog_database, observability)
    async with serving(app) as client:
        await graphql(client, "{ boom }")
        await recorder_of(app).flush()
        [row] = await rows(errors_dsn)
        connection = await asyncpg.connect(errors_dsn)
        try:
            assert await resolve_error(connection, str(row["fingerprint"])[:10])
            assert not await resolve_error(connection, "ffffffffffff")
            assert not await resolve_error(connection, "%")
            assert await rows(errors_dsn) == []
            [resolved] = await rows(errors_dsn, status="resolved")
            assert resolved["resolved_at"] is not None
            await graphql(client, "{ boom }")
            await recorder_of(app).flush()
            [reopened] = await rows(errors_dsn)
            assert reopened["occurrences"] == 2 and reopened["resolved_at"] is None
            assert await set_error_status(connection, str(row["fingerprint"]), "ignored")
            await graphql(client, "{ boom }")
            await recorder_of(app).flush()
            assert await rows(errors_dsn) == []
            with pytest.raises(ValueError, match="status must be one of"):
                await list_errors(connection, status="gone")
        finally:
            await connection.close()


def test_fingerprint_groups_the_same_failure() -> None:
    first = ErrorEvent("user", "BAD_USER_INPUT", "no post 'a1' at index 3", ["posts", 3, "id"])
    second = ErrorEvent("user", "BAD_USER_INPUT", "no post 'zz' at index 7", ["posts", 9, "id"])
    other_code = ErrorEvent("user", "NOT_FOUND", "no post 'a1' at index 3", ["posts", 3, "id"])
    assert fingerprint(first, "Q") == fingerprint(second, "Q")
    assert fingerprint(first, "Q") != fingerprint(first, "R")
    assert fingerprint(first, "Q") != fingerprint(other_code, "Q")
    assert (
        normalize_message('id 0b7f4a9e-1c2d-4e5f-8a9b-0c1d2e3f4a5b is "x" after 12.5 s')
        == "id <uuid> is <str> after <n> s"
    )


async def _create_reader_role(server_dsn: str, dsn: str) -> tuple[str, str]:
    """A role that may read the error table but not write it; returns (role, its DSN)."""
    role = f"fraiseql_ro_{secrets.token_hex(4)}"
    connection = await asyncpg.connect(dsn)
    try:
        await install_errors_table(connection)
        await connection.execute(f"CREATE ROLE {role} LOGIN")
        await connection.execute("REVOKE ALL ON fraiseql_errors FROM PUBLIC")
        await connection.execute(f"GRANT SELECT ON fraiseql_errors TO {role}")
    finally:
        await connection.close()
    parts = urllib.parse.urlsplit(dsn)
    netloc = f"{role}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return role, urllib.parse.urlunsplit(parts._replace(netloc=netloc))


async def _drop_role(server_dsn: str, role: str) -> None:
    connection = await asyncpg.connect(server_dsn)
    try:
        await connection.execute(f"DROP ROLE IF EXISTS {role}")
    finally:
        await connection.close()


async def test_refused_writes_never_reach_the_request(blog_database: str, server_dsn: str) -> None:
    role = ""
    try:
        async with temporary_database(server_dsn) as dsn:
            role, reader_dsn = await _create_reader_role(server_dsn, dsn)
            observability = Observability(record_errors=True, errors_dsn=reader_dsn)
            app = observed_app(blog_database, observability)
            async with serving(app) as client:
                recorder = recorder_of(app)
                recorder.retry_delay = 0
                for _ in range(5):
                    response = await graphql(client, "{ boom posts(limit: 1) { id } }")
                    assert response.status_code == 200
                    body = response.json()
                    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
                    assert len(body["data"]["posts"]) == 1
                await recorder.flush()
                assert recorder.failed == 5 and recorder.written == 0
            assert await rows(dsn) == []
    finally:
        if role:
            await _drop_role(server_dsn, role)


async def test_a_missing_table_counts_failures(blog_database: str, errors_dsn: str) -> None:
    observability = Observability(record_errors=True, errors_dsn=errors_dsn)
    app = observed_app(blog_database, observability)
    async with serving(app) as client:
        recorder = recorder_of(app)
        recorder.retry_delay = 0
        response = await graphql(client, "{ boom }")
        assert response.status_code == 200
        await recorder.flush()
        assert recorder.failed == 1 and recorder.written == 0


async def test_a_full_queue_drops_and_counts(blog_database: str, errors_dsn: str) -> None:
    observability = Observability(
        record_errors=True, errors_dsn=errors_dsn, install_errors_table=True, error_queue_size=2
    )
    app = observed_app(blog_database, observability)
    async with serving(app) as client:
        recorder = recorder_of(app)
        await recorder.stop()  # nothing drains the queue now
        responses = await asyncio.gather(*(graphql(client, "{ boom }") for _ in range(5)))
        assert [r.status_code for r in responses] == [200] * 5
        assert recorder.queued == 2 and recorder.dropped == 3
        await recorder.start()
        await recorder.flush()
        assert recorder.written == 2
    [row] = await rows(errors_dsn)
    assert row["occurrences"] == 2


async def test_an_unreachable_database_counts_failures(blog_database: str) -> None:
    observability = Observability(
        record_errors=True, errors_dsn="postgresql://nobody@127.0.0.1:1/none"
    )
    app = observed_app(blog_database, observability)
    async with serving(app) as client:
        recorder = recorder_of(app)
        recorder.retry_delay = 0
        response = await graphql(client, "{ boom }")
        assert response.status_code == 200
        await recorder.flush()
        assert recorder.failed == 1
