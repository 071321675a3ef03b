"""Slow request bodies: refused with 408 after the body timeout, and no starvation of others.

A client that declares ``Content-Length: 100`` and sends 10 bytes used to hold its connection
for as long as it liked. The test serves the transport with uvicorn on 127.0.0.1, opens 2 000
such connections, and checks that a normal client is answered meanwhile and that every stalled
one gets a 408 and is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from fraiseql.asgi import build_asgi_app
from fraiseql.asgi.body import read_body
from fraiseql.asgi.errors import TransportError

STALLED = 2000
BODY_TIMEOUT = 1.0


@contextlib.contextmanager
def serving(app: Any) -> Iterator[int]:
    """``app`` under uvicorn on 127.0.0.1 and a free port, in a thread; yields the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app, lifespan="off", ws="none", log_level="warning", access_log=False, backlog=4096
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield port
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


async def stall(port: int) -> bytes:
    """Declare 100 bytes, send 10, then read whatever the server answers until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"query": '
        )
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=BODY_TIMEOUT + 20)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def test_stalled_bodies_get_408_and_others_are_served(executor: Any) -> None:
    app = build_asgi_app(executor, body_timeout=BODY_TIMEOUT)
    with serving(app) as port:
        stalled = [asyncio.create_task(stall(port)) for _ in range(STALLED)]
        await asyncio.sleep(0.3)  # let them connect and send their first bytes
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            started = time.monotonic()
            answer = await client.post("/graphql", json={"query": "{ hello }"}, timeout=10)
            waited = time.monotonic() - started
        assert answer.status_code == 200, answer.text
        assert waited < BODY_TIMEOUT  # not queued behind the stalled bodies
        replies = await asyncio.gather(*stalled)
    assert all(reply.startswith(b"HTTP/1.1 408 ") for reply in replies), {
        reply[:40] for reply in replies
    }
    assert b"did not arrive within 1 seconds" in replies[0]
    assert b"connection: close" in replies[0].lower()


async def test_a_body_that_arrives_in_time_is_read() -> None:
    chunks = iter(
        [
            {"type": "http.request", "body": b'{"query":', "more_body": True},
            {"type": "http.request", "body": b' "{ a }"}', "more_body": False},
        ]
    )

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(0.01)
        return next(chunks)

    assert await read_body(receive, 1000, 1.0) == b'{"query": "{ a }"}'


async def test_the_timeout_bounds_the_whole_body_not_each_chunk() -> None:
    async def receive() -> dict[str, Any]:  # a byte every 50 ms, forever
        await asyncio.sleep(0.05)
        return {"type": "http.request", "body": b" ", "more_body": True}

    started = time.monotonic()
    with pytest.raises(TransportError) as refused:
        await read_body(receive, 10_000, 0.3)
    assert refused.value.status == 408
    assert time.monotonic() - started < 1.0


def test_the_timeout_must_be_positive(executor: Any) -> None:
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match="body_timeout"):
            build_asgi_app(executor, body_timeout=bad)
    build_asgi_app(executor, body_timeout=None)  # no limit: allowed
