"""An app for the ``fraiseql serve`` tests: it tells which process answered, and can be slow."""

from __future__ import annotations

import asyncio
import os

import fraiseql


@fraiseql.query
async def worker(info: fraiseql.Info) -> int:
    """The process id of the worker that answers."""
    return os.getpid()


@fraiseql.query
async def slow(info: fraiseql.Info, seconds: float) -> float:
    """Answers after ``seconds`` (a request in flight during a shutdown)."""
    await asyncio.sleep(seconds)
    return seconds


def build() -> object:
    """The app (a factory: ``fraiseql serve`` tells it from an app)."""
    return fraiseql.create_app(queries=[worker, slow], database_url=os.environ["SERVE_TEST_DSN"])


app = None if "SERVE_TEST_DSN" not in os.environ else build()


def broken() -> object:
    """A factory that fails in each worker (the module itself imports fine)."""
    raise RuntimeError("this app cannot start")
