"""A JavaScript client of the served example: Node with graphql-request logs in, then runs a
query and a mutation (``js/client.mjs``).

``npm ci`` installs ``js/node_modules`` from the lock file (once, then again only when the
lock file changes). Skipped only when node or npm is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import uvicorn
from examples.saas.app import build
from examples.saas.database import demo_password
from examples.saas.tokens import SigningKey

JS = Path(__file__).resolve().parent / "js"
NODE = shutil.which("node")
NPM = shutil.which("npm")
INSTALL_TIMEOUT = 240.0

pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None, reason="node and npm are needed to run the JavaScript client"
)


def _install() -> None:
    assert NPM is not None
    marker = JS / "node_modules" / ".package-lock.json"  # written by npm at each install
    lock = JS / "package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return
    subprocess.run(
        [NPM, "ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(JS)],
        check=True,
        capture_output=True,
        timeout=INSTALL_TIMEOUT,
    )


@contextlib.contextmanager
def serving(dsn: str, key: SigningKey) -> Iterator[str]:
    """The app served by uvicorn on a free port of 127.0.0.1 in a thread; yields its base URL."""
    app = build(dsn, key)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


async def test_a_graphql_request_client_logs_in_queries_and_mutates(
    saas_db: str, signing_key: SigningKey
) -> None:
    await asyncio.to_thread(_install)
    assert NODE is not None
    with serving(saas_db, signing_key) as base:
        result = await asyncio.to_thread(
            subprocess.run,
            [NODE, "client.mjs", base, "acme", "bob@acme.example", demo_password("acme", "bob")],
            cwd=JS,
            capture_output=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    output = orjson.loads(result.stdout)
    assert output["loginStatus"] == 200
    assert output["projects"] == {
        "me": {"identifier": "bob", "role": "ADMIN"},
        "projects": [
            {"identifier": "mobile-app", "invoices": [
                {"identifier": "inv-2023-042", "total": "999.99"},
                {"identifier": "inv-2024-002", "total": "4442.48"}]},
            {"identifier": "website", "invoices": [
                {"identifier": "inv-2024-001", "total": "1427.50"}]},
        ],
    }  # fmt: skip
    created = output["created"]["createInvoice"]
    assert created["status"] == "SUCCESS"
    assert created["invoice"]["identifier"] == "inv-js-001"
    assert created["invoice"]["project"] == {"identifier": "website"}
    assert output["refused"] == {"status": 401}


async def test_the_javascript_client_gets_401_for_a_bad_password(
    saas_db: str, signing_key: SigningKey
) -> None:
    await asyncio.to_thread(_install)
    assert NODE is not None
    with serving(saas_db, signing_key) as base:
        result = await asyncio.to_thread(
            subprocess.run,
            [NODE, "client.mjs", base, "acme", "bob@acme.example", "wrong password"],
            cwd=JS,
            capture_output=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    output = orjson.loads(result.stdout)
    assert output["loginStatus"] == 401
    assert output["login"]["error"] == "invalid_credentials"
