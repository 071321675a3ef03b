"""A plain JSON POST takes ``_json_post`` (header decisions remembered per value pair): every
answer must be the one the general path of ``_respond`` gives, for every mix of headers."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from starlette.types import Message

from fraiseql.asgi import GraphQLHTTPHandler, build_asgi_app

from .conftest import CallASGI

ACCEPTS = [None, b"", b"*/*", b"application/json", b"application/graphql-response+json",
           b"text/html", b"text/event-stream", b"application/json;q=0, */*;q=0"]  # fmt: skip
CONTENT_TYPES = [None, b"application/json", b"application/json; charset=latin-1",
                 b"text/plain", b"multipart/form-data; boundary=x", b"application/json;charset=UTF-8"]  # fmt: skip
EXTRA = [[], [(b"cookie", b"a=b")], [(b"authorization", b"Basic eDp5")],
         [(b"authorization", b"Bearer t")], [(b"content-length", b"x")],
         [(b"content-length", b"99999999")], [(b"accept", b"*/*")]]  # fmt: skip
BODIES = [b'{"query": "{ a }"}', b"[]", b"{", b'{"query": 1}', b'{"query": "{ a }", "query": "x"}']


def handler_of(app: Any) -> GraphQLHTTPHandler:
    handler = app.graphql_handler
    assert isinstance(handler, GraphQLHTTPHandler)
    return handler


async def answer(
    call_asgi: CallASGI, app: Any, headers: list[tuple[bytes, bytes]], body: bytes
) -> list[Message]:
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return await call_asgi(app, receive, headers=headers)


@pytest.mark.parametrize("csrf", ["auto", "always", "off"])
async def test_json_posts_answer_as_the_general_path(
    call_asgi: CallASGI, executor: Any, monkeypatch: pytest.MonkeyPatch, csrf: str
) -> None:
    fast = build_asgi_app(executor, csrf_prevention=csrf)
    general = build_asgi_app(executor, csrf_prevention=csrf)
    handler_of(general)._plain_post = False
    taken = 0
    json_post = GraphQLHTTPHandler._json_post

    async def counted(self: GraphQLHTTPHandler, *args: Any) -> Any:
        nonlocal taken
        taken += 1
        return await json_post(self, *args)

    monkeypatch.setattr(GraphQLHTTPHandler, "_json_post", counted)
    for accept, content_type, extra, body in itertools.product(
        ACCEPTS, CONTENT_TYPES, EXTRA, BODIES
    ):
        headers = [(b"accept", accept)] if accept is not None else []
        headers += [(b"content-type", content_type)] if content_type is not None else []
        headers += extra
        assert await answer(call_asgi, fast, headers, body) == await answer(
            call_asgi, general, headers, body
        ), (headers, body)
    assert taken > 0
    assert len(handler_of(fast)._json_post_types) <= len(ACCEPTS) * len(CONTENT_TYPES)
