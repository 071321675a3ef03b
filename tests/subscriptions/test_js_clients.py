"""The real JavaScript clients against the served notes app: ``graphql-ws`` and ``graphql-sse``.

The npm packages of ``tests/subscriptions/js/package.json`` (installed with ``npm ci`` when
``node_modules`` is missing or older than the lock file) run on Node: ``ws-client.mjs`` is the
``graphql-ws`` client with ``ws`` as its WebSocket, ``sse-client.mjs`` the ``graphql-sse``
client in distinct connections mode. Each script prints one JSON line per event and exits by
itself (after N events, once its operations settle, on "dispose" or after a timeout), so the
tests read what the libraries themselves made of the server's frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from tests.subscriptions.support import TENANT_A, TENANT_B, eventually, write_note

JS = Path(__file__).resolve().parent / "js"
NODE = shutil.which("node")
NPM = shutil.which("npm")
INSTALL_TIMEOUT = 180.0
RUN_TIMEOUT = 10.0
"""The bound of one script's life (it gives up by itself a second earlier)."""

CHANGED = "subscription($w: NoteWhereInput) { noteChanged(where: $w) { id title } }"

pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="no node/npm on PATH (Node 20+ runs the graphql-ws and graphql-sse clients)",
)


def _stale(modules: Path, lock: Path) -> bool:
    marker = modules / ".package-lock.json"  # written by npm at each install
    if not marker.exists():
        return True
    return marker.stat().st_mtime < lock.stat().st_mtime


