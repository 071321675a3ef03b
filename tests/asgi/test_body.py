"""The body size limit: declared lengths are refused up front, streamed bodies chunk by chunk."""

from typing import Any

import anyio
import orjson
import pytest
from starlette.datastructures import Headers
from starlette.types import Message

from fraiseql.asgi.body import DEFAULT_MAX_BODY_SIZE, check_content_length, read_body
from fraiseql.asgi.errors import ClientDisconnectedError, TransportError
from fraiseql.asgi.http import GraphQLHTTPHandler

CHUNK = 64 * 1024
JSON_HEADERS = [(b"content-type", b"application/json")]


class ChunkedReceive:
    """An ASGI ``receive`` streaming ``total_chunks`` chunks; counts how many were pulled."""

    def __init__(self, total_chunks: int, first: bytes = b"") -> None:
        self.total_chunks = total_chunks
        self.first = first
        self.pulled = 0

    async def __call__(self) -> Message:
        if self.pulled >= self.total_chunks:
            await anyio.sleep_forever()  # a client waiting for its response
        self.pulled += 1
        body = self.first if self.pulled == 1 and self.first else b" " * CHUNK
        return {"type": "http.request", "body": body, "more_body": self.pulled < self.total_chunks}


def test_default_limit_is_one_mebibyte() -> None:
    assert DEFAULT_MAX_BODY_SIZE == 1024 * 1024


async def test_read_body_joins_chunks_up_to_the_limit() -> None:
    receive = ChunkedReceive(4)
    body = await read_body(receive, 4 * CHUNK)
    assert len(body) == 4 * CHUNK


async def test_read_body_stops_at_the_chunk_crossing_the_limit() -> None:
    receive = ChunkedReceive(1000)  # 64 MB if read to the end
    with pytest.raises(TransportError) as info:
        await read_body(receive, 4 * CHUNK)
    assert info.value.status == 413
    assert receive.pulled == 5


async def test_read_body_raises_on_disconnect() -> None:
    async def receive() -> Message:
        return {"type": "http.disconnect"}

    with pytest.raises(ClientDisconnectedError):
        await read_body(receive, 10)


@pytest.mark.parametrize(("value", "status"), [("abc", 400), ("-1", 400), ("2049", 413)])
def test_bad_or_large_content_length(value: str, status: int) -> None:
    with pytest.raises(TransportError) as info:
        check_content_length(Headers({"content-length": value}), 2048)
    assert info.value.status == status


def test_content_length_within_limit() -> None:
    check_content_length(Headers({"content-length": "2048"}), 2048)
    check_content_length(Headers({}), 2048)


async def test_handler_streamed_oversized_body_is_413_without_reading_it_all(
    executor: Any, call_asgi: Any
) -> None:
    handler = GraphQLHTTPHandler(executor)  # default limit: 1 MiB = 16 chunks
    receive = ChunkedReceive(1000)
    sent = await call_asgi(handler, receive, headers=JSON_HEADERS)
    assert sent[0]["status"] == 413
    assert receive.pulled == 17
    error = orjson.loads(sent[1]["body"])["errors"][0]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert executor.prepared == []


async def test_handler_declared_oversized_body_is_413_without_reading(
    executor: Any, call_asgi: Any
) -> None:
    handler = GraphQLHTTPHandler(executor, max_body_size=100)

    async def receive() -> Message:
        raise AssertionError("the body must not be read")

    sent = await call_asgi(handler, receive, headers=[*JSON_HEADERS, (b"content-length", b"101")])
    assert sent[0]["status"] == 413


async def test_handler_accepts_a_body_at_the_limit(executor: Any, call_asgi: Any) -> None:
    body = orjson.dumps({"query": "{ a }"})
    handler = GraphQLHTTPHandler(executor, max_body_size=len(body))
    sent = await call_asgi(handler, ChunkedReceive(1, first=body), headers=JSON_HEADERS)
    assert sent[0]["status"] == 200


async def test_handler_refuses_a_body_one_byte_over(executor: Any, call_asgi: Any) -> None:
    body = orjson.dumps({"query": "{ a }"})
    handler = GraphQLHTTPHandler(executor, max_body_size=len(body) - 1)
    sent = await call_asgi(handler, ChunkedReceive(1, first=body), headers=JSON_HEADERS)
    assert sent[0]["status"] == 413


async def test_handler_sends_nothing_when_the_client_leaves_mid_body(
    executor: Any, call_asgi: Any
) -> None:
    async def receive() -> Message:
        return {"type": "http.disconnect"}

    handler = GraphQLHTTPHandler(executor)
    assert await call_asgi(handler, receive, headers=JSON_HEADERS) == []
    assert executor.prepared == []


def test_negative_limit_is_refused(executor: Any) -> None:
    with pytest.raises(ValueError, match="max_body_size"):
        GraphQLHTTPHandler(executor, max_body_size=-1)


async def test_a_body_already_received_is_read_without_a_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import fraiseql.asgi.body as body_module

    def no_deadline(seconds: float) -> Any:
        raise AssertionError("timed a body that needed no wait")

    monkeypatch.setattr(body_module, "Deadline", no_deadline)

    async def receive() -> Message:
        return {"type": "http.request", "body": b'{"query": "{ a }"}', "more_body": False}

    assert await read_body(receive, 100, 1.0) == b'{"query": "{ a }"}'


async def test_a_body_that_must_be_waited_for_is_timed_from_its_first_wait() -> None:
    async def slow() -> Message:
        await anyio.sleep(0.01)
        return {"type": "http.request", "body": b"late", "more_body": False}

    assert await read_body(slow, 100, 1.0) == b"late"

    async def stalled() -> Message:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    with pytest.raises(TransportError) as refused:
        await read_body(stalled, 100, 0.05)
    assert refused.value.status == 408


async def test_a_cancelled_wait_for_the_body_cancels_the_receive() -> None:
    cancelled = anyio.Event()
    started = anyio.Event()

    async def receive() -> Message:
        started.set()
        try:
            await anyio.sleep_forever()
        except BaseException:
            cancelled.set()
            raise
        raise AssertionError("unreachable")

    async with anyio.create_task_group() as group:
        group.start_soon(read_body, receive, 100, 5.0)
        await started.wait()
        group.cancel_scope.cancel()
    assert cancelled.is_set()


async def test_a_first_message_at_once_and_more_later_is_read_whole() -> None:
    chunks = [b"ab", b"cd"]

    async def receive() -> Message:
        if len(chunks) == 1:
            await anyio.sleep(0.01)
        return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(len(chunks))}

    assert await read_body(receive, 100, 1.0) == b"abcd"
