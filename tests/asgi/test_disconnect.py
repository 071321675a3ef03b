"""A client that disconnects cancels the execution (and so its database query)."""

from typing import Any

import anyio
import anyio.lowlevel
import pytest
from starlette.types import Message

from fraiseql.asgi.disconnect import cancel_on_disconnect
from fraiseql.asgi.errors import ClientDisconnectedError
from fraiseql.asgi.http import GraphQLHTTPHandler

JSON_HEADERS = [(b"content-type", b"application/json")]


def receive_body_then_disconnect(body: bytes, disconnect: anyio.Event) -> Any:
    sent_body = False

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await disconnect.wait()
        return {"type": "http.disconnect"}

    return receive


async def test_disconnect_cancels_execution_and_sends_nothing(
    executor: Any, call_asgi: Any
) -> None:
    executor.started = anyio.Event()
    disconnect = anyio.Event()
    receive = receive_body_then_disconnect(b'{"query": "{ slow }"}', disconnect)
    handler = GraphQLHTTPHandler(executor)
    sent: list[Message] = []

    async def serve() -> None:
        sent.extend(await call_asgi(handler, receive, headers=JSON_HEADERS))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(serve)
            await executor.started.wait()
            disconnect.set()
    assert executor.cancelled
    assert sent == []


async def test_disconnect_during_get_cancels_execution(executor: Any, call_asgi: Any) -> None:
    executor.started = anyio.Event()
    disconnect = anyio.Event()
    receive = receive_body_then_disconnect(b"", disconnect)
    handler = GraphQLHTTPHandler(executor)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(
                lambda: call_asgi(handler, receive, method="GET", query_string=b"query=%7Bslow%7D")
            )
            await executor.started.wait()
            disconnect.set()
    assert executor.cancelled


async def test_result_is_returned_when_work_finishes_first() -> None:
    async def receive() -> Message:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def work() -> int:
        return 42

    with anyio.fail_after(5):
        assert await cancel_on_disconnect(work(), receive) == 42


async def test_work_errors_propagate_unwrapped() -> None:
    async def receive() -> Message:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def work() -> int:
        raise LookupError("from the executor")

    with anyio.fail_after(5), pytest.raises(LookupError, match="from the executor"):
        await cancel_on_disconnect(work(), receive)


async def test_empty_request_messages_are_not_a_disconnect() -> None:
    messages = iter([{"type": "http.request", "body": b"", "more_body": False}])
    release = anyio.Event()

    async def receive() -> Message:
        for message in messages:
            return message
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def work() -> str:
        await release.wait()
        return "done"

    async def later() -> None:
        await anyio.sleep(0.01)
        release.set()

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(later)
            assert await cancel_on_disconnect(work(), receive) == "done"


async def test_disconnect_raises_client_disconnected() -> None:
    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def work() -> None:
        await anyio.sleep_forever()

    with anyio.fail_after(5), pytest.raises(ClientDisconnectedError):
        await cancel_on_disconnect(work(), receive)


async def test_a_quick_answer_never_watches_the_client() -> None:
    """Requests answered within the watch delay pay a timer, not a watcher task."""
    calls = 0

    async def receive() -> Message:
        nonlocal calls
        calls += 1
        return {"type": "http.disconnect"}

    async def work() -> str:
        await anyio.lowlevel.checkpoint()
        return "done"

    assert await cancel_on_disconnect(work(), receive, watch_after=0.5) == "done"
    await anyio.sleep(0.6)  # past the delay: the timer was cancelled with the answer
    assert calls == 0


async def test_a_disconnect_before_the_watch_starts_still_cancels() -> None:
    """The client left at once; the slow work is cancelled as soon as the watcher looks."""
    cancelled = False

    async def receive() -> Message:
        return {"type": "http.disconnect"}  # already gone

    async def slow() -> None:
        nonlocal cancelled
        try:
            await anyio.sleep(10)
        except anyio.get_cancelled_exc_class():
            cancelled = True
            raise

    with anyio.fail_after(2):
        with pytest.raises(ClientDisconnectedError):
            await cancel_on_disconnect(slow(), receive, watch_after=0.05)
    assert cancelled
