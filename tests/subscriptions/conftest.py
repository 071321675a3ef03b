"""Fixtures: the notes database, a served app on it, and a connection that writes notes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest
from tests.conftest import temporary_database
from tests.subscriptions.support import build_app, load, serving


@pytest.fixture(scope="session")
async def notes_dsn(server_dsn: str) -> AsyncIterator[str]:
    """A database holding ``tv_note`` and FraiseQL's helpers."""
    async with temporary_database(server_dsn) as dsn:
        await load(dsn)
        yield dsn


@pytest.fixture(scope="session")
def notes_app(notes_dsn: str) -> Any:
    """The notes API (built once: its listener and hub serve every test)."""
    return build_app(notes_dsn, websocket_init_timeout=1.0, max_subscriptions_per_connection=5)


@pytest.fixture(scope="session")
def port(notes_app: Any) -> Iterator[int]:
    """The port the notes API is served on."""
    with serving(notes_app) as bound:
        yield bound


@pytest.fixture
async def writer(notes_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection writing notes, outside the API."""
    connection = await asyncpg.connect(notes_dsn)
    try:
        yield connection
    finally:
        await connection.close()
