"""A client process: K subscribers over WebSocket, reporting to the driver on stdout.

``python -m bench.subscriptions.clients --url ws://127.0.0.1:N/graphql --connections K``
opens K connections (``graphql-transport-ws``, no compression, at most ``--concurrency``
handshakes at a time), each sending ``connection_init``, waiting for ``connection_ack`` and
subscribing with its own id (as the ``graphql-ws`` library does) to ``messageAdded``.

Each connection is the ``websockets`` client's Sans-I/O protocol (``ClientProtocol``: the
handshake, framing, ping/pong and the closing handshake) driven by a bare asyncio protocol
under uvloop, with no task per connection. The ``websockets`` asyncio client costs about
13 µs of client CPU per received frame, so that two client processes needed more CPU than
the floor's server and were the bottleneck on a 2-core machine; this costs a few µs.

It writes one JSON object a line on stdout:

- ``{"type": "connected", "opened": k, "seconds": s, "errors": [...]}`` once every
  connection was acknowledged and sent its subscription (or failed to);
- ``{"type": "warm"}`` once every connection received a frame of a warm-up event (``seq`` < 0):
  from then on, all its subscriptions are live on the server;
- ``{"type": "done", "seq": n, "t": t}`` when the last of its K connections received the frame
  of event ``n``; ``t`` is that moment on ``time.time()`` (CLOCK_REALTIME, the clock with
  which PostgreSQL timestamps the events: see ``shared.INSERT_AND_NOTIFY_SQL``);
- ``{"type": "closed", "code": c, "reason": r}`` when the server closed a connection;
- ``{"type": "bye", "frames": f, "bad_frames": b, "first_bad": ...}`` after ``close`` was read
  on stdin (then it closes every connection and exits; it also exits when stdin ends).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
import uuid
from typing import Any, cast

import orjson
import uvloop
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from bench.subscriptions.shared import SUBPROTOCOL, SUBSCRIPTION, raise_fd_limit

INIT = b'{"type":"connection_init","payload":{}}'
PONG = b'{"type":"pong"}'


def emit(message: dict[str, Any]) -> None:
    """One line to the driver."""
    sys.stdout.write(orjson.dumps(message).decode() + "\n")
    sys.stdout.flush()


class Subscriber(asyncio.Protocol):
    """One WebSocket connection with one subscription."""

    def __init__(self, owner: Subscribers, index: int) -> None:
        self.owner = owner
        self.index = index
        self.protocol = ClientProtocol(owner.uri, subprotocols=[Subprotocol(SUBPROTOCOL)])
        self.transport: asyncio.Transport | None = None
        self.subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.acknowledged = False
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        protocol = self.protocol
        protocol.receive_data(data)
        for event in protocol.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT and event.fin:
                    self._text(bytes(event.data))
                elif event.opcode is not Opcode.CLOSE and event.opcode is not Opcode.PING:
                    self.owner.bad(bytes(event.data))
            elif isinstance(event, Response):
                if protocol.state is State.OPEN:
                    protocol.send_text(INIT)
                else:
                    self._fail(protocol.handshake_exc or RuntimeError("handshake failed"))
        self._flush()

    def _text(self, data: bytes) -> None:
        if not self.acknowledged:
            message = orjson.loads(data)
            if message.get("type") != "connection_ack":
                self._fail(RuntimeError(f"expected connection_ack, got {message!r}"))
                return
            self.acknowledged = True
            subscribe = {
                "id": str(uuid.uuid4()),
                "type": "subscribe",
                "payload": {"query": SUBSCRIPTION},
            }
            self.protocol.send_text(orjson.dumps(subscribe))
            if not self.subscribed.done():
                self.subscribed.set_result(None)
            return
        self.owner.received(self, data)

    def _fail(self, exc: BaseException) -> None:
        if not self.subscribed.done():
            self.subscribed.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    def _flush(self) -> None:
        assert self.transport is not None
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.transport.write(chunk)
            elif self.transport.can_write_eof():
                self.transport.write_eof()
        if self.protocol.close_expected():
            asyncio.get_running_loop().call_later(2, self.transport.close)

    def pong(self) -> None:
        """Answer a ``ping`` message of graphql-transport-ws."""
        self.protocol.send_text(PONG)
        self._flush()

    def close(self) -> None:
        """Start the closing handshake."""
        self.closing = True
        if self.transport is None or self.transport.is_closing():
            return
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(1000)
            self._flush()
        else:
            self.transport.close()

    def eof_received(self) -> bool | None:
        self.protocol.receive_eof()
        self._flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.subscribed.done():
            self.subscribed.set_exception(exc or ConnectionError("connection closed"))
        if not self.lost.done():
            self.lost.set_result(None)
        if not self.closing and self.acknowledged:
            emit(
                {
                    "type": "closed",
                    "code": self.protocol.close_code,
                    "reason": self.protocol.close_reason,
                }
            )


class Subscribers:
    """The K connections of this process and what they received."""

    def __init__(self, url: str, count: int) -> None:
        self.uri = parse_uri(url)
        self.count = count
        self.connections: list[Subscriber] = []
        self.warm: set[int] = set()
        self.warm_reported = False
        # seq -> connections that received it
        self.pending: dict[int, int] = {}
        self.frames = 0
        self.bad_frames = 0
        self.first_bad: str | None = None

    async def open_one(self, index: int, handshakes: asyncio.Semaphore) -> None:
        """Connect, initialise and subscribe connection ``index``."""
        loop = asyncio.get_running_loop()
        async with handshakes:
            _, subscriber = await asyncio.wait_for(
                loop.create_connection(
                    lambda: Subscriber(self, index), self.uri.host, self.uri.port
                ),
                30,
            )
            self.connections.append(subscriber)
            await asyncio.wait_for(subscriber.subscribed, 30)

    async def open_all(self, concurrency: int) -> None:
        """Open every connection; report how many made it."""
        started = time.monotonic()
        handshakes = asyncio.Semaphore(concurrency)
        results = await asyncio.gather(
            *(self.open_one(index, handshakes) for index in range(self.count)),
            return_exceptions=True,
        )
        errors = sorted({repr(result) for result in results if isinstance(result, BaseException)})
        emit(
            {
                "type": "connected",
                "opened": self.count - sum(isinstance(r, BaseException) for r in results),
                "seconds": time.monotonic() - started,
                "errors": errors[:5],
            }
        )

    def bad(self, data: bytes) -> None:
        """A frame that is not a ``messageAdded`` result."""
        self.bad_frames += 1
        if self.first_bad is None:
            self.first_bad = data[:500].decode(errors="replace")

    def received(self, subscriber: Subscriber, data: bytes) -> None:
        """A text message after the acknowledgement: a result (or a ping)."""
        now = time.time()
        self.frames += 1
        message = orjson.loads(data)
        try:
            seq = message["payload"]["data"]["messageAdded"]["seq"]
        except (KeyError, TypeError):
            if isinstance(message, dict) and message.get("type") == "ping":
                self.frames -= 1
                subscriber.pong()
                return
            self.bad(data)
            return
        if seq < 0:
            self.warm.add(subscriber.index)
            if not self.warm_reported and len(self.warm) == self.count:
                self.warm_reported = True
                emit({"type": "warm"})
            return
        count = self.pending.get(seq, 0) + 1
        if count == self.count:
            self.pending.pop(seq, None)
            emit({"type": "done", "seq": seq, "t": now})
        else:
            self.pending[seq] = count

    async def close_all(self) -> None:
        """Close every connection (the closing handshake, at most 5 s), then say bye."""
        for subscriber in self.connections:
            subscriber.close()
        lost = [subscriber.lost for subscriber in self.connections]
        if lost:
            await asyncio.wait(lost, timeout=5)
        for subscriber in self.connections:
            if subscriber.transport is not None:
                subscriber.transport.abort()
        emit(
            {
                "type": "bye",
                "frames": self.frames,
                "bad_frames": self.bad_frames,
                "first_bad": self.first_bad,
            }
        )


async def run(url: str, count: int, concurrency: int) -> None:
    """Open the connections, then wait for ``close`` (or the end of stdin)."""
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    subscribers = Subscribers(url, count)
    opening = asyncio.create_task(subscribers.open_all(concurrency))
    while True:
        line = await stdin.readline()
        if not line or line.strip() == b"close":
            break
    if not opening.done():
        opening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await opening
    await subscribers.close_all()


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--url URL --connections K [--concurrency C]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=50)
    arguments = parser.parse_args(argv)
    raise_fd_limit(arguments.connections + 1024)
    uvloop.run(run(arguments.url, arguments.connections, arguments.concurrency))


if __name__ == "__main__":
    main()
