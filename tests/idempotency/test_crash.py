"""Exactly once across crashes: before the commit nothing stays, after it the retry replays."""

from __future__ import annotations

import asyncio
import secrets
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType

import asyncpg
import httpx
import pytest
from tests.idempotency.notes import (
    CREATE,
    build_app,
    build_schema,
    client,
    note,
    post,
    until_sleeping,
)
from tests.processes import AppProcess

from fraiseql import Idempotency, Schema
from fraiseql.db.session import RequestSession
from fraiseql.execution.idempotency import REPLAYED_HEADER

REPLAYED = REPLAYED_HEADER.lower()


@pytest.fixture(scope="module")
async def schema(notes_dsn: str) -> AsyncIterator[Schema]:
    schema = build_schema(notes_dsn, Idempotency(install=True, wait=3.0, purge_interval=None))
    await schema.open()
    try:
        yield schema
    finally:
        await schema.close()


@pytest.fixture(scope="module")
async def http(schema: Schema) -> AsyncIterator[httpx.AsyncClient]:
    async with client(build_app(schema)) as http:
        yield http


async def _committed(db: asyncpg.Connection, name: str, key: str) -> tuple[list[str], bytes | None]:
    """The notes called ``name`` and the answer stored under ``key``, as committed."""
    rows = await db.fetch("SELECT id::text FROM tb_note WHERE identifier = $1", name)
    stored = await db.fetchval("SELECT response FROM fraiseql_idempotency WHERE key = $1", key)
    return [row["id"] for row in rows], stored


async def _replays(http: httpx.AsyncClient, name: str, key: str, note_id: str) -> None:
    retry = await post(http, note(name), key=key)
    assert retry.headers.get(REPLAYED) == "true"
    payload = retry.json()["data"]["createNote"]
    assert payload["status"] == "SUCCESS" and payload["id"] == note_id


async def test_a_request_cancelled_after_its_commit_is_replayed(
    http: httpx.AsyncClient, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The task serving the request is cancelled once COMMIT returned, before it answers."""
    key, name = f"k-{secrets.token_hex(8)}", f"n-{secrets.token_hex(8)}"
    end_session = RequestSession.__aexit__
    committed = asyncio.Event()

    async def stall_after_commit(
        self: RequestSession,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await end_session(self, exc_type, exc, traceback)
        if exc_type is None and not committed.is_set():
            committed.set()
            await asyncio.sleep(30)  # where the answer would be written: cancelled here

    monkeypatch.setattr(RequestSession, "__aexit__", stall_after_commit)
    task = asyncio.create_task(post(http, note(name), key=key))
    await asyncio.wait_for(committed.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    monkeypatch.undo()
    ids, stored = await _committed(db, name, key)
    assert len(ids) == 1 and stored is not None and ids[0].encode() in stored
    await _replays(http, name, key, ids[0])
    assert len((await _committed(db, name, key))[0]) == 1


async def test_a_request_cancelled_before_its_commit_leaves_nothing(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """Cancelled while the function runs: no write and no key, so the retry runs it."""
    key, name = f"k-{secrets.token_hex(8)}", f"n-{secrets.token_hex(8)}"
    task = asyncio.create_task(post(http, note(name, sleep=0.5), key=key))
    await until_sleeping(db)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _committed(db, name, key) == ([], None)
    retry = await post(http, note(name, sleep=0.5), key=key)
    assert REPLAYED not in retry.headers
    assert retry.json()["data"]["createNote"]["status"] == "SUCCESS"
    ids, stored = await _committed(db, name, key)
    assert len(ids) == 1 and stored == retry.content


async def test_a_server_killed_after_the_commit_is_replayed_by_another(
    notes_dsn: str, http: httpx.AsyncClient, db: asyncpg.Connection, tmp_path: Path
) -> None:
    """A uvicorn process is SIGKILLed right after COMMIT; the retry goes to another server."""
    key, name = f"k-{secrets.token_hex(8)}", f"n-{secrets.token_hex(8)}"
    process = AppProcess(
        "crash",
        "tests.idempotency.crash_app:create",
        {"FRAISEQL_TEST_NOTES_DSN": notes_dsn},
        tmp_path,
    )
    try:
        await process.ready("/health/ready")
        with pytest.raises(httpx.TransportError):  # the connection dies without an answer
            await process.client.post(
                "/graphql",
                json={"query": CREATE, "variables": note(name)},
                headers={"Idempotency-Key": key, "X-Tenant": "acme"},
            )
        await asyncio.to_thread(process.process.wait, 10)
        assert process.process.returncode == -signal.SIGKILL
    finally:
        await process.close()
    ids, stored = await _committed(db, name, key)
    assert len(ids) == 1 and stored is not None
    await _replays(http, name, key, ids[0])
    assert len((await _committed(db, name, key))[0]) == 1
