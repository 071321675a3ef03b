"""``fraiseql serve``: several workers share the port, and a stop lets running requests finish.

With uvicorn on Linux each worker has its own SO_REUSEPORT socket (the default, which the tests
without ``--shared-socket`` use); the supervisor replaces a worker that dies and stops, once,
when the workers cannot start.
"""

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
from fraiseql.cli.serve_workers import REUSE_PORT_AVAILABLE, reuse_port_socket

APP = "tests.cli.serve_app:build"
WORKER = {"query": "{ worker }"}
needs_reuse_port = pytest.mark.skipif(not REUSE_PORT_AVAILABLE, reason="SO_REUSEPORT is Linux's")


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


async def _worker_pids(url: str, count: int, *, excluding: int = 0) -> set[int]:
    """Worker pids seen on new connections until ``count`` of them answered (all answer 200)."""
    pids: set[int] = set()
    async with asyncio.timeout(20):
        while len(pids) < count:
            async with httpx.AsyncClient(timeout=5) as client:  # a new connection each time
                response = await client.post(url, json=WORKER)
            assert response.status_code == 200, response.text
            pids.add(response.json()["data"]["worker"])
            assert excluding not in pids
    return pids


def _gone(pid: int) -> bool:
    """Whether the process has exited (a zombie nobody reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _wait_gone(*pids: int) -> None:
    deadline = time.monotonic() + 10
    while not all(_gone(pid) for pid in pids):
        assert time.monotonic() < deadline, f"still running: {pids}"
        time.sleep(0.05)


def _fraiseql_serve(*arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "fraiseql", "serve", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


def test_workers_auto_and_numbers() -> None:
    assert worker_count("3") == 3
    assert worker_count("auto") >= 1
    for wrong in ("0", "-1", "many"):
        with pytest.raises(typer.BadParameter):
            worker_count(wrong)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(("--server", "uvicorn"), id="reuse-port", marks=needs_reuse_port),
        pytest.param(("--server", "uvicorn", "--shared-socket"), id="shared-socket"),
        pytest.param(("--server", "granian"), id="granian"),
    ],
)
async def test_two_workers_answer_and_a_stop_finishes_what_runs(
    blog_database: str, options: tuple[str, ...]
) -> None:
    with served(blog_database, APP, "--workers", "2", *options) as (process, url):
        pids = await _worker_pids(url, 2)
        assert process.pid not in pids
        async with httpx.AsyncClient(timeout=10) as client:
            running = asyncio.create_task(
                client.post(url, json={"query": "{ slow(seconds: 1.0) }"})
            )
            await asyncio.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            response = await running
        assert response.json() == {"data": {"slow": 1.0}}
        assert await asyncio.to_thread(process.wait, 15) == 0
        await asyncio.to_thread(_wait_gone, *pids)


@needs_reuse_port
async def test_a_killed_worker_is_replaced_and_the_other_answers(blog_database: str) -> None:
    with served(blog_database, APP, "--workers", "2") as (process, url):
        victim, survivor = sorted(await _worker_pids(url, 2))
        os.kill(victim, signal.SIGKILL)
        # Once it is gone its socket is closed, and new connections go to the other one.
        await asyncio.to_thread(_wait_gone, victim)
        assert await _worker_pids(url, 1, excluding=victim) == {survivor}
        replaced = await _worker_pids(url, 2, excluding=victim)
        assert survivor in replaced and process.poll() is None


@needs_reuse_port
async def test_keep_alive_connections_opened_at_once_reach_both_workers(
    blog_database: str,
) -> None:
    with served(blog_database, APP, "--workers", "2") as (_, url):
        workers = await _worker_pids(url, 2)
        clients = [httpx.AsyncClient(timeout=10) for _ in range(20)]
        try:
            answered: dict[int, int] = dict.fromkeys(workers, 0)
            # The first round opens the 20 connections together, the others reuse them.
            for _ in range(5):
                responses = await asyncio.gather(*(c.post(url, json=WORKER) for c in clients))
                for response in responses:
                    answered[response.json()["data"]["worker"]] += 1
        finally:
            await asyncio.gather(*(client.aclose() for client in clients))
        assert sum(answered.values()) == 100 and all(answered.values()), answered


@needs_reuse_port
def test_a_worker_socket_is_tcp_and_shares_its_port() -> None:
    with reuse_port_socket("127.0.0.1", 0) as first:
        # asyncio sets TCP_NODELAY on accepted connections only when proto is IPPROTO_TCP.
        assert first.proto == socket.IPPROTO_TCP
        with reuse_port_socket("127.0.0.1", first.getsockname()[1]) as second:
            assert second.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1


@needs_reuse_port
def test_workers_that_cannot_start_stop_the_server_once() -> None:
    started = time.monotonic()
    port = str(_free_port())
    result = _fraiseql_serve("tests.cli.serve_app:broken", "--workers", "2", "--port", port)
    assert result.returncode == 3, result.stderr
    assert result.stderr.count("Traceback") == 1, result.stderr  # one worker tried, once
    assert "RuntimeError: this app cannot start" in result.stderr
    assert result.stderr.count("could not start (status 3") == 1, result.stderr
    assert time.monotonic() - started < 20


@needs_reuse_port
def test_a_port_in_use_is_refused_before_any_worker_starts() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = _fraiseql_serve(APP, "--workers", "2", "--port", port)
    assert result.returncode == 3 and "cannot listen" in result.stderr, result.stderr
    assert "Started worker" not in result.stderr


@needs_reuse_port
def test_a_second_server_on_the_same_port_is_refused(blog_database: str) -> None:
    """SO_REUSEPORT would let it share the port: it must fail instead, the first keep serving."""
    with served(blog_database, APP, "--workers", "2") as (_, url):
        port = url.split(":")[2].split("/")[0]
        result = _fraiseql_serve(APP, "--workers", "2", "--port", port)
        assert result.returncode == 3 and "cannot listen" in result.stderr, result.stderr
        assert httpx.post(url, json={"query": "{ __typename }"}, timeout=10).status_code == 200


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
