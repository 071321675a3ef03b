"""Fixtures of the chat example's tests: a seeded chat database and the app served on it."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import uvicorn
from examples.chat.app import build
from examples.chat.database import ORGANISATIONS, seed_uuid
from tests.conftest import temporary_database

from .test_chat_database import _prepare


@pytest.fixture(scope="module")
async def chat_app_dsn(server_dsn: str) -> AsyncIterator[str]:
    """A database with the chat example's schema and seed (one per test module)."""
    async with temporary_database(server_dsn) as dsn:
        await _prepare(dsn)
        yield dsn


@contextlib.contextmanager
def serving_chat(dsn: str) -> Iterator[str]:
    """The app with its page, served by uvicorn in a thread; yields its ``host:port``.

    It is ready once uvicorn has started and the event listener is connected (an event sent
    before the LISTEN would reach nobody).
    """
    directory = [
        {"id": str(seed_uuid("organisation", key)), "identifier": key, "name": name}
        for key, name in ORGANISATIONS.items()
    ]
    app = build(dsn, organisations=directory)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started, "uvicorn did not start"
        listener = getattr(app.state.fraiseql_schema, "listener", None)
        while listener is not None and getattr(listener, "backend_pid", 0) is None:
            assert time.monotonic() < deadline, "the event listener did not connect"
            time.sleep(0.02)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


@pytest.fixture
def served(chat_app_dsn: str) -> Iterator[str]:
    """The chat app served for one test (see :func:`serving_chat`); yields its ``host:port``."""
    with serving_chat(chat_app_dsn) as host:
        yield host
