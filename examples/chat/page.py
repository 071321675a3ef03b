"""The chat page: ``static/index.html`` at ``/``, and the organisations it offers to pick.

:func:`page_routes` gives the two routes ``create_app(routes=...)`` serves beside GraphQL:
``/`` (the page) and ``/organisations.json`` (the demo's sign-in list: id,
identifier and name of every organisation, read once by :func:`organisation_directory` as the
loading user). The page then lists an organisation's users with the ``users`` query, under that
organisation's claim.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGE = STATIC_DIR / "index.html"

_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


async def organisation_directory(dsn: str) -> list[dict[str, str]]:
    """Every organisation as ``{"id", "identifier", "name"}``, in identifier order."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT id::text, identifier, name FROM tb_organisation ORDER BY identifier"
        )
    finally:
        await connection.close()
    return [dict(row) for row in rows]


def page_routes(organisations: list[dict[str, Any]]) -> list[Route]:
    """The page at ``/`` and ``organisations`` at ``/organisations.json``."""

    async def page(request: Request) -> Response:
        return FileResponse(PAGE, media_type="text/html; charset=utf-8", headers=_NO_STORE)

    async def directory(request: Request) -> Response:
        return JSONResponse(organisations, headers=_NO_STORE)

    return [
        Route("/", page, methods=["GET"], name="chat-page"),
        Route("/organisations.json", directory, methods=["GET"], name="chat-organisations"),
    ]
