"""GraphQL over WebSocket: the ``graphql-transport-ws`` protocol of the ``graphql-ws`` library.

https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md. A transport only: operations
go through the same ``prepare``/``execute``/``subscribe`` as HTTP requests.

- ``connection_init`` must come first, within ``init_timeout`` seconds (else close 4408); a
  second one closes with 4429; ``subscribe`` before the acknowledgement closes with 4401.
  Its payload is the connection's parameters (``fraiseql.connection_params``); the app's
  context getter runs with the ``WebSocket`` at init (an ``HTTPException`` from it closes
  with 4403) and again for every operation, so claims are checked per operation.
- ``subscribe`` with an id already running closes with 4409. Queries and mutations answer one
  ``next`` then ``complete``; subscriptions answer ``next`` per event until either side sends
  ``complete``. An operation that cannot start gets ``error`` with its GraphQL errors.
- ``ping`` gets ``pong``; ``pong`` is ignored. Any other message, malformed JSON or a text
  frame that is not a JSON object closes with 4400; a message over ``max_message_size`` bytes
  closes with 1009; more than ``max_subscriptions`` operations at once get ``error``.
- A subscriber too slow to take its events (its queue overflowed) is closed with 1013.
- With an authenticator, ``connection_init`` is authenticated first (the payload's
  ``authorization``, else the upgrade request's header): a refusal closes with 4403, keys
  that cannot be fetched with 1013. An operation sent after the token expired gets ``error``
  (``UNAUTHENTICATED``), and a running subscription ends so at the token's expiry.
Closing the socket cancels every operation of the connection and releases its subscriptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol, cast

import orjson
from starlette.exceptions import HTTPException
from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from fraiseql.asgi.errors import masked_internal_error
from fraiseql.execution.outcome import (
    ExecutionResponse,
    GraphQLRequest,
    PreparedOperation,
    RequestError,
    ServiceUnavailable,
)
from fraiseql.observability import hooks
from fraiseql.observability.instrumentation import Instrumentation
from fraiseql.security.auth import AUTH_SCOPE_KEY, Authenticator, AuthError, AuthInfo, expired_token
from fraiseql.subscriptions.connection import CONNECTION_PARAMS_KEY
from fraiseql.subscriptions.hub import SlowConsumerError

logger = logging.getLogger("fraiseql.asgi")

SUBPROTOCOL = "graphql-transport-ws"
DEFAULT_INIT_TIMEOUT = 3.0
DEFAULT_MAX_SUBSCRIPTIONS = 100
DEFAULT_MAX_MESSAGE_SIZE = 1 << 20

WebSocketContextGetter = Callable[[WebSocket], Awaitable[dict[str, Any]] | dict[str, Any]]


class SubscriptionExecutor(Protocol):
    """What the WebSocket and SSE transports need: an ``OperationExecutor`` that subscribes."""

    def prepare(self, request: GraphQLRequest) -> PreparedOperation:
        """Parse, validate and select the operation (``RequestError`` when it cannot run)."""
        ...

    async def execute(
        self, prepared: PreparedOperation, request: GraphQLRequest, context: dict[str, Any]
    ) -> ExecutionResponse:
        """Run a query or mutation."""
        ...

    def subscribe(
        self, prepared: PreparedOperation, request: GraphQLRequest, context: dict[str, Any]
    ) -> AsyncIterator[bytes]:
        """Start a subscription: its response bodies (``RequestError`` when it cannot start)."""
        ...


class CloseConnection(Exception):  # noqa: N818 - a control-flow signal with its close code
    """Close the socket with ``code`` and ``reason`` (at most 123 bytes by RFC 6455)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _frame(operation_id: str, kind: str, payload: bytes | None = None) -> str:
    head = b'{"id":' + orjson.dumps(operation_id) + b',"type":"' + kind.encode() + b'"'
    if payload is not None:
        head += b',"payload":' + payload
    return (head + b"}").decode()


def _frame_head(operation_id: str) -> str:
    """The text of a ``next`` message up to its payload, built once per operation."""
    return '{"id":' + orjson.dumps(operation_id).decode() + ',"type":"next","payload":'


_last_body: bytes = b""
_last_text: str = ""


def _text(body: bytes) -> str:
    """``body`` as text, decoded once for all the subscribers of a group.

    The fan-out hands the same bytes object to every subscriber of a group in turn.
    """
    global _last_body, _last_text
    if body is not _last_body:
        _last_text = body.decode()
        _last_body = body
    return _last_text


