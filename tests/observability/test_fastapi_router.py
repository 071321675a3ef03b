"""The FastAPI router observed like create_app's: logs, metrics, health, lifespan hooks."""

from __future__ import annotations

import logging

import pytest
from examples.blog.schema import TYPES
from fastapi import FastAPI

import fraiseql
from fraiseql.fastapi import graphql_router, lifespan
from fraiseql.observability import Observability
from fraiseql.observability.health import DEFAULT_HEALTH_PATHS

from .conftest import POSTS_QUERY, TEST_QUERIES, context, serving
from .test_metrics import samples, value


async def test_a_router_is_observed_and_serves_metrics_and_health(
    blog_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    schema = fraiseql.Schema(
        types=TYPES,
        queries=TEST_QUERIES,
        database_url=blog_database,
    )
    observed = Observability(metrics=True, log_requests=True).install(schema)
    app = FastAPI(lifespan=lifespan(schema, observed))
    app.include_router(
        graphql_router(
            schema,
            context_getter=context,
            observability=observed,
            health_paths=DEFAULT_HEALTH_PATHS,
        ),
        prefix="/api",
    )
    caplog.set_level(logging.INFO, logger="fraiseql.request")
    async with serving(app) as client:
        response = await client.post(
            "/api/graphql", json={"query": POSTS_QUERY, "variables": {"limit": 2}}
        )
        failed = await client.post("/api/graphql", json={"query": "{ nope }"})
        metrics = await client.get("/api/metrics")
        live = await client.get("/api/health/live")
        ready = await client.get("/api/health/ready")
        openapi = await client.get("/openapi.json")
    assert response.status_code == 200 and len(response.json()["data"]["posts"]) == 2
    assert failed.status_code in (200, 400)
    values = samples(metrics.text)
    ok = {"operation": "RecentPosts", "operation_type": "query"}
    assert value(values, "fraiseql_requests_total", **ok, status="200") == 1
    assert value(values, "fraiseql_errors_total", category="user",
                 code="GRAPHQL_VALIDATION_FAILED") == 1  # fmt: skip
    assert value(values, "fraiseql_pool_max") == 10  # the pool was opened by the lifespan
    assert live.json() == {"status": "alive"}
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert not any(p.startswith("/api/") for p in openapi.json()["paths"])
    logged = [r.fraiseql for r in caplog.records if r.name == "fraiseql.request"]
    assert [(f["operation"], f["path"], f["status"]) for f in logged] == [
        ("RecentPosts", "/api/graphql", 200),
        (None, "/api/graphql", failed.status_code),
    ]


async def test_without_observability_the_router_serves_graphql_only(blog_database: str) -> None:
    schema = fraiseql.Schema(
        types=TYPES,
        queries=TEST_QUERIES,
        database_url=blog_database,
    )
    app = FastAPI(lifespan=lifespan(schema))
    app.include_router(graphql_router(schema))
    async with serving(app) as client:
        response = await client.post("/graphql", json={"query": "{ posts(limit: 1) { id } }"})
        metrics = await client.get("/metrics")
        ready = await client.get("/health/ready")
    assert response.status_code == 200
    assert metrics.status_code == 404 and ready.status_code == 404


async def test_bad_requests_through_an_observed_router_are_refused_and_counted(
    blog_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    schema = fraiseql.Schema(types=TYPES, queries=TEST_QUERIES, database_url=blog_database)
    observed = Observability(metrics=True, log_requests=True).install(schema)
    app = FastAPI(lifespan=lifespan(schema, observed))
    app.include_router(graphql_router(schema, observability=observed, max_body_size=1024))
    caplog.set_level(logging.INFO, logger="fraiseql.request")
    headers = {"Content-Type": "application/json"}
    async with serving(app) as client:
        broken = await client.post(
            "/graphql", content=b'{"query": "{ posts { id } ', headers=headers
        )
        huge = await client.post("/graphql", content=b"{" + b" " * 4096 + b"}", headers=headers)
        not_json = await client.post(
            "/graphql", content=b"query", headers={"Content-Type": "text/plain"}
        )
        deep = await client.post("/graphql", json={"query": "{" + "a {" * 400 + "}" * 401})
        metrics = await client.get("/metrics")
    for response in (broken, huge, not_json, deep):
        assert response.status_code < 500, response.text
        assert response.json()["errors"][0]["message"]
    assert (broken.status_code, huge.status_code) == (400, 413)
    assert not_json.status_code in (400, 415)
    statuses = sorted(r.fraiseql["status"] for r in caplog.records if r.name == "fraiseql.request")
    assert statuses == sorted(r.status_code for r in (broken, huge, not_json, deep))
    values = samples(metrics.text)
    assert sum(v for (name, _), v in values.items() if name == "fraiseql_requests_total") == 4
