"""The floor: the least a server must do to fan an event out to its subscribers.

``python -m bench.subscriptions.floor --dsn URL --port N`` serves WebSockets on 127.0.0.1
with the ``websockets`` package, speaking just enough ``graphql-transport-ws``:
``connection_init`` → ``connection_ack``, ``subscribe`` (any document: every subscription is
taken to be ``messageAdded``), ``complete``, ``ping`` → ``pong``. One asyncpg connection
LISTENs on ``fraiseql_events``; on each event of the entity ``bench_message`` (insert or update)
a second connection runs ONE statement for all subscribers,
``SELECT data::text FROM tv_bench_message WHERE id = ANY($1::uuid[])``, and each row becomes one
``next`` frame per subscriber, the stored document pasted into the frame as it is. There is no
authorization, no per-subscriber filter, no projection and no bound on what a slow client
buffers: whatever FraiseQL does beyond this is the price of those.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Any

import asyncpg
import orjson
import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from bench.subscriptions.shared import CHANNEL, ENTITY, SUBPROTOCOL, TABLE, raise_fd_limit

READ_SQL = f"SELECT data::text FROM {TABLE} WHERE id = ANY($1::uuid[])"
SUFFIX = b"}}}"


class Floor:
    """The subscribers of this process and the loop that fans the events out to them."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        # connection -> {subscription id: the bytes of its frames up to the document}
        self.subscribers: dict[ServerConnection, dict[str, bytes]] = {}
        self.events: asyncio.Queue[list[str]] = asyncio.Queue()
        self.listener: asyncpg.Connection | None = None
        self.reader: asyncpg.Connection | None = None

    async def start(self) -> None:
        """Connect to the database and LISTEN."""
        self.reader = await asyncpg.connect(self.dsn, timeout=10)
        self.listener = await asyncpg.connect(self.dsn, timeout=10)
        await self.listener.add_listener(CHANNEL, self._notified)

    async def stop(self) -> None:
        """Close the database connections."""
        for connection in (self.listener, self.reader):
            if connection is not None:
                await connection.close(timeout=5)

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: object) -> None:
        event = orjson.loads(str(payload))
        if event.get("entity") == ENTITY and event.get("op") in ("insert", "update"):
            self.events.put_nowait(event["ids"])

    async def fan_out(self) -> None:
        """Forever: read each event's rows once and send every row to every subscriber."""
        assert self.reader is not None
        statement = await self.reader.prepare(READ_SQL)
        while True:
            ids = await self.events.get()
            if not self.subscribers:
                continue
            rows = await statement.fetch(ids)
            for (document,) in rows:
                tail = document.encode() + SUFFIX
                for connection, subscriptions in list(self.subscribers.items()):
                    for head in subscriptions.values():
                        broadcast((connection,), head + tail, text=True)

    async def handle(self, connection: ServerConnection) -> None:
        """One client: the handshake of graphql-transport-ws, then its subscriptions."""
        if connection.subprotocol != SUBPROTOCOL:
            await connection.close(4406, "Subprotocol not acceptable")
            return
        acknowledged = False
        try:
            async for raw in connection:
                message = orjson.loads(raw)
                kind = message.get("type")
                if kind == "connection_init":
                    if acknowledged:
                        await connection.close(4429, "Too many initialisation requests")
                        return
                    acknowledged = True
                    await connection.send('{"type":"connection_ack"}')
                elif kind == "subscribe":
                    if not acknowledged:
                        await connection.close(4401, "Unauthorized")
                        return
                    identifier = str(message["id"])
                    head = b'{"id":%s,"type":"next","payload":{"data":{"messageAdded":' % (
                        orjson.dumps(identifier)
                    )
                    self.subscribers.setdefault(connection, {})[identifier] = head
                elif kind == "complete":
                    self.subscribers.get(connection, {}).pop(str(message.get("id")), None)
                elif kind == "ping":
                    await connection.send('{"type":"pong"}')
        except ConnectionClosed:
            pass
        finally:
            self.subscribers.pop(connection, None)


async def serve_floor(dsn: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT."""
    floor = Floor(dsn)
    await floor.start()
    fan_out = asyncio.create_task(floor.fan_out())
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    try:
        async with serve(
            floor.handle,
            "127.0.0.1",
            port,
            subprotocols=[Subprotocol(SUBPROTOCOL)],
            compression=None,
            backlog=4096,
        ):
            print(f"floor listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
            await stopped.wait()
    finally:
        fan_out.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await fan_out
        await floor.stop()


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--dsn URL --port N``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args(argv)
    raise_fd_limit(65536)
    uvloop.run(serve_floor(arguments.dsn, arguments.port))


if __name__ == "__main__":
    main()
