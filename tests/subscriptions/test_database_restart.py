"""A real PostgreSQL restart: the listener comes back and subscribers hear they missed events.

The shared test server cannot be restarted, so this test runs its own embedded one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from tests.subscriptions.support import TENANT_A, build_app, load, write_note

from fraiseql.db.locate import embedded_dsn, stop_embedded
from fraiseql.execution.outcome import GraphQLRequest
from fraiseql.subscriptions.events import MISSED_EVENTS_BODY


async def test_subscriptions_survive_a_database_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "pgdata"
    dsn = await asyncio.to_thread(embedded_dsn, data_dir)
    try:
        await load(dsn)
        app = build_app(dsn)
        schema = app.state.fraiseql_schema
        schema.listener.min_delay = 0.05
        async with app.router.lifespan_context(app):
            await asyncio.wait_for(schema.listener.connected.wait(), 5)
            request = GraphQLRequest("subscription { noteChanged { title } }", None, None)
            stream = schema.subscribe(schema.prepare(request), request, {"tenant_id": TENANT_A})
            await asyncio.to_thread(stop_embedded, data_dir)
            assert await asyncio.to_thread(embedded_dsn, data_dir) == dsn  # the same server
            assert await asyncio.wait_for(stream.__anext__(), 20) == MISSED_EVENTS_BODY
            assert schema.listener.reconnections == 1
            writer = await asyncpg.connect(dsn)
            try:
                await write_note(writer, TENANT_A, title="after the restart")
            finally:
                await writer.close()
            body = await asyncio.wait_for(stream.__anext__(), 10)
            assert b"after the restart" in body  # the pool reconnected too
            await stream.aclose()
    finally:
        await asyncio.to_thread(stop_embedded, data_dir)
