"""``fraiseql dev``: a new project served, reloaded on a .py and a .sql change, then Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import temporary_database

from fraiseql.cli.dev import fingerprint, project_root, sql_files
from fraiseql.cli.init import create_project

REPO = Path(__file__).resolve().parents[2]
DEV = [sys.executable, "-m", "fraiseql", "dev", "dev_notes.app:create_app"]
CHANGE_SECONDS = 15.0
"""How long a change may take to be served."""

CREATE = """
mutation ($input: CreateNoteInput!) {
  createNote(input: $input) { status errors { field code } note { identifier } }
}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Dev:
    """A running ``fraiseql dev``, its output collected line by line."""

    def __init__(self, project: Path, dsn: str | None) -> None:
        """Start it on ``dsn``; ``None``: without FRAISEQL_DATABASE_URL (the embedded server)."""
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        env = {key: value for key, value in os.environ.items() if key != "FRAISEQL_DATABASE_URL"}
        if dsn is not None:
            env["FRAISEQL_DATABASE_URL"] = dsn
        self.process = subprocess.Popen(
            [*DEV, "--port", str(self.port)],
            cwd=project,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def said(self, text: str, *, after: int = 0) -> None:
        """Wait until a line from index ``after`` on contains ``text``."""
        deadline = time.monotonic() + CHANGE_SECONDS
        while not any(text in line for line in self.lines[after:]):
            assert self.process.poll() is None, f"fraiseql dev exited:\n{self.output}"
            assert time.monotonic() < deadline, f"never said {text!r}:\n{self.output}"
            await asyncio.sleep(0.05)

    async def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a query; a connection a restarting server drops is tried again (bounded)."""
        deadline = time.monotonic() + CHANGE_SECONDS
        while True:
            try:
                async with httpx.AsyncClient(timeout=10) as client:
                    body = {"query": query, "variables": variables}
                    response = await client.post(self.url, json=body)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"no answer:\n{self.output}"
                await asyncio.sleep(0.1)
        assert response.status_code == 200, response.text
        decoded: dict[str, Any] = response.json()
        return decoded

    async def until(
        self, check: Callable[[], Awaitable[bool]], what: str, seconds: float = CHANGE_SECONDS
    ) -> float:
        """Retry ``check`` until it holds; return how long it took."""
        started = time.monotonic()
        while True:
            try:
                if await check():
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass  # the server is restarting
            assert self.process.poll() is None, f"fraiseql dev exited:\n{self.output}"
            assert time.monotonic() - started < seconds, f"{what} not served:\n{self.output}"
            await asyncio.sleep(0.1)

    def interrupt(self) -> int:
        """Ctrl-C, and the exit code."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(15)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the process if it still runs (Ctrl-C, then a kill), and close its output."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.reader.join(10)  # the output ends when the server processes are gone too
        assert self.process.stdout is not None
        if not self.reader.is_alive():
            self.process.stdout.close()


@pytest.fixture
async def dev(tmp_path: Path, server_dsn: str) -> AsyncIterator[tuple[Dev, Path]]:
    project = await asyncio.to_thread(create_project, "dev-notes", tmp_path, fraiseql_source=REPO)
    async with temporary_database(server_dsn) as dsn:
        running = Dev(project, dsn)
        try:
            yield running, project
        finally:
            running.close()


async def test_serves_reloads_survives_a_bad_file_and_stops(dev: tuple[Dev, Path]) -> None:
    server, project = dev

    async def notes_answer() -> bool:
        return (await server.query("{ notes { identifier } }")) == {"data": {"notes": []}}

    await server.until(notes_answer, "the first start", seconds=30)
    assert "built the database from 7 files of db/schema" in server.output
    assert server.url in server.output
    async with httpx.AsyncClient(timeout=10) as client:
        page = await client.get(server.url, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    created = await server.query(CREATE, {"input": {"identifier": "kept", "title": "Hello"}})
    assert created["data"]["createNote"]["status"] == "SUCCESS"

    # A .py change: a field computed in Python; the server restarts, the rows stay.
    types = project / "dev_notes" / "types.py"
    source = types.read_text()
    computed = (
        '    body: str = ""\n\n'
        "    @fraiseql.field\n"
        "    def title_length(self, info: object) -> int:\n"
        '        """How long the title is."""\n'
        "        return len(self.title)\n"
    )
    types.write_text(source.replace('    body: str = ""\n', computed, 1))

    async def field_served() -> bool:
        response = await server.query("{ notes { identifier titleLength } }")
        return response == {"data": {"notes": [{"identifier": "kept", "titleLength": 5}]}}

    assert await server.until(field_served, "the new field") < CHANGE_SECONDS
    assert "changed: dev_notes/types.py" in server.output

    # A .py file that does not import: the server stops, and the fix brings it back.
    seen = len(server.lines)
    good = types.read_text()
    types.write_text(good + "\ndef broken(:\n")
    await server.said("the server stopped (exit code 1)", after=seen)
    assert "SyntaxError" in server.output
    types.write_text(good)
    assert await server.until(field_served, "the fixed module") < CHANGE_SECONDS

    # A .sql change: a stricter check; the database is rebuilt (rows reset) and served.
    seen = len(server.lines)
    checks = project / "db" / "schema" / "10_tables" / "90_tb_note_checks.sql"
    checks.write_text(
        checks.read_text().replace("CHECK (btrim(title) <> '')", "CHECK (length(title) >= 3)")
    )
    attempt = 0

    async def check_served() -> bool:
        nonlocal attempt
        attempt += 1
        note = {"identifier": f"short-{attempt}", "title": "ab"}
        data = (await server.query(CREATE, {"input": note}))["data"]
        payload = data["createNote"] if data else {}
        return (
            payload.get("status") == "VALIDATION_ERROR" and payload["errors"][0]["field"] == "title"
        )

    started = time.monotonic()
    await server.said("built the database from 7 files", after=seen)
    await server.said("restarting the server", after=seen)
    await server.until(check_served, "the new check")
    assert time.monotonic() - started < CHANGE_SECONDS
    assert (await server.query("{ notes { identifier } }")) == {"data": {"notes": []}}

    # A failing .sql file: reported with its line; the last good schema stays served.
    seen = len(server.lines)
    broken = project / "db" / "schema" / "10_tables" / "91_broken.sql"
    broken.write_text("-- a typo\nCREATE TABLE broken (;\n")
    await server.said(
        "error in db/schema/10_tables/91_broken.sql, line 2: syntax error", after=seen
    )
    assert await check_served()
    seen = len(server.lines)
    broken.unlink()
    await server.said("the database already has the SQL of db/schema", after=seen)

    assert server.interrupt() == 0, server.output
    assert server.lines[-1] == "fraiseql dev: stopped"
    with pytest.raises(ConnectionRefusedError):  # nothing listens any more: the child is gone
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


async def test_refuses_a_database_it_did_not_build(tmp_path: Path, server_dsn: str) -> None:
    import asyncpg

    project = await asyncio.to_thread(
        create_project, "dev-notes", tmp_path, fraiseql_source=REPO, generate=False
    )
    (project / "db" / "schema").mkdir(parents=True, exist_ok=True)
    async with temporary_database(server_dsn) as dsn:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("CREATE TABLE precious (id int)")
        finally:
            await connection.close()
        result = await asyncio.to_thread(
            subprocess.run,
            [*DEV, "--port", str(_free_port())],
            cwd=project,
            env={**os.environ, "FRAISEQL_DATABASE_URL": dsn},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2, result.stdout + result.stderr
        assert "did not create" in result.stderr
        connection = await asyncpg.connect(dsn)
        try:
            assert await connection.fetchval("SELECT to_regclass('precious') IS NOT NULL")
        finally:
            await connection.close()


def test_files_in_path_order_and_their_fingerprint(tmp_path: Path) -> None:
    for name in ("20_b/01_x.sql", "10_a/02_y.sql", "10_a/01_z.sql", "10_a/notes.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(f"-- {name}\n")
    paths = sql_files(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "10_a/01_z.sql",
        "10_a/02_y.sql",
        "20_b/01_x.sql",
    ]
    first = fingerprint(tmp_path, paths)
    assert first.startswith("fraiseql dev ") and fingerprint(tmp_path, paths) == first
    (tmp_path / "10_a" / "02_y.sql").write_text("-- changed\n")
    assert fingerprint(tmp_path, paths) != first
    (tmp_path / "pyproject.toml").write_text("")
    assert project_root(tmp_path / "10_a") == tmp_path


async def test_apply_sql_builds_keeps_refuses_and_reports(tmp_path: Path, server_dsn: str) -> None:
    import asyncpg

    from fraiseql.cli.dev import RefusedDatabaseError, SQLApplyError, apply_sql

    (tmp_path / "10_tables").mkdir()
    table = tmp_path / "10_tables" / "01_t.sql"
    table.write_text("CREATE TABLE t (id int);\n")
    async with temporary_database(server_dsn) as dsn:
        assert await apply_sql(dsn, tmp_path, only_if_changed=True) == 1
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("INSERT INTO t VALUES (1)")
            assert await apply_sql(dsn, tmp_path, only_if_changed=True) is None  # rows kept
            assert await connection.fetchval("SELECT count(*) FROM t") == 1
            # CONTRACT_SQL ran first: the result type exists.
            assert await connection.fetchval("SELECT to_regtype('fraiseql_mutation_result')")
            (tmp_path / "10_tables" / "02_bad.sql").write_text("SELECT 1;\nCREATE TABLE (;\n")
            with pytest.raises(SQLApplyError, match=r"02_bad\.sql, line 2: syntax error"):
                await apply_sql(dsn, tmp_path, only_if_changed=True)
            assert await connection.fetchval("SELECT count(*) FROM t") == 1  # rolled back
            (tmp_path / "10_tables" / "02_bad.sql").unlink()
            assert await apply_sql(dsn, tmp_path, only_if_changed=False) == 1  # rebuilt
            assert await connection.fetchval("SELECT count(*) FROM t") == 0
            await connection.execute("COMMENT ON SCHEMA public IS 'mine'")
            with pytest.raises(RefusedDatabaseError):
                await apply_sql(dsn, tmp_path, only_if_changed=False)
        finally:
            await connection.close()
