"""Admission at the HTTP door: a refused request is answered 503 before its body is read."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import orjson
from starlette.types import Message

import fraiseql
from fraiseql.db.admission import AdmissionController
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.sql.select import Statement


@fraiseql.query
async def nap(info: fraiseql.Info, seconds: float) -> float | None:
    """Holds its connection for ``seconds``."""
    await info.repository.fetch_value(Statement("SELECT pg_sleep($1)", [seconds]))
    return seconds


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def overload(admission: AdmissionController, clock: Clock) -> None:
    """Two intervals of a standing queue of 40 ms waits; then 30 requests wait."""
    admission.waiting = 5
    for _ in range(25):
        clock.now += 0.01
        started = admission.enter()
        admission.leave(started - 0.04)
    admission.waiting = 30
    assert admission.overloaded


async def call(app: Any, body: bytes) -> tuple[int, dict[str, str], bytes, int]:
    """POST ``body`` to ``/graphql`` as an ASGI server would: status, headers, body, and how
    many times the application called ``receive``."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
    }
    receives = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal receives
        receives += 1
        if receives == 1:
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # the client is still there
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in start["headers"]}
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], headers, content, receives


async def test_a_refused_request_is_answered_503_without_reading_its_body(
    server_dsn: str,
) -> None:
    clock = Clock()
    database = Database(PoolSettings(dsn=server_dsn, max_size=2, admission=True))
    admission = database.admission = AdmissionController(clock=clock)
    app = fraiseql.create_app(queries=[nap], database=database)
    body = orjson.dumps({"query": "{ nap(seconds: 0) }"})
    async with app.router.lifespan_context(app):
        overload(admission, clock)
        answers = [await call(app, body) for _ in range(4)]
        # One refused per admitted one: the first queues (and is served), the second is refused.
        (ok, _, served, read), (status, headers, content, receives) = answers[:2]
        assert ok == 200 and orjson.loads(served) == {"data": {"nap": 0.0}}
        assert read >= 1  # an admitted request reads its body as usual
        assert status == 503
        assert receives == 0  # the refusal never touched the body
        assert headers["retry-after"] == "1"
        error = orjson.loads(content)["errors"][0]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "waiting too long" in error["message"]
        assert [answer[0] for answer in answers[2:]] == [200, 503]
        assert admission.refused == 2

        admission.waiting = 0  # nobody waiting: nobody would wait, nobody is refused
        assert (await call(app, body))[0] == 200
        assert admission.refused == 2


async def test_no_refusal_under_a_steady_load_below_capacity(server_dsn: str) -> None:
    database = Database(PoolSettings(dsn=server_dsn, max_size=4, admission=True))
    admission = database.admission
    assert admission is not None
    app = fraiseql.create_app(queries=[nap], database=database)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            deadline = time.monotonic() + 1.0

            async def user() -> list[int]:
                statuses = []
                while time.monotonic() < deadline:
                    answer = await client.post(
                        "/graphql", json={"query": "{ nap(seconds: 0.005) }"}
                    )
                    statuses.append(answer.status_code)
                    await asyncio.sleep(0.005)
                return statuses

            statuses = [
                s for each in await asyncio.gather(*(user() for _ in range(3))) for s in each
            ]
    assert len(statuses) > 50 and set(statuses) == {200}
    assert admission.refused == 0 and admission.overloaded_intervals == 0