@pytest.fixture(scope="session")
def js_clients() -> Path:
    """The directory of the scripts, with its ``node_modules`` installed from the lock file."""
    assert NPM is not None
    modules, lock = JS / "node_modules", JS / "package-lock.json"
    if _stale(modules, lock):
        command = [NPM, "ci", "--no-audit", "--no-fund", "--prefix", str(JS)]
        try:
            subprocess.run(command, capture_output=True, check=True, timeout=INSTALL_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.skip(f"npm ci did not finish within {INSTALL_TIMEOUT:.0f} s")
        except subprocess.CalledProcessError as failed:
            output = (failed.stdout + failed.stderr).decode(errors="replace")
            pytest.skip(f"npm ci failed (exit {failed.returncode}): {output[-800:]}")
    return JS


class NodeClient:
    """A running client script: its JSON events as they come, then its exit."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.events: list[dict[str, Any]] = []

    async def event(self, within: float = 5.0) -> dict[str, Any]:
        """The next event the script printed."""
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), within)
        if not line:
            stderr = await self._stderr()
            raise AssertionError(f"the script ended early (events {self.events}): {stderr}")
        event: dict[str, Any] = orjson.loads(line)
        self.events.append(event)
        return event

    async def wait_for(self, kind: str, within: float = 5.0) -> dict[str, Any]:
        """The next event of ``kind`` (the others are kept in :attr:`events`)."""
        async with asyncio.timeout(within):
            while True:
                event = await self.event(within)
                if event["event"] == kind:
                    return event

    async def finished(self) -> list[dict[str, Any]]:
        """Every event up to the script's ``done``; checks that it exited by itself, with 0."""
        while not self.events or self.events[-1]["event"] != "done":
            await self.event(RUN_TIMEOUT)
        code = await asyncio.wait_for(self.process.wait(), 5)
        assert code == 0, (code, self.events, await self._stderr())
        return self.events

    def dispose(self) -> None:
        """Ask the script to dispose of its client and exit."""
        assert self.process.stdin is not None
        self.process.stdin.write(b"dispose\n")

    def nexts(self, operation: str | None = None) -> list[Any]:
        """The payloads of the ``next`` events seen (of one operation)."""
        return [
            event["payload"]
            for event in self.events
            if event["event"] == "next" and operation in (None, event["id"])
        ]

    async def _stderr(self) -> str:
        assert self.process.stderr is not None
        with contextlib.suppress(TimeoutError):
            return (await asyncio.wait_for(self.process.stderr.read(), 2)).decode(errors="replace")
        return "<no stderr>"


@contextlib.asynccontextmanager
async def node(directory: Path, script: str, **spec: Any) -> AsyncIterator[NodeClient]:
    """Run ``script`` with ``spec``; it is killed if still running at the end."""
    assert NODE is not None
    spec.setdefault("timeout", int((RUN_TIMEOUT - 1) * 1000))
    process = await asyncio.create_subprocess_exec(
        NODE,
        str(directory / script),
        orjson.dumps(spec).decode(),
        cwd=directory,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
    )
    try:
        yield NodeClient(process)
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        await process.wait()
        assert process.stdin is not None
        process.stdin.close()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            await process.stdin.wait_closed()


def hub(app: Any) -> Any:
    return app.state.fraiseql_schema.events


def ws_handler(app: Any) -> Any:
    for route in app.router.routes:
        if getattr(route, "name", None) == "graphql-ws":
            return route.app
    raise AssertionError("no WebSocket route")


def ws_url(port: int) -> str:
    return f"ws://127.0.0.1:{port}/graphql"


def ids(payloads: list[Any]) -> list[str]:
    return [payload["data"]["noteChanged"]["id"] for payload in payloads]


async def test_graphql_ws_receives_the_rows_of_its_tenant_only(
    js_clients: Path, port: int, notes_app: Any, writer: asyncpg.Connection
) -> None:
    await eventually(lambda: hub(notes_app).subscriptions == 0)
    operations = [{"id": "changes", "query": CHANGED}]
    async with node(
        js_clients,
        "ws-client.mjs",
        url=ws_url(port),
        connectionParams={"tenantId": TENANT_A},
        operations=operations,
        events=2,
    ) as client:
        await client.wait_for("connected")
        await eventually(lambda: hub(notes_app).subscriptions == 1)
        first = await write_note(writer, TENANT_A, title="A one")
        await write_note(writer, TENANT_B, title="B one")
        await write_note(writer, TENANT_B, title="B two")
        second = await write_note(writer, TENANT_A, title="A two")
        events = await client.finished()
    # Events are delivered in commit order: a row of B would have come before "A two".
    assert ids(client.nexts()) == [first, second]
    assert [p["data"]["noteChanged"]["title"] for p in client.nexts()] == ["A one", "A two"]
    assert events[-1] == {"event": "done", "reason": "events"}
    assert not [event for event in events if event["event"] in ("error", "connection-error")]
    await eventually(lambda: hub(notes_app).subscriptions == 0)


@pytest.mark.parametrize("api", ["subscribe", "iterate"])
async def test_graphql_ws_runs_a_query_and_a_custom_subscription(
    js_clients: Path, port: int, writer: asyncpg.Connection, api: str
) -> None:
    note_id = await write_note(writer, TENANT_A, title="to read", notify=False)
    operations = [
        {
            "id": "query",
            "query": "query($id: UUID) { note(id: $id) { id title } }",
            "variables": {"id": note_id},
        },
        {"id": "countdown", "query": "subscription { countdown(start: 3) }"},
    ]
    async with node(
        js_clients,
        "ws-client.mjs",
        url=ws_url(port),
        connectionParams={"tenantId": TENANT_A},
        operations=operations,
        iterate=api == "iterate",
    ) as client:
        events = await client.finished()
    assert client.nexts("query") == [{"data": {"note": {"id": note_id, "title": "to read"}}}]
    assert client.nexts("countdown") == [{"data": {"countdown": n}} for n in (3, 2, 1)]
    completed = [event["id"] for event in events if event["event"] == "complete"]
    assert sorted(completed) == ["countdown", "query"]
    assert events[-1] == {"event": "done", "reason": "settled"}
    # Each operation completes after its last next.
    for operation in ("query", "countdown"):
        own = [e["event"] for e in events if e.get("id") == operation]
        assert own[-1] == "complete" and own.count("complete") == 1


async def test_graphql_ws_surfaces_validation_errors_to_the_sink(
    js_clients: Path, port: int
) -> None:
    operations = [
        {"id": "unknown field", "query": "subscription { noSuchField }"},
        {"id": "syntax", "query": "subscription { countdown(start: "},
        {"id": "still served", "query": "subscription { countdown(start: 1) }"},
    ]
    async with node(
        js_clients,
        "ws-client.mjs",
        url=ws_url(port),
        connectionParams={"tenantId": TENANT_A},
        operations=operations,
    ) as client:
        events = await client.finished()
    errors = {event["id"]: event["error"] for event in events if event["event"] == "error"}
    assert set(errors) == {"unknown field", "syntax"}
    unknown = errors["unknown field"]["graphqlErrors"]
    assert len(unknown) == 1
    assert "noSuchField" in unknown[0]["message"]
    assert unknown[0]["locations"] == [{"line": 1, "column": 16}]
    syntax = errors["syntax"]["graphqlErrors"]
    assert len(syntax) == 1 and "Syntax Error" in syntax[0]["message"]
    # The errors end their operations only: the socket still serves the third one.
    assert client.nexts("still served") == [{"data": {"countdown": 1}}]
    assert not client.nexts("unknown field") and not client.nexts("syntax")
    kinds = [(event["event"], event.get("id")) for event in events]
    assert ("closed", None) not in kinds[: kinds.index(("complete", "still served"))]
    assert events[-1] == {"event": "done", "reason": "settled"}


async def test_graphql_sse_receives_the_rows_of_its_tenant_only(
    js_clients: Path, port: int, notes_app: Any, writer: asyncpg.Connection
) -> None:
    await eventually(lambda: hub(notes_app).subscriptions == 0)
    async with node(
        js_clients,
        "sse-client.mjs",
        url=f"http://127.0.0.1:{port}/graphql",
        headers={"x-tenant-id": TENANT_B},
        operations=[{"id": "changes", "query": CHANGED}],
        events=2,
    ) as client:
        await eventually(lambda: hub(notes_app).subscriptions == 1)
        await write_note(writer, TENANT_A, title="A one")
        first = await write_note(writer, TENANT_B, title="B one")
        await write_note(writer, TENANT_A, title="A two")
        second = await write_note(writer, TENANT_B, title="B two")
        events = await client.finished()
    assert ids(client.nexts()) == [first, second]
    assert [p["data"]["noteChanged"]["title"] for p in client.nexts()] == ["B one", "B two"]
    assert events[-1] == {"event": "done", "reason": "events"}
    assert not [event for event in events if event["event"] == "error"]
    # Disposing of the client aborted its request, which ended the subscription on the server.
    await eventually(lambda: hub(notes_app).subscriptions == 0)


async def test_disposing_of_the_graphql_ws_client_releases_its_subscriptions(
    js_clients: Path, port: int, notes_app: Any, writer: asyncpg.Connection
) -> None:
    await eventually(lambda: hub(notes_app).subscriptions == 0)
    handler = ws_handler(notes_app)
    await eventually(lambda: handler.connections == 0)
    operations = [
        {"id": "all", "query": CHANGED},
        {"id": "liked", "query": CHANGED, "variables": {"w": {"likes": {"gte": 1}}}},
    ]
    async with node(
        js_clients,
        "ws-client.mjs",
        url=ws_url(port),
        connectionParams={"tenantId": TENANT_A},
        operations=operations,
    ) as client:
        await client.wait_for("connected")
        await eventually(lambda: hub(notes_app).subscriptions == 2)
        assert handler.connections == 1
        note_id = await write_note(writer, TENANT_A, title="seen", likes=0)
        seen = await client.wait_for("next")
        assert seen["id"] == "all" and seen["payload"]["data"]["noteChanged"]["id"] == note_id
        client.dispose()
        events = await client.finished()
    assert events[-1] == {"event": "done", "reason": "dispose"}
    await eventually(lambda: hub(notes_app).subscriptions == 0)
    await eventually(lambda: hub(notes_app).groups == 0)
    await eventually(lambda: handler.connections == 0)
