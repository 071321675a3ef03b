"""Prometheus metrics at /metrics: requests, latency, errors, phases, database, pool, cache."""

from __future__ import annotations

import asyncio

from examples.blog.schema import TYPES
from prometheus_client.parser import text_string_to_metric_families

import fraiseql
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.observability import Observability

from .conftest import POSTS_QUERY, TEST_QUERIES, graphql, observed_app, serving


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def value(
    values: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return values.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_requests_errors_phases_and_cache_are_counted(blog_database: str) -> None:
    app = observed_app(blog_database, Observability(metrics=True, log_requests=False))
    async with serving(app) as client:
        for limit in (1, 2, 3):
            assert (await graphql(client, POSTS_QUERY, {"limit": limit})).status_code == 200
        await graphql(client, "query Crash { boom }")
        await graphql(client, "{ nope }")
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    values = samples(response.text)
    ok = {"operation": "RecentPosts", "operation_type": "query"}
    assert value(values, "fraiseql_requests_total", **ok, status="200") == 3
    assert value(values, "fraiseql_request_duration_seconds_count", **ok) == 3
    assert value(values, "fraiseql_request_duration_seconds_sum", **ok) > 0
    assert value(values, "fraiseql_request_db_seconds_count", **ok) == 3
    assert value(values, "fraiseql_db_statement_duration_seconds_count", outcome="ok") >= 3
    assert value(values, "fraiseql_errors_total", category="unexpected",
                 code="INTERNAL_SERVER_ERROR") == 1  # fmt: skip
    assert value(values, "fraiseql_errors_total", category="user",
                 code="GRAPHQL_VALIDATION_FAILED") == 1  # fmt: skip
    # The invalid document never got an operation.
    assert value(values, "fraiseql_requests_total", operation="(none)",
                 operation_type="(none)", status="200") == 1  # fmt: skip
    assert value(values, "fraiseql_phase_duration_seconds_count", phase="parse") == 5
    assert value(values, "fraiseql_phase_duration_seconds_count", phase="plan") == 4
    assert value(values, "fraiseql_document_cache_hits_total") == 2
    assert value(values, "fraiseql_document_cache_misses_total") == 3
    assert value(values, "fraiseql_document_cache_entries") == 3
    assert value(values, "fraiseql_pool_max") == 10
    assert value(values, "fraiseql_pool_size") >= 1


async def test_operation_labels_are_bounded(blog_database: str) -> None:
    app = observed_app(blog_database, Observability(metrics=True, log_requests=False))
    app.state.fraiseql_observability.metrics.max_operations = 2
    async with serving(app) as client:
        for name in ("A", "B", "C", "D"):
            await graphql(client, f"query {name} {{ __typename }}")
        values = samples((await client.get("/metrics")).text)
    operations = {
        dict(labels)["operation"] for (name, labels) in values if name == "fraiseql_requests_total"
    }
    assert operations == {"A", "B", "(other)"}


async def test_pool_waiting_requests_are_seen(blog_database: str) -> None:
    database = Database(PoolSettings(dsn=blog_database, max_size=1, acquire_timeout=10))
    schema = fraiseql.Schema(types=TYPES, queries=TEST_QUERIES, database=database)
    app = fraiseql.create_app(
        schema=schema, observability=Observability(metrics=True, log_requests=False)
    )
    async with serving(app) as client:
        query = "{ sleepy(seconds: 0.6) }"
        slow = [asyncio.create_task(graphql(client, query)) for _ in range(3)]
        for _ in range(25):  # while the first holds the only connection, two wait
            await asyncio.sleep(0.02)
            values = samples((await client.get("/metrics")).text)
            if value(values, "fraiseql_pool_waiting") == 2:
                break
        responses = await asyncio.gather(*slow)
    assert [r.status_code for r in responses] == [200] * 3
    assert value(values, "fraiseql_pool_in_use") == 1
    assert value(values, "fraiseql_pool_idle") == 0
    assert value(values, "fraiseql_pool_waiting") == 2


async def test_custom_metrics_share_the_registry(blog_database: str) -> None:
    from prometheus_client import CollectorRegistry, Counter

    registry = CollectorRegistry()
    signups = Counter("shop_signups", "Business events of the app.", registry=registry)
    signups.inc(4)
    app = observed_app(blog_database, Observability(metrics=True, registry=registry))
    async with serving(app) as client:
        values = samples((await client.get("/metrics")).text)
    assert value(values, "shop_signups_total") == 4
    assert ("fraiseql_pool_max", ()) in values


async def test_transport_failures_are_categorized(blog_database: str) -> None:
    """A 503 (no free connection) is a system error; a crash in the transport is unexpected."""
    from starlette.requests import Request

    def context(request: Request) -> dict[str, object]:
        if request.headers.get("x-crash"):
            raise RuntimeError("context getter bug")
        return {}

    database = Database(PoolSettings(dsn=blog_database, max_size=1, acquire_timeout=0.05))
    schema = fraiseql.Schema(types=TYPES, queries=TEST_QUERIES, database=database)
    app = fraiseql.create_app(
        schema=schema, context_getter=context,
        observability=Observability(metrics=True, log_requests=False),
    )  # fmt: skip
    async with serving(app) as client:
        holder = asyncio.create_task(graphql(client, "{ sleepy(seconds: 0.5) }"))
        await asyncio.sleep(0.1)
        busy = await graphql(client, POSTS_QUERY, {"limit": 1})
        crashed = await graphql(client, "{ __typename }", **{"x-crash": "1"})
        assert (await holder).status_code == 200
        values = samples((await client.get("/metrics")).text)
    assert busy.status_code == 503 and crashed.status_code == 500
    assert crashed.json()["errors"][0]["extensions"]["errorId"]
    assert value(values, "fraiseql_errors_total", category="system",
                 code="SERVICE_UNAVAILABLE") == 1  # fmt: skip
    assert value(values, "fraiseql_errors_total", category="unexpected",
                 code="INTERNAL_SERVER_ERROR") == 1  # fmt: skip
    assert value(values, "fraiseql_requests_total", operation="RecentPosts",
                 operation_type="query", status="503") == 1  # fmt: skip
