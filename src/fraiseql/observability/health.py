"""Liveness and readiness endpoints: ``/health/live`` and ``/health/ready``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from fraiseql.db.pool import Database

DEFAULT_HEALTH_PATHS = ("/health/live", "/health/ready")


async def readiness(database: Database | None, limit: float) -> tuple[bool, dict[str, object]]:
    """Whether the app can serve: its pool is open and answers ``SELECT 1`` within ``limit`` s."""
    if database is None:
        return True, {"status": "ready", "database": "none configured"}
    try:
        pool = database.pool
    except RuntimeError:
        return False, {"status": "unavailable", "reason": "the database pool is not open"}
    details: dict[str, object] = {
        "pool": {
            "size": pool.get_size(),
            "idle": database.idle_connections,
            "max": database.settings.max_size,
        }
    }
    try:
        async with asyncio.timeout(limit):
            async with database.borrow() as connection:
                await connection.fetchval("SELECT 1")
    except TimeoutError:
        reason = f"no answer from the database (or no free connection) within {limit:g} s"
        return False, {"status": "unavailable", "reason": reason, **details}
    except Exception as error:
        reason = f"database check failed: {type(error).__name__}"
        return False, {"status": "unavailable", "reason": reason, **details}
    return True, {"status": "ready", **details}


def health_routes(
    database: Database | None,
    paths: Sequence[str] = DEFAULT_HEALTH_PATHS,
    *,
    timeout: float = 1.0,
) -> list[BaseRoute]:
    """The two routes: live (the process answers) and ready (the database answers too)."""
    live_path, ready_path = paths

    async def live(request: Request) -> JSONResponse:
        return JSONResponse({"status": "alive"})

    async def ready(request: Request) -> JSONResponse:
        ok, body = await readiness(database, timeout)
        return JSONResponse(body, status_code=200 if ok else 503)

    return [
        Route(live_path, live, methods=["GET"], name="health_live", include_in_schema=False),
        Route(ready_path, ready, methods=["GET"], name="health_ready", include_in_schema=False),
    ]
