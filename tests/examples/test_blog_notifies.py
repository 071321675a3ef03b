"""The example's mutation functions tell subscriptions and caches what they changed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import orjson
import pytest
from examples.blog.database import load_schema, seed
from tests.conftest import temporary_database

from fraiseql.subscriptions.events import EVENTS_CHANNEL


@pytest.fixture(scope="module")
async def blog(server_dsn: str) -> AsyncIterator[str]:
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=2, users=6, posts=6, comments_per_post=2)
        yield dsn


async def test_create_update_and_delete_notify_their_rows(blog: str) -> None:
    connection = await asyncpg.connect(blog)
    heard: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    await connection.add_listener(
        EVENTS_CHANNEL, lambda *args: heard.put_nowait(orjson.loads(args[3]))
    )
    writer = await asyncpg.connect(blog)
    try:
        author = await writer.fetchval(
            "SELECT u.id::text FROM tb_user u WHERE u.role IN ('admin', 'author') LIMIT 1"
        )
        created = await writer.fetchrow(
            "SELECT status, id::text FROM fn_create_post($1::jsonb)",
            orjson.dumps(
                {"identifier": "notified", "title": "T", "body": "B", "author": author,
                 "category_path": "news"}
            ).decode(),
        )  # fmt: skip
        assert created["status"] == "success"
        event = await asyncio.wait_for(heard.get(), 5)
        assert (event["entity"], event["op"], event["ids"]) == ("post", "insert", [created["id"]])

        post_id = await writer.fetchval(
            "SELECT p.id::text FROM tb_post p WHERE EXISTS "
            "(SELECT FROM tb_comment c WHERE c.fk_post = p.pk_post) LIMIT 1"
        )
        renamed = await writer.fetchval(
            "SELECT status FROM fn_update_post($1::jsonb)",
            orjson.dumps({"post": post_id, "title": "Renamed"}).decode(),
        )
        assert renamed == "success"
        post_event = await asyncio.wait_for(heard.get(), 5)
        assert (post_event["entity"], post_event["op"]) == ("post", "update")
        comments = await asyncio.wait_for(heard.get(), 5)
        assert (comments["entity"], comments["op"]) == ("comment", "update")
        titles = await writer.fetch(
            "SELECT data->'post'->>'title' AS title FROM tv_comment WHERE id = ANY($1::uuid[])",
            comments["ids"],
        )
        assert titles and {row["title"] for row in titles} == {"Renamed"}  # resynced

        deleted = await writer.fetchval(
            "SELECT status FROM fn_delete_post($1::jsonb)",
            orjson.dumps({"post": post_id}).decode(),
        )
        assert deleted == "success"
        kinds = [await asyncio.wait_for(heard.get(), 5) for _ in range(2)]
        assert [(k["entity"], k["op"]) for k in kinds] == [
            ("post", "delete"),
            ("comment", "delete"),
        ]
    finally:
        await writer.close()
        await connection.close()
