"""WebSocket operations are observed like HTTP requests: logs, metrics, traces, error records."""

from __future__ import annotations

from typing import Any

from tests.subscriptions.support import (
    build_app,
    eventually,
    initialised,
    receive,
    serving,
    subscribe,
    ws_client,
)

from fraiseql.observability.config import Observability
from fraiseql.observability.observer import Observer
from fraiseql.observability.record import ErrorEvent, RequestRecord


class Recorder(Observer):
    """Keeps what it is told."""

    def __init__(self) -> None:
        self.finished: list[RequestRecord] = []
        self.errors: list[ErrorEvent] = []

    def error(self, record: RequestRecord, event: ErrorEvent) -> None:
        self.errors.append(event)

    def request_finished(self, record: RequestRecord) -> None:
        self.finished.append(record)


async def test_each_operation_over_the_socket_is_one_observed_request(notes_dsn: str) -> None:
    recorder = Recorder()
    observability = Observability(log_requests=False, observers=[recorder])
    app: Any = build_app(notes_dsn, observability=observability)
    with serving(app) as port:
        async with ws_client(port) as websocket:
            await initialised(websocket)
            await subscribe(websocket, "q", "query Hello { __typename }")
            assert (await receive(websocket))["type"] == "next"
            assert (await receive(websocket))["type"] == "complete"
            await subscribe(websocket, "bad", "subscription { nope }")
            assert (await receive(websocket))["type"] == "error"
            await subscribe(websocket, "s", "subscription Count { countdown(start: 1) }")
            assert (await receive(websocket))["type"] == "next"
        await eventually(lambda: len(recorder.finished) == 3)
    by_status = sorted((r.status, r.method, r.operation_name or "") for r in recorder.finished)
    assert by_status == [(200, "WS", "Count"), (200, "WS", "Hello"), (400, "WS", "")]
    assert [event.code for event in recorder.errors] == ["GRAPHQL_VALIDATION_FAILED"]
