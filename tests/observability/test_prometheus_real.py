"""Proof with real parts: Debian's Prometheus scrapes the observed example app (uvicorn, on a
database of its own) under a short load, and every dashboard panel's query returns data.

It runs deploy/prometheus/prometheus.yml with two changes: the target is the local app and the
interval is 1 s. Set ``FRAISEQL_OBS_PLOT=path.png`` to also draw what the panels show.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from examples.blog.database import load_schema, seed
from tests.conftest import temporary_database

from .dashboards import DEPLOY, panel_queries

PROMETHEUS = shutil.which("prometheus")
ROOT = Path(__file__).resolve().parents[2]
LOAD_SECONDS = float(os.environ.get("FRAISEQL_OBS_LOAD_SECONDS", "12"))
"""How long the load runs; the docs' plot was made with a longer one (see the guide)."""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        PROMETHEUS is None,
        reason="the prometheus binary is absent (Debian package 'prometheus'; .ci/run installs it)",
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running(command: list[str], log: Path, **options: object) -> Iterator[subprocess.Popen[bytes]]:
    """A subprocess in its own process group, stopped (then killed) on exit."""
    with log.open("wb") as output:
        process = subprocess.Popen(  # type: ignore[call-overload]
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True, **options
        )
        try:
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


async def wait_for(url: str, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    output = await asyncio.to_thread(log.read_text, errors="replace")
    raise AssertionError(f"{url} did not come up:\n{output[-3000:]}")


@contextlib.asynccontextmanager
async def blog(server_dsn: str) -> AsyncIterator[str]:
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=3, users=30, posts=200, comments_per_post=2)
        yield dsn


POSTS = "query RecentPosts($limit: Int) { posts(limit: $limit) { id title author { name } } }"
USERS = "query Users { users(first: 5) { edges { node { identifier name } } } }"
CREATE = (
    "mutation CreatePost($input: CreatePostInput!) {"
    " createPost(input: $input) { status message post { id } } }"
)


async def load(base: str, seconds: float) -> int:
    """A bounded mix: queries, mutations, new documents, client errors and refused requests."""
    counter = itertools.count()
    agents = ["curl/8.5", "python-httpx/0.27", "Mozilla/5.0 (X11)", "k6/0.5"]
    deadline = time.monotonic() + seconds
    sent = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal sent
        while time.monotonic() < deadline:
            n = next(counter)
            headers = {"user-agent": agents[n % len(agents)]}
            kind = n % 10
            if kind < 5:
                body: dict[str, object] = {"query": POSTS, "variables": {"limit": 1 + n % 5}}
            elif kind == 5:
                body = {"query": USERS}
            elif kind == 6:
                author = "alice" if n % 20 < 10 else "nobody"  # the second fails validation
                body = {"query": CREATE, "variables": {"input": {
                    "identifier": f"load-{n}", "title": f"Load {n}", "author": author,
                    "categoryPath": "tech.load"}}}  # fmt: skip
            elif kind == 7:
                # A new document now and then: a cache miss (parse and validate) each time.
                body = {"query": f"query New{n // 10} {{ posts(limit: 1) {{ id }} }}"}
            elif kind == 8:
                body = {"query": "{ posts { nope } }"}
            else:
                refused = await client.get(
                    "/graphql", headers={**headers, "accept": "application/graphql-response+json"}
                )
                assert refused.status_code == 400
                sent += 1
                continue
            response = await client.post("/graphql", json=body, headers=headers)
            assert response.status_code == 200, response.text
            sent += 1

    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        await asyncio.gather(*(worker(client) for _ in range(4)))
    return sent


async def test_every_dashboard_panel_returns_data(server_dsn: str, tmp_path: Path) -> None:
    assert PROMETHEUS is not None
    app_port, prometheus_port = free_port(), free_port()
    config = (DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8")
    assert "app:8000" in config and "scrape_interval: 5s" in config
    config = config.replace("app:8000", f"127.0.0.1:{app_port}")
    config = config.replace("scrape_interval: 5s", "scrape_interval: 1s")
    (tmp_path / "prometheus.yml").write_text(config, encoding="utf-8")
    app_url = f"http://127.0.0.1:{app_port}"
    prometheus_url = f"http://127.0.0.1:{prometheus_port}"
    async with blog(server_dsn) as dsn:
        app_command = [
            sys.executable, "-m", "uvicorn", "examples.blog.observed:build", "--factory",
            "--host", "127.0.0.1", "--port", str(app_port), "--log-level", "warning",
        ]  # fmt: skip
        prometheus_command = [
            PROMETHEUS,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
            "--log.level=warn",
        ]
        environment = {**os.environ, "FRAISEQL_DATABASE_URL": dsn}
        environment.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
        with (
            running(app_command, tmp_path / "app.log", cwd=ROOT, env=environment),
            running(prometheus_command, tmp_path / "prometheus.log"),
        ):
            await wait_for(f"{app_url}/health/ready", tmp_path / "app.log")
            await wait_for(f"{prometheus_url}/-/ready", tmp_path / "prometheus.log")
            started = time.time()
            sent = await load(app_url, LOAD_SECONDS)
            await asyncio.sleep(2.5)  # two more scrapes after the last request
            ended = time.time()
            assert sent > 100
            empty = []
            async with httpx.AsyncClient(base_url=prometheus_url, timeout=10) as client:
                targets = (await client.get("/api/v1/targets")).json()
                [target] = targets["data"]["activeTargets"]
                assert target["health"] == "up", target
                for query in panel_queries():
                    reply = (await client.get("/api/v1/query", params={"query": query.expr})).json()
                    assert reply["status"] == "success", (query, reply)
                    if not reply["data"]["result"]:
                        empty.append(f"{query.dashboard} / {query.panel}: {query.expr}")
            output = os.environ.get("FRAISEQL_OBS_PLOT")
            if output:
                from bench.panels_plot import plot_panels

                plot_panels(prometheus_url, started - 2, ended, Path(output))
    assert not empty, "panels without data:\n" + "\n".join(empty)
