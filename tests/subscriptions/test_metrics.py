"""The fan-out and the listener are counted on the metrics endpoint."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
from tests.subscriptions.support import TENANT_A, build_app, eventually, write_note

from fraiseql.execution.outcome import GraphQLRequest
from fraiseql.observability.config import Observability


async def test_live_subscriptions_events_and_reads_are_exported(
    notes_dsn: str, writer: asyncpg.Connection
) -> None:
    app = build_app(notes_dsn, observability=Observability(metrics=True, log_requests=False))
    schema = app.state.fraiseql_schema
    async with app.router.lifespan_context(app):
        await eventually(lambda: schema.listener.backend_pid is not None)
        request = GraphQLRequest("subscription { noteChanged { title } }", None, None)
        stream = schema.subscribe(schema.prepare(request), request, {"tenant_id": TENANT_A})
        await write_note(writer, TENANT_A, title="counted")
        assert b"counted" in await asyncio.wait_for(stream.__anext__(), 5)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            text = (await client.get("/metrics")).text
        await stream.aclose()
    lines = dict(
        line.rsplit(" ", 1) for line in text.splitlines() if line.startswith("fraiseql_subscr")
    )
    assert float(lines["fraiseql_subscription_live"]) == 1
    assert float(lines["fraiseql_subscription_groups"]) == 1
    assert float(lines["fraiseql_subscription_events_total"]) >= 1
    assert float(lines["fraiseql_subscription_reads_total"]) >= 1
    assert float(lines["fraiseql_subscription_listener_connected"]) == 1
    assert "fraiseql_subscription_overflows_total" in lines