def _request_of(payload: Any) -> GraphQLRequest:
    if not isinstance(payload, dict):
        raise CloseConnection(4400, "Invalid message: subscribe needs a payload object")
    query = payload.get("query")
    variables = payload.get("variables")
    name = payload.get("operationName")
    extensions = payload.get("extensions")
    if not isinstance(query, str):
        raise CloseConnection(4400, "Invalid message: the payload's query must be a string")
    if variables is not None and not isinstance(variables, dict):
        raise CloseConnection(4400, "Invalid message: variables must be an object")
    if name is not None and not isinstance(name, str):
        raise CloseConnection(4400, "Invalid message: operationName must be a string")
    if extensions is not None and not isinstance(extensions, dict):
        raise CloseConnection(4400, "Invalid message: extensions must be an object")
    return GraphQLRequest(query, variables, name, extensions)


class GraphQLWebSocketHandler:
    """ASGI application serving ``graphql-transport-ws`` connections with an executor."""

    def __init__(
        self,
        executor: SubscriptionExecutor,
        *,
        context_getter: WebSocketContextGetter | None = None,
        init_timeout: float = DEFAULT_INIT_TIMEOUT,
        max_subscriptions: int = DEFAULT_MAX_SUBSCRIPTIONS,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        instrumentation: Instrumentation | None = None,
        auth: Authenticator | None = None,
    ) -> None:
        if not init_timeout > 0 or max_subscriptions < 1 or max_message_size < 1:
            raise ValueError(
                "init_timeout must be positive, max_subscriptions and max_message_size >= 1"
            )
        self.executor = executor
        self.context_getter = context_getter
        self.init_timeout = init_timeout
        self.max_subscriptions = max_subscriptions
        self.max_message_size = max_message_size
        self.instrumentation = instrumentation
        self.auth = auth
        self.connections = 0
        """Open connections (for metrics and tests)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one WebSocket connection until either side closes it."""
        websocket = WebSocket(scope, receive, send)
        offered = scope.get("subprotocols") or []
        if SUBPROTOCOL not in offered:
            await websocket.accept()
            await websocket.close(4406, "Subprotocol not acceptable")
            return
        await websocket.accept(subprotocol=SUBPROTOCOL)
        self.connections += 1
        try:
            await _Connection(self, websocket, send).serve()
        finally:
            self.connections -= 1


