"""The Grafana dashboards are valid, provisioned, and query only metrics that /metrics exports."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from examples.blog.observed import build
from prometheus_client.parser import text_string_to_metric_families

from .conftest import POSTS_QUERY, graphql, serving
from .dashboards import DASHBOARDS, DEPLOY, SYNTHETIC, metric_names, panel_queries


def test_five_valid_dashboards_with_unique_ids() -> None:
    assert [p.name for p in DASHBOARDS] == [
        "fraiseql-business.json",
        "fraiseql-cache.json",
        "fraiseql-errors.json",
        "fraiseql-queries.json",
        "fraiseql-system.json",
    ]
    uids = set()
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        uids.add(dashboard["uid"])
        assert dashboard["title"] and dashboard["panels"]
        ids = [panel["id"] for panel in dashboard["panels"]]
        assert len(ids) == len(set(ids))
        for panel in dashboard["panels"]:
            assert panel["datasource"]["uid"] == "prometheus"
            assert panel["targets"] and all(t["expr"].strip() for t in panel["targets"])
    assert len(uids) == 5


def test_metric_names_are_read_from_expressions() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, operation) (rate(x_bucket{phase="a{b}"}[1m])))'
        " / sum(rate(y_total[5m])) or vector(0)"
    )
    assert metric_names(expr) == {"x_bucket", "y_total"}


async def test_every_queried_metric_is_exported(blog_database: str) -> None:
    app = build(blog_database)
    async with serving(app) as client:
        await graphql(client, POSTS_QUERY, {"limit": 1})
        await graphql(client, "{ nope }")  # labelled series appear with their first sample
        text = (await client.get("/metrics")).text
    exported = {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    }
    queried = {name for query in panel_queries() for name in metric_names(query.expr)}
    assert queried - SYNTHETIC <= exported, sorted(queried - SYNTHETIC - exported)
    assert len(queried) >= 15


def test_grafana_provisioning_points_at_the_dashboards() -> None:
    compose = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
    provider = (DEPLOY / "grafana/provisioning/dashboards/fraiseql.yml").read_text("utf-8")
    assert "./grafana/dashboards:/var/lib/grafana/dashboards" in compose
    assert "path: /var/lib/grafana/dashboards" in provider
    datasource = (DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text("utf-8")
    assert "uid: prometheus" in datasource and "http://prometheus:9090" in datasource
    for service in ("postgres:", "app:", "prometheus:", "grafana:", "jaeger:"):
        assert f"\n  {service}\n" in compose


def _compose() -> list[str] | None:
    """``docker compose`` (the v2 plugin) when present, else Debian's ``docker-compose`` (v1)."""
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy is not None else None


def test_compose_file_is_valid() -> None:
    command = _compose()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is on this machine")
    result = subprocess.run(
        [*command, "-f", str(DEPLOY / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
