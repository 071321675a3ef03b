"""The floor: a hand-written ASGI endpoint that answers FraiseQL's documents of the scenarios.

``uvicorn bench.compare.floor:app`` (database URL from ``BENCH_DATABASE_URL``). No GraphQL at
all: the request's document is looked up among the scenarios' (the create document is matched
around its identifier), the **statement FraiseQL's planner generates** for it is run with
asyncpg on as many connections as FraiseQL's pool holds (kept in a plain queue: see
:class:`Connections`), and each row's document is projected into FraiseQL's
response shape by the cheapest code there is for it: for the post by id and the two lists,
FraiseQL's own response builder (the C core, called directly on the rows with the plan of the
document: no GraphQL parsing, validation, planning or transport); for the connection and the
create, hand-written code (``orjson`` in and out). It is what the same work costs without a
framework: the lower bound FraiseQL is measured against. (Projecting the lists by hand in
Python, as it did before, made the floor slower than FraiseQL on the nested list: 1.4 to 1.8x,
which measured Python's object building, not the framework.)
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import orjson

from bench.compare import scenarios
from bench.compare.peer_sql import POOL_SIZE

Spec = tuple[tuple[str, str, Any], ...]
ENUM = "enum"

AUTHOR: Spec = (("id", "id", None), ("name", "name", None))
NODE: Spec = (("id", "id", None), ("title", "title", None), ("createdAt", "created_at", None))
CREATED: Spec = (
    ("id", "id", None),
    ("identifier", "identifier", None),
    ("title", "title", None),
    ("status", "status", ENUM),
    ("tags", "tags", None),
    ("author", "author", AUTHOR),
)


def project(document: dict[str, Any], spec: Spec) -> dict[str, Any]:
    """The selected fields of a stored document, in selection order, named as GraphQL names them."""
    out: dict[str, Any] = {}
    for name, key, sub in spec:
        value = document[key]
        if sub is ENUM:
            value = value.upper()
        elif sub is not None and value is not None:
            value = (
                [project(v, sub) for v in value] if isinstance(value, list) else project(value, sub)
            )
        out[name] = value
    return out


class Connections:
    """The floor's pool: ``POOL_SIZE`` connections in a stack, taken and put back, nothing else.

    asyncpg's ``Pool`` schedules a task and re-arms a timer on every release, two turns of the
    event loop (a fifth of the floor's instructions per lookup by id); FraiseQL's request
    sessions keep the connections they give back instead, so the floor must not pay it either.
    """

    def __init__(self, connections: list[asyncpg.Connection]) -> None:
        self._all = connections
        # Last in, first out, as FraiseQL's kept connections: at one request at a time both
        # reuse one warm backend instead of taking the ten in turn.
        self._free: asyncio.Queue[asyncpg.Connection] = asyncio.LifoQueue()
        for connection in connections:
            self._free.put_nowait(connection)

    @classmethod
    async def open(cls, dsn: str, size: int) -> Connections:
        """``size`` connections to ``dsn``."""
        return cls([await asyncpg.connect(dsn) for _ in range(size)])

    async def fetchval(self, sql: str, *args: Any) -> Any:
        """``Connection.fetchval`` on a free connection."""
        connection = await self._free.get()
        try:
            return await connection.fetchval(sql, *args)
        finally:
            self._give_back(connection)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """``Connection.fetch`` on a free connection."""
        connection = await self._free.get()
        try:
            return await connection.fetch(sql, *args)
        finally:
            self._give_back(connection)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        """``Connection.fetchrow`` on a free connection."""
        connection = await self._free.get()
        try:
            return await connection.fetchrow(sql, *args)
        finally:
            self._give_back(connection)

    def _give_back(self, connection: asyncpg.Connection) -> None:
        self._free.put_nowait(connection)  # every statement is its own transaction

    async def close(self) -> None:
        """Close every connection."""
        for connection in self._all:
            await connection.close()


Handler = Callable[[Connections, Any], Awaitable[bytes]]


def _statement(document: str) -> tuple[str, list[Any]]:
    """The SQL text and parameters FraiseQL's planner generates for ``document``'s root field."""
    from bench.common import blog_schema, root_plan, root_statement

    schema = blog_schema()
    statement = asyncio.run(root_statement(schema, root_plan(schema, document)))
    return statement.sql, list(statement.params)


def _rendered(document: str) -> tuple[str, list[Any], Any, bytes]:
    """The statement of ``document``'s root field, its compiled builder plan, its member key.

    The plan is the one the executor renders that root field's rows with (the active builder:
    the C core under ``FRAISEQL_IMPL=c``, as every server of the comparison runs).
    """
    from bench.common import blog_schema, root_plan, root_statement

    schema = blog_schema()
    root = root_plan(schema, document)
    statement = asyncio.run(root_statement(schema, root))
    return statement.sql, list(statement.params), root.compiled, b'{"data":{' + root.member_prefix


def _create_statement(document: str) -> tuple[str, str]:
    """The one statement FraiseQL runs for the create: the call and its pruned read-back."""
    from examples.blog.schema import MUTATIONS, QUERIES, TYPES

    from fraiseql import Schema
    from fraiseql.db.contract import MUTATE_SQL
    from fraiseql.execution.outcome import GraphQLRequest
    from fraiseql.sql.select import select_one

    schema = Schema(types=TYPES, queries=QUERIES, mutations=MUTATIONS)
    prepared = schema.prepare(GraphQLRequest(document))
    plan = prepared.plan(
        schema.graphql_schema, schema.model.mutations, schema.executor.serializers, {}, prune=True
    )
    (root,) = plan.roots
    read_sql = select_one(root.model.target, "id", "", drop=root.pruned, as_bytes=True).sql
    return MUTATE_SQL, read_sql


def build_handlers(p: scenarios.Parameters) -> dict[str, Handler]:
    """A handler per scenario document (the create one reads its variables)."""
    from fraiseql.native import active_builder

    builder = active_builder()
    documents = scenarios.documents("fraiseql", p)
    page_sql, page_params = _statement(documents["posts_connection"])
    first = page_params[-1] - 1

    def one(document: str) -> Handler:
        sql, params, plan, head = _rendered(document)

        async def handler(pool: Connections, _: Any) -> bytes:
            return head + builder.render_one(plan, await pool.fetchval(sql, *params)).value + b"}}"

        return handler

    def listing(document: str) -> Handler:
        sql, params, plan, head = _rendered(document)

        async def handler(pool: Connections, _: Any) -> bytes:
            rows = [row[0] for row in await pool.fetch(sql, *params)]
            return head + builder.render_rows(plan, rows).value + b"}}"

        return handler

    async def connection(pool: Connections, _: Any) -> bytes:
        rows = await pool.fetch(page_sql, *page_params)
        found = [row for row in rows if row[0] is not None]
        page = {
            "totalCount": rows[0][2],
            "pageInfo": {"hasNextPage": len(found) > first},
            "edges": [{"node": project(orjson.loads(row[0]), NODE)} for row in found[:first]],
        }
        return orjson.dumps({"data": {"postsConnection": page}})

    # The minimum for the same bytes: FraiseQL's own single statement (call, undo on a failed
    # status, read-back), without a transaction around it.
    create_sql, create_read_sql = _create_statement(documents["create_post"])

    async def create(pool: Connections, variables: Any) -> bytes:
        given = variables["input"]
        arguments = {  # FraiseQL's argument names and enum values, as its mutation sends them
            "identifier": given["identifier"],
            "title": given["title"],
            "body": given["body"],
            "author": given["author"],
            "status": given["status"].lower(),
            "tags": given["tags"],
            "category_path": given["categoryPath"],
        }
        status, _id, _message, _errors, text = await pool.fetchrow(
            create_sql, '"fn_create_post"', orjson.dumps(arguments).decode(), create_read_sql, []
        )
        payload = {"status": status.upper(), "post": project(orjson.loads(text), CREATED)}
        return orjson.dumps({"data": {"createPost": payload}})

    handlers: dict[str, Handler] = {
        documents["post_by_id"]: one(documents["post_by_id"]),
        documents["posts20_author"]: listing(documents["posts20_author"]),
        documents["posts100_nested"]: listing(documents["posts100_nested"]),
        documents["posts_connection"]: connection,
        documents["create_post"]: create,
    }
    return handlers


class Floor:
    """The raw ASGI application: lifespan opens the pool, POST /graphql answers."""

    def __init__(self, dsn: str | None = None) -> None:
        self.dsn = dsn  # else BENCH_DATABASE_URL, read at startup
        self.pool: Connections | None = None
        self.handlers: dict[str, Handler] = {}

    async def startup(self) -> None:
        dsn = self.dsn or os.environ["BENCH_DATABASE_URL"]
        p = await scenarios.parameters(dsn)
        self.handlers = await asyncio.to_thread(build_handlers, p)
        self.pool = await Connections.open(dsn, POOL_SIZE)

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
        status, payload = await self.answer(body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def answer(self, body: bytes) -> tuple[int, bytes]:
        assert self.pool is not None
        try:
            request = orjson.loads(body)
            handler = self.handlers.get(request["query"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return 400, b'{"errors":[{"message":"not a GraphQL request"}]}'
        if handler is None:
            return 400, b'{"errors":[{"message":"the floor answers the scenarios only"}]}'
        return 200, await handler(self.pool, request.get("variables"))


app = Floor()
