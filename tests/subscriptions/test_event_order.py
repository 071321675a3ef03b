"""The rows of one read for several events come in the order of the events, not of their ids.

Ids that arrive while a group reads are merged into its next read (``test_hub.py``); that read
must answer them in the order the events named them, whatever the rows' ids.
"""

from __future__ import annotations

import asyncpg
import orjson
from tests.subscriptions.support import TENANT_A, build_app, write_note

from fraiseql.execution.outcome import GraphQLRequest
from fraiseql.execution.subscribe import read_event, start_subscription


async def test_one_read_answers_its_ids_in_event_order(
    notes_dsn: str, writer: asyncpg.Connection
) -> None:
    low = await write_note(writer, TENANT_A, note_id="00000000-0000-4000-8000-00000000e001")
    high = await write_note(writer, TENANT_A, note_id="ffffffff-0000-4000-8000-00000000e002")
    app = build_app(notes_dsn)
    schema = app.state.fraiseql_schema
    async with app.router.lifespan_context(app):
        request = GraphQLRequest("subscription { noteChanged { id } }")
        prepared = schema.prepare(request)
        context = {"tenant_id": TENANT_A}
        operation = start_subscription(schema.executor, prepared, request, context)
        for order in ([high, low], [low, high]):
            bodies = await read_event(schema.executor, operation, order)
            got = [orjson.loads(body)["data"]["noteChanged"]["id"] for body in bodies]
            assert got == order
