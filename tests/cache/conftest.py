"""A Redis server for the cache tests.

``FRAISEQL_TEST_REDIS_URL`` if set; else the server at 127.0.0.1:6379 if it answers PING; else a
``redis-server`` from PATH, started for the session on a Unix socket in a temporary directory,
without persistence, and stopped at the end. Without any of them the Redis tests skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REDIS_URL_ENV = "FRAISEQL_TEST_REDIS_URL"
NO_REDIS = (
    "no Redis server: set FRAISEQL_TEST_REDIS_URL, run one on 127.0.0.1:6379, "
    "or install redis-server (Debian's `redis-server` package) so the tests can start one"
)


def _pings(family: socket.AddressFamily, address: str | tuple[str, int]) -> bool:
    """Whether a Redis server answers PING at ``address`` within a second."""
    try:
        with socket.socket(family, socket.SOCK_STREAM) as connection:
            connection.settimeout(1.0)
            connection.connect(address)
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a Redis server the tests may write to (under their own prefixes)."""
    pytest.importorskip("redis", reason="redis-py is not installed (the 'cache' extra)")
    configured = os.environ.get(REDIS_URL_ENV)
    if configured:
        yield configured
        return
    if _pings(socket.AF_INET, ("127.0.0.1", 6379)):
        yield "redis://127.0.0.1:6379/0"
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(NO_REDIS)
    with tempfile.TemporaryDirectory(prefix="fq-redis-") as directory:
        path = str(Path(directory) / "redis.sock")
        server = subprocess.Popen(
            [
                binary,
                "--port", "0",
                "--unixsocket", path,
                "--unixsocketperm", "700",
                "--save", "",
                "--appendonly", "no",
                "--dir", directory,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 10
            while not _pings(socket.AF_UNIX, path):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start (exit code {server.poll()})")
                time.sleep(0.05)
            yield f"unix://{path}?db=0"
        finally:
            server.terminate()
            try:
                server.wait(5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