class _Connection:
    """The state of one socket: acknowledged or not, its running operations."""

    def __init__(self, handler: GraphQLWebSocketHandler, websocket: WebSocket, send: Send) -> None:
        self.handler = handler
        self.websocket = websocket
        self.acknowledged = False
        self.init_received = False
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.raw_send = send
        self.closing: CloseConnection | None = None
        self.reader: asyncio.Task[None] | None = None

    async def serve(self) -> None:
        self.reader = asyncio.current_task()
        closing: CloseConnection | None = None
        try:
            async with asyncio.timeout(self.handler.init_timeout):
                while not self.init_received:
                    await self._handle(await self._receive())
            while True:
                await self._handle(await self._receive())
        except TimeoutError:
            closing = CloseConnection(4408, "Connection initialisation timeout")
        except CloseConnection as close:
            closing = close
        except _Disconnected:
            pass
        except asyncio.CancelledError:
            closing = self.closing  # an operation asked to close the connection
            current = asyncio.current_task()
            if closing is None or current is None:
                raise
            current.uncancel()
        finally:
            await self._cancel_operations()
        if closing is not None:
            with contextlib.suppress(Exception):
                await self.websocket.close(closing.code, closing.reason)

    async def _receive(self) -> Any:
        message = await self.websocket.receive()
        kind = message["type"]
        if kind == "websocket.disconnect":
            raise _Disconnected
        text = message.get("text")
        if text is None:
            data = message.get("bytes")
            if data is None:
                raise CloseConnection(4400, "Invalid message: empty frame")
            if len(data) > self.handler.max_message_size:
                raise CloseConnection(1009, "Message too big")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise CloseConnection(4400, "Invalid message: not UTF-8 JSON") from None
        if len(text) > self.handler.max_message_size:
            raise CloseConnection(1009, "Message too big")
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise CloseConnection(4400, "Invalid message: not JSON") from None
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            raise CloseConnection(4400, "Invalid message: an object with a type is expected")
        return value

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "connection_init":
            await self._init(message.get("payload"))
        elif kind == "ping":
            await self._send(_control("pong", message.get("payload")))
        elif kind == "pong":
            return
        elif kind == "subscribe":
            await self._subscribe(message)
        elif kind == "complete":
            operation_id = message.get("id")
            if not isinstance(operation_id, str):
                raise CloseConnection(4400, "Invalid message: complete needs a string id")
            task = self.operations.pop(operation_id, None)
            if task is not None:
                task.cancel()
        else:
            raise CloseConnection(4400, f"Invalid message type {kind[:40]!r}")

    async def _init(self, payload: Any) -> None:
        if self.init_received:
            raise CloseConnection(4429, "Too many initialisation requests")
        self.init_received = True
        if payload is not None and not isinstance(payload, dict):
            raise CloseConnection(4400, "Invalid message: the init payload must be an object")
        self.websocket.scope[CONNECTION_PARAMS_KEY] = payload or {}
        if self.handler.auth is not None:
            try:
                caller = await self.handler.auth.authenticate(self.websocket)
            except AuthError:
                raise CloseConnection(4403, "Forbidden") from None
            except ServiceUnavailable:
                raise CloseConnection(1013, "Try again later") from None
            self.websocket.scope[AUTH_SCOPE_KEY] = caller
        try:
            await self._context()
        except HTTPException:
            raise CloseConnection(4403, "Forbidden") from None
        except Exception:
            logger.exception("the context getter failed on connection_init")
            raise CloseConnection(4500, "Internal server error") from None
        self.acknowledged = True
        await self._send('{"type":"connection_ack"}')

    async def _context(self) -> dict[str, Any]:
        caller: AuthInfo | None = None
        if self.handler.auth is not None:
            caller = self.websocket.scope[AUTH_SCOPE_KEY]
            if caller.expired():
                raise expired_token()
        getter = self.handler.context_getter
        context: Mapping[str, Any] = {}
        if getter is not None:
            value = getter(self.websocket)
            context = await value if inspect.isawaitable(value) else value
        if caller is not None:
            return {**context, "auth": caller, "request": self.websocket}
        return {**context, "request": self.websocket}

    async def _subscribe(self, message: dict[str, Any]) -> None:
        if not self.acknowledged:
            raise CloseConnection(4401, "Unauthorized")
        operation_id = message.get("id")
        if not isinstance(operation_id, str) or not operation_id:
            raise CloseConnection(4400, "Invalid message: subscribe needs a string id")
        if len(operation_id) > 128:
            raise CloseConnection(4400, "Invalid message: the id is too long")
        if operation_id in self.operations:
            raise CloseConnection(4409, f"Subscriber for {operation_id[:100]} already exists")
        request = _request_of(message.get("payload"))
        if len(self.operations) >= self.handler.max_subscriptions:
            errors = [
                {
                    "message": "Too many operations on this connection "
                    f"(at most {self.handler.max_subscriptions}): complete some first.",
                    "extensions": {"code": "TOO_MANY_SUBSCRIPTIONS"},
                }
            ]
            await self._send(_frame(operation_id, "error", orjson.dumps(errors)))
            return
        task = asyncio.create_task(self._run(operation_id, request))
        self.operations[operation_id] = task

    async def _run(self, operation_id: str, request: GraphQLRequest) -> None:
        stream: AsyncIterator[bytes] | None = None
        instrumentation = self.handler.instrumentation
        record = None
        status = 200
        if instrumentation is not None:
            # Observed like an HTTP request (logs, metrics, traces, error records) up to its
            # answer, or for a subscription up to its start: events are not requests.
            record = instrumentation.begin("WS", self.websocket.scope["path"], self._headers())
        try:
            context = await self._context()
            executor = self.handler.executor
            prepared = executor.prepare(request)
            if prepared.operation_type == "subscription":
                stream = executor.subscribe(prepared, request, context)
                if instrumentation is not None and record is not None:
                    started, record = record, None
                    await instrumentation.end(started, status)
                await self._forward(stream, _frame_head(operation_id), context.get("auth"))
            else:
                result = await executor.execute(prepared, request, context)
                await self._send(_frame(operation_id, "next", result.body))
            if self.operations.pop(operation_id, None) is not None:
                await self._send(_frame(operation_id, "complete"))
        except RequestError as error:
            status = 400
            hooks.request_errors(error.errors)
            self.operations.pop(operation_id, None)
            await self._send(_frame(operation_id, "error", orjson.dumps(error.errors)))
        except AuthError as error:
            status = error.status
            hooks.request_refused(error.code, error.description)
            self.operations.pop(operation_id, None)
            errors = [{"message": error.description, "extensions": {"code": error.code}}]
            await self._send(_frame(operation_id, "error", orjson.dumps(errors)))
        except ServiceUnavailable as error:
            status = 503
            hooks.request_refused("SERVICE_UNAVAILABLE", error.message)
            self.operations.pop(operation_id, None)
            errors = [{"message": error.message, "extensions": {"code": "SERVICE_UNAVAILABLE"}}]
            await self._send(_frame(operation_id, "error", orjson.dumps(errors)))
        except HTTPException as error:
            status = error.status_code
            self._close_connection(CloseConnection(4403, "Forbidden"))
        except SlowConsumerError:
            self._close_connection(CloseConnection(1013, "Subscriber too slow: try again later"))
        except _Disconnected:
            status = 499
            return  # the reader sees the disconnect and ends the connection
        except Exception as error:
            status = 500
            self.operations.pop(operation_id, None)
            errors = [masked_internal_error(error, f"operation {operation_id[:40]!r}")]
            with contextlib.suppress(Exception):
                await self._send(_frame(operation_id, "error", orjson.dumps(errors)))
        finally:
            if stream is not None:
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()
            if instrumentation is not None and record is not None:
                await instrumentation.end(record, status)

    async def _forward(self, stream: AsyncIterator[bytes], head: str, caller: Any) -> None:
        """Send the events of a subscription, until the caller's token expires if it does."""
        valid_until = caller.valid_until if isinstance(caller, AuthInfo) else None
        if valid_until is None:
            async for body in stream:
                await self._send(head + _text(body) + "}")
            return
        loop = asyncio.get_running_loop()
        deadline = asyncio.timeout_at(loop.time() + (valid_until - time.time()))
        try:
            async with deadline:
                async for body in stream:
                    await self._send(head + _text(body) + "}")
        except TimeoutError:
            if deadline.expired():
                raise expired_token() from None
            raise

    def _headers(self) -> dict[str, str]:
        return {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in self.websocket.scope["headers"]
        }

    def _close_connection(self, close: CloseConnection) -> None:
        """From an operation's task: stop the reader, which closes the socket."""
        if self.closing is None:
            self.closing = close
            if self.reader is not None:
                self.reader.cancel()

    async def _send(self, text: str) -> None:
        # Straight to the server's ``send``: Starlette's WebSocket.send_text only adds state
        # checks, and they cost a fifth of a frame's time in the fan-out (bench.subscriptions).
        # A server writes each message whole, so operations need no lock between their frames.
        try:
            await self.raw_send({"type": "websocket.send", "text": text})
        except (OSError, RuntimeError) as error:  # the socket went away under us
            raise _Disconnected from error
        except Exception as error:  # a server's own "client disconnected" exception
            if type(error).__name__ in ("ClientDisconnected", "ConnectionClosed"):
                raise _Disconnected from error
            raise

    async def _cancel_operations(self) -> None:
        tasks = list(self.operations.values())
        self.operations.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class _Disconnected(Exception):  # noqa: N818 - a control-flow signal
    """The client went away."""


