"""Structured request logs: the fields of each line, redaction, and both formats."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import orjson
import pytest

from fraiseql.observability import Observability, Redaction, configure_logging
from fraiseql.observability.redaction import REDACTED

from .conftest import POSTS_QUERY, graphql, observed_app, serving


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = configure_logging("json", stream=stream)
    package = logging.getLogger("fraiseql")
    try:
        yield stream
    finally:
        package.removeHandler(handler)
        package.setLevel(logging.NOTSET)


def request_lines(stream: io.StringIO) -> list[dict[str, object]]:
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    return [line for line in lines if line["logger"] == "fraiseql.request"]


async def test_one_json_line_per_request_with_its_fields(
    blog_database: str, log_stream: io.StringIO
) -> None:
    app = observed_app(blog_database, Observability())
    async with serving(app) as client:
        response = await graphql(
            client, POSTS_QUERY, {"limit": 2}, **{"x-tenant": "acme", "x-request-id": "req-1"}
        )
        again = await graphql(client, POSTS_QUERY, {"limit": 3})
    assert response.status_code == 200 and again.status_code == 200
    assert response.headers["x-request-id"] == "req-1"
    first, second = request_lines(log_stream)
    assert first["level"] == "INFO" and first["message"] == "graphql request"
    assert first["request_id"] == "req-1"
    assert first["operation"] == "RecentPosts" and first["operation_type"] == "query"
    assert first["tenant"] == "acme" and "tenant" not in second
    assert first["status"] == 200
    assert first["document_hash"] == second["document_hash"]
    assert len(str(first["document_hash"])) == 16
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] > 0
    assert first["db_statements"] == 1 and float(str(first["db_ms"])) > 0
    assert first["cache_hit"] is False and second["cache_hit"] is True
    # Values are redacted by default, keys stay; no trace id without tracing.
    assert first["variables"] == {"limit": REDACTED}
    assert "trace_id" not in first
    assert second["request_id"] != first["request_id"]


async def test_errors_are_listed_and_raise_the_level(
    blog_database: str, log_stream: io.StringIO
) -> None:
    app = observed_app(blog_database, Observability())
    async with serving(app) as client:
        await graphql(client, "{ boom }")
        await graphql(client, "{ nope }")
    crashed, invalid = request_lines(log_stream)
    assert crashed["level"] == "WARNING"
    [error] = crashed["errors"]  # type: ignore[misc]
    assert error["category"] == "unexpected" and error["code"] == "INTERNAL_SERVER_ERROR"
    assert error["error_id"]
    assert invalid["errors"] == [
        {"category": "user", "code": "GRAPHQL_VALIDATION_FAILED", "error_id": None}
    ]
    # The masked traceback is logged (as JSON too) under the same error id.
    tracebacks = [
        orjson.loads(line)
        for line in log_stream.getvalue().splitlines()
        if '"fraiseql.execution"' in line
    ]
    assert any(error["error_id"] in line["message"] for line in tracebacks)
    assert any("RuntimeError: boom" in line.get("exception", "") for line in tracebacks)


async def test_allowed_variables_keep_their_values(
    blog_database: str, log_stream: io.StringIO
) -> None:
    observability = Observability(redaction=Redaction.allowing(["limit"]))
    app = observed_app(blog_database, observability)
    async with serving(app) as client:
        await graphql(client, POSTS_QUERY, {"limit": 2})
    [line] = request_lines(log_stream)
    assert line["variables"] == {"limit": 2}


async def test_readable_format_for_development(blog_database: str) -> None:
    stream = io.StringIO()
    handler = configure_logging("text", stream=stream)
    try:
        app = observed_app(blog_database, Observability())
        async with serving(app) as client:
            await graphql(client, POSTS_QUERY, {"limit": 1}, **{"x-request-id": "dev-7"})
    finally:
        logging.getLogger("fraiseql").removeHandler(handler)
        logging.getLogger("fraiseql").setLevel(logging.NOTSET)
    line = stream.getvalue().strip().splitlines()[-1]
    assert " INFO    200 query RecentPosts " in line
    assert "request_id=dev-7" in line and "ms" in line
    with pytest.raises(ValueError, match="'json' or 'text'"):
        configure_logging("xml")


def test_redaction_keeps_keys_and_shapes() -> None:
    variables = {"input": {"title": "secret", "tags": ["a", {"x": 1}]}, "limit": 3, "n": None}
    assert Redaction().apply(variables) == {
        "input": {"title": REDACTED, "tags": [REDACTED, {"x": REDACTED}]},
        "limit": REDACTED,
        "n": REDACTED,
    }
    assert Redaction.allowing(["title"]).apply(variables) == {
        "input": {"title": "secret", "tags": [REDACTED, {"x": REDACTED}]},
        "limit": REDACTED,
        "n": REDACTED,
    }
    assert Redaction(enabled=False).apply(variables) is variables
    assert Redaction().apply(None) is None


async def test_request_ids_from_clients_are_plain_tokens_only(
    blog_database: str, log_stream: io.StringIO
) -> None:
    app = observed_app(blog_database, Observability())
    async with serving(app) as client:
        kept = await graphql(client, "{ __typename }", **{"x-request-id": "abc-123.x:y_z"})
        replaced = await graphql(client, "{ __typename }", **{"x-request-id": 'a b"<script>'})
        too_long = await graphql(client, "{ __typename }", **{"x-request-id": "x" * 65})
    assert kept.headers["x-request-id"] == "abc-123.x:y_z"
    for response in (replaced, too_long):
        fresh = response.headers["x-request-id"]
        assert len(fresh) == 32 and fresh.isalnum()
    assert [line["request_id"] for line in request_lines(log_stream)] == [
        "abc-123.x:y_z",
        replaced.headers["x-request-id"],
        too_long.headers["x-request-id"],
    ]


async def test_a_refusing_context_getter_still_ends_the_request(blog_database: str) -> None:
    from examples.blog.schema import QUERIES, TYPES
    from starlette.exceptions import HTTPException
    from starlette.requests import Request

    import fraiseql

    def refuse(request: Request) -> dict[str, str]:
        raise HTTPException(401, "who are you?")

    app = fraiseql.create_app(
        types=TYPES, queries=QUERIES, database_url=blog_database, context_getter=refuse,
        observability=Observability(metrics=True, log_requests=False),
    )  # fmt: skip
    async with serving(app) as client:
        response = await graphql(client, "{ __typename }")
        metrics = (await client.get("/metrics")).text
    assert response.status_code == 401
    # Refused before execution: no operation was started.
    assert 'operation="(none)",operation_type="(none)",status="401"} 1.0' in metrics


async def test_a_failing_observer_never_fails_the_request(
    blog_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    from fraiseql.observability import Observer

    class Broken(Observer):
        calls: list[str] = []

        def request_started(self, record: object) -> None:
            self.calls.append("request_started")
            raise RuntimeError("observer bug")

        def phase_finished(self, record: object, phase: str, seconds: float) -> None:
            self.calls.append(phase)
            raise RuntimeError("observer bug")

        def statement(self, record: object, *arguments: object) -> None:
            self.calls.append("statement")
            raise RuntimeError("observer bug")

        def request_finished(self, record: object) -> None:
            self.calls.append("request_finished")
            raise RuntimeError("observer bug")

    app = observed_app(blog_database, Observability(log_requests=False, observers=[Broken()]))
    with caplog.at_level(logging.ERROR, logger="fraiseql.observability"):
        async with serving(app) as client:
            Broken.calls.clear()  # the startup's own statements (the schema's checks)
            caplog.clear()
            response = await graphql(client, POSTS_QUERY, {"limit": 1})
    assert response.status_code == 200 and len(response.json()["data"]["posts"]) == 1
    assert Broken.calls == [
        # asyncpg reports a statement on the next loop turn: after the build began.
        "request_started", "parse", "plan", "build", "statement", "request_finished",
    ]  # fmt: skip
    failures = [r for r in caplog.records if r.name == "fraiseql.observability"]
    assert len(failures) == len(Broken.calls)
