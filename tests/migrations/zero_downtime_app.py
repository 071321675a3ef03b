"""The app of the zero-downtime test: one release reads and writes ``title``, the next ``headline``.

``ZD_COLUMN`` says which column this process's release knows; ``ZD_DATABASE_URL`` where the
database is. ``GET /articles`` lists the latest articles, ``POST /articles`` creates one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

COLUMN = os.environ.get("ZD_COLUMN", "title")
assert COLUMN in ("title", "headline")
POOL: list[asyncpg.Pool] = []


async def articles(request: Request) -> JSONResponse:
    pool = POOL[0]
    if request.method == "POST":
        text = f"{COLUMN} {secrets.token_hex(4)}"
        row = await pool.fetchrow(
            f"INSERT INTO tb_article ({COLUMN}) VALUES ($1) RETURNING id::text, {COLUMN} AS text",
            text,
        )
        return JSONResponse({"id": row["id"], COLUMN: row["text"]})
    rows = await pool.fetch(
        f"SELECT id::text, {COLUMN} AS text FROM tb_article ORDER BY pk_article DESC LIMIT 5"
    )
    if any(row["text"] is None for row in rows):
        return JSONResponse({"error": f"an article without {COLUMN}"}, status_code=500)
    return JSONResponse([{"id": row["id"], COLUMN: row["text"]} for row in rows])


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    POOL.append(await asyncpg.create_pool(os.environ["ZD_DATABASE_URL"], min_size=1, max_size=4))
    try:
        yield
    finally:
        await POOL.pop().close()


app = Starlette(routes=[Route("/articles", articles, methods=["GET", "POST"])], lifespan=lifespan)