def _control(kind: str, payload: Any) -> str:
    message: dict[str, Any] = {"type": kind}
    if payload is not None:
        message["payload"] = payload
    return orjson.dumps(message).decode()


def websocket_route(
    executor: object,
    path: str,
    *,
    context_getter: Callable[..., Any] | None = None,
    init_timeout: float = DEFAULT_INIT_TIMEOUT,
    max_subscriptions: int = DEFAULT_MAX_SUBSCRIPTIONS,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    instrumentation: Instrumentation | None = None,
    auth: Authenticator | None = None,
) -> WebSocketRoute | None:
    """The WebSocket route at ``path`` for an executor that can subscribe, else ``None``.

    Starlette dispatches on the scope type, so it shares the path of the HTTP route. The
    context getter is the HTTP one: it gets the ``WebSocket`` (an ``HTTPConnection``).
    """
    if not callable(getattr(executor, "subscribe", None)):
        return None
    handler = GraphQLWebSocketHandler(
        cast(SubscriptionExecutor, executor),
        context_getter=cast(WebSocketContextGetter | None, context_getter),
        init_timeout=init_timeout,
        max_subscriptions=max_subscriptions,
        max_message_size=max_message_size,
        instrumentation=instrumentation,
        auth=auth,
    )
    return WebSocketRoute(path, handler, name="graphql-ws")
