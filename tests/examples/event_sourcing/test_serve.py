"""``python -m examples.event_sourcing.serve``: the database preparation and the projector
thread it runs beside the server."""

from __future__ import annotations

import asyncio
import threading
import time

import asyncpg
import pytest
from tests.conftest import temporary_database

from examples.event_sourcing import projector, serve

from .conftest import command, open_account


async def test_prepare_loads_once_and_reloads_on_reset(
    server_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with temporary_database(server_dsn) as dsn:
        monkeypatch.setenv("FRAISEQL_DATABASE_URL", dsn)
        assert await serve.prepare_database(reset=False) == dsn
        connection = await asyncpg.connect(dsn)
        try:
            await open_account(connection, "kept-account")
            await serve.prepare_database(reset=False)  # current: nothing reloaded
            assert (
                await connection.fetchval(
                    "SELECT count(*) FROM tb_stream WHERE identifier = 'kept-account'"
                )
                == 1
            )
            await connection.execute("COMMENT ON TABLE tb_event IS 'an older version'")
            await serve.prepare_database(reset=False)  # outdated: rebuilt and reseeded
            assert (
                await connection.fetchval(
                    "SELECT count(*) FROM tb_stream WHERE identifier = 'kept-account'"
                )
                == 0
            )
            assert await connection.fetchval("SELECT count(*) FROM tv_account") == 4
        finally:
            await connection.close()


async def test_the_projector_thread_follows_the_store_and_stops(events_dsn: str) -> None:
    stop = threading.Event()
    follower = threading.Thread(target=projector.run, args=(events_dsn, stop, 0.05))
    follower.start()
    connection = await asyncpg.connect(events_dsn)
    try:
        identifier = await open_account(connection, deposit="3.00")
        await command(connection, "fn_withdraw", {"account": identifier, "amount": "1.00"})
        deadline = time.monotonic() + 20
        while await projector.lag(connection, "daily_activity"):
            assert time.monotonic() < deadline, "the projector thread did not catch up"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.to_thread(follower.join, 10)
        await connection.close()
    assert not follower.is_alive()
