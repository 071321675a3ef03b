"""The floor: a raw ASGI endpoint doing the same read as FraiseQL, and nothing else.

``uvicorn --factory bench.cache.floor:create`` (database ``BENCH_CACHE_DSN``). Built the way
``bench/compare/floor.py`` is (a plain ASGI callable, asyncpg, orjson; that one answers the
blog's scenarios and cannot see request headers, so it is not reused as is): a POST of the
benchmark's one body is answered by BEGIN, one ``set_config`` statement (the role and the
tenant claim from the ``X-Tenant-Id`` header, transaction-local), the **statement FraiseQL's
planner generates** for the query, COMMIT, and the selected keys of each row projected by hand
into FraiseQL's response bytes. No GraphQL, no cache: the least the same answer costs.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import asyncpg
import orjson

from bench.cache import model

POOL_SIZE = int(os.environ.get("FRAISEQL_POOL_MAX_SIZE", "10"))
SET_CONFIG = "SELECT set_config('role', $1::text, true), set_config($2::text, $3::text, true)"
FIELDS = ("id", "identifier", "title", "rank")


async def planned_statement() -> tuple[str, list[Any]]:
    """The SQL and parameters FraiseQL runs for ``model.QUERY`` with ``model.VARIABLES``.

    Planned from the same document with the variable's value written in (the statement and
    its parameters are the same; ``bench.common`` plans documents without variables too).
    """
    from graphql.execution.values import get_argument_values

    import fraiseql
    from bench.common import CapturingRepository
    from fraiseql.execution.outcome import GraphQLRequest
    from fraiseql.execution.root_fields import fetch_auto

    schema = fraiseql.Schema(types=[model.Item], queries=[model.plain_items])
    request = GraphQLRequest(f"{{ items(limit: {model.LIMIT}) {{ id identifier title rank }} }}")
    prepared = schema.prepare(request)
    plan = prepared.plan(  # type: ignore[attr-defined]
        schema.graphql_schema, schema.model.queries, schema.executor.serializers, {}, prune=True
    )
    (root,) = plan.roots
    arguments = get_argument_values(root.definition, root.nodes[0], None)
    repository = CapturingRepository()
    await fetch_auto(schema.model, root.model, root, arguments, repository)
    statement = repository.statement
    return statement.sql, list(statement.params)


class Floor:
    """Lifespan opens the pool; a POST of the benchmark's body is answered."""

    def __init__(self, dsn: str | None = None) -> None:
        self.dsn = dsn
        self.pool: asyncpg.Pool | None = None
        self.sql = ""
        self.params: list[Any] = []

    async def startup(self) -> None:
        self.sql, self.params = await planned_statement()
        self.pool = await asyncpg.create_pool(
            self.dsn or os.environ["BENCH_CACHE_DSN"], min_size=1, max_size=POOL_SIZE
        )

    async def shutdown(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await self.startup()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.shutdown()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        tenant = ""
        for name, value in scope["headers"]:
            if name == b"x-tenant-id":
                tenant = value.decode("latin-1")
        status, payload = await self.answer(body, tenant)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def answer(self, body: bytes, tenant: str) -> tuple[int, bytes]:
        assert self.pool is not None
        try:
            request = orjson.loads(body)
            known = request["query"] == model.QUERY and request.get("variables") == model.VARIABLES
        except (orjson.JSONDecodeError, KeyError, TypeError):
            known = False
        if not known:
            return 400, b'{"errors":[{"message":"the floor answers the benchmark query only"}]}'
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute(SET_CONFIG, model.ROLE, model.TENANT_SETTING, tenant)
            rows = await connection.fetch(self.sql, *self.params)
        items = []
        for row in rows:
            document = orjson.loads(row[0])
            items.append({key: document[key] for key in FIELDS})
        return 200, orjson.dumps({"data": {"items": items}})


def create() -> Floor:
    """The floor's ASGI app (``uvicorn --factory``)."""
    return Floor()


if __name__ == "__main__":  # pragma: no cover - a quick look at the statement
    print(asyncio.run(planned_statement()))
