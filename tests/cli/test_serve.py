"""``fraiseql serve``: several workers share the port, and a stop lets running requests finish."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import typer
from typer.testing import CliRunner

from fraiseql.cli.main import app
from fraiseql.cli.serve import worker_count


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(dsn: str, *arguments: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = _free_port()
    command = [sys.executable, "-m", "fraiseql", "serve", *arguments]
    command += ["--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(
        command, env={**os.environ, "SERVE_TEST_DSN": dsn}, stdin=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.post(url, json={"query": "{ worker }"}, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def test_workers_auto_and_numbers() -> None:
    assert worker_count("3") == 3
    assert worker_count("auto") >= 1
    for wrong in ("0", "-1", "many"):
        with pytest.raises(typer.BadParameter):
            worker_count(wrong)


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
async def test_two_workers_answer_and_a_stop_finishes_what_runs(
    blog_database: str, server: str
) -> None:
    arguments = ("tests.cli.serve_app:build", "--workers", "2", "--server", server)
    with served(blog_database, *arguments) as (process, url):
        pids = set()
        async with asyncio.timeout(20):
            while len(pids) < 2:
                async with httpx.AsyncClient() as client:  # a new connection each time
                    response = await client.post(url, json={"query": "{ worker }"})
                pids.add(response.json()["data"]["worker"])
        assert len(pids) == 2 and process.pid not in pids
        async with httpx.AsyncClient(timeout=10) as client:
            running = asyncio.create_task(
                client.post(url, json={"query": "{ slow(seconds: 1.0) }"})
            )
            await asyncio.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            response = await running
        assert response.json() == {"data": {"slow": 1.0}}
        assert await asyncio.to_thread(process.wait, 15) == 0


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_a_wrong_target_fails_before_serving(server: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fraiseql",
            "serve",
            "tests.cli.nothing_here:app",
            "--server",
            server,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2 and "cannot import" in result.stderr


def test_granian_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "granian", None)  # as if it were not installed
    result = CliRunner().invoke(app, ["serve", "tests.cli.serve_app:build", "--server", "granian"])
    assert result.exit_code == 2, result.output
    assert "pip install 'fraiseql[serve-granian]'" in result.output


def test_an_unknown_server_is_refused() -> None:
    result = CliRunner().invoke(app, ["serve", "tests.cli.serve_app:build", "--server", "gunicorn"])
    assert result.exit_code == 2
    assert "uvicorn" in result.output and "granian" in result.output
