"""The endpoint's JSON answers, sent as two ASGI messages, and the request's headers, read once.

A Starlette ``Response`` and ``Headers`` cost several microseconds per request (header objects,
lower-casing and decoding on every lookup), which on a lookup by id was a tenth of what the
framework adds to the statement. :class:`Answer` sends the same headers in the same order as
``Response(body, status, media_type=...)`` with extra headers set and ``Vary: Accept`` added;
:class:`RequestHeaders` answers the lookups Starlette's ``Headers`` answers (first value for
``get``, every value for ``getlist``) from one dictionary built per request.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TypeVar, overload

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

_T = TypeVar("_T")


class ResponseHeaders(dict[str, str]):
    """Extra headers of an :class:`Answer`, by lower-case name (``update`` lower-cases too)."""

    def __setitem__(self, name: str, value: str) -> None:
        super().__setitem__(name.lower(), value)

    def update(self, other: Mapping[str, str] = {}, /, **more: str) -> None:  # type: ignore[override]
        """Set each header of ``other`` (a name given twice keeps the last value)."""
        for name, value in {**other, **more}.items():
            self[name] = value


_VARY_ACCEPT = (b"vary", b"Accept")


@functools.lru_cache(maxsize=16)
def _content_type(media_type: str) -> tuple[bytes, bytes]:
    return (b"content-type", f"{media_type}; charset=utf-8".encode("latin-1"))


class Answer:
    """A complete JSON response: status, media type, extra headers and ``Vary: Accept``."""

    __slots__ = ("body", "headers", "media_type", "status_code")

    def __init__(
        self,
        body: bytes,
        status: int,
        media_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.body = body
        self.status_code = status
        self.media_type = media_type
        self.headers = ResponseHeaders()
        if headers:
            self.headers.update(headers)

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The header lines, as Starlette's ``Response`` would send them."""
        raw = [(b"content-length", b"%d" % len(self.body)), _content_type(self.media_type)]
        if not self.headers:
            raw.append(_VARY_ACCEPT)
            return raw
        vary = self.headers.get("vary")
        for name, value in self.headers.items():
            if name != "vary":
                raw.append((name.encode("latin-1"), value.encode("latin-1")))
        vary = "Accept" if vary is None else f"{vary}, Accept"
        raw.append((b"vary", vary.encode("latin-1")))
        return raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the response (the ASGI application interface, as a Starlette response has)."""
        headers = self.raw_headers()
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


_NAMES: dict[str, bytes] = {}
"""Header names as looked up (any case), as they are sent: lower case, encoded once each."""


def _name(key: str) -> bytes:
    name = key.lower().encode("latin-1")
    if len(_NAMES) < 512:  # the few names an application asks for, not every name a client sends
        _NAMES[key] = name
    return name


class RequestHeaders(Headers):
    """A request's headers (Starlette's ``Headers``) with lookups by one dictionary.

    Starlette's lookups decode and compare every header line on each call; the endpoint and a
    context getter make several per request. ASGI servers send header names in lower case, as
    Starlette's lookups assume too.
    """

    __slots__ = ("_first",)

    def __init__(self, scope: Scope) -> None:
        raw = scope["headers"]
        if not isinstance(raw, list):  # any iterable, says the ASGI specification
            raw = scope["headers"] = list(raw)
        self._list = raw  # what Headers(raw=raw) sets, without its checks
        # Reversed, so that the first of repeated headers wins, as in Starlette's lookups.
        self._first: dict[bytes, bytes] = dict(raw[::-1])

    @overload
    def get(self, key: str, /) -> str | None: ...
    @overload
    def get(self, key: str, default: str, /) -> str: ...
    @overload
    def get(self, key: str, default: _T, /) -> str | _T: ...
    def get(self, key: str, default: object = None, /) -> object:
        """The first value of header ``key``, else ``default``."""
        name = _NAMES.get(key)
        if name is None:
            name = _name(key)
        value = self._first.get(name)
        return default if value is None else value.decode("latin-1")

    def __getitem__(self, key: str) -> str:
        value = self._first.get(key.lower().encode("latin-1"))
        if value is None:
            raise KeyError(key)
        return value.decode("latin-1")

    def getlist(self, key: str) -> list[str]:
        """Every value of header ``key``, in order."""
        if len(self._first) == len(self._list):  # no header repeated
            value = self._first.get(key.lower().encode("latin-1"))
            return [] if value is None else [value.decode("latin-1")]
        return super().getlist(key)

    @property
    def first_values(self) -> dict[bytes, bytes]:
        """The value of each header by its lower-case name; empty when a header is repeated."""
        first = self._first
        return first if len(first) == len(self._list) else {}

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower().encode("latin-1") in self._first


def request_with_headers(
    scope: Scope, receive: Receive, headers: RequestHeaders | None = None
) -> tuple[Request, RequestHeaders]:
    """A Starlette request whose ``headers`` are a :class:`RequestHeaders`, and those headers.

    ``headers`` already read for the same scope are reused.
    """
    request = Request(scope, receive)
    if headers is None:
        headers = RequestHeaders(scope)
    # Request.headers builds its Headers once and keeps them in this attribute.
    request._headers = headers
    return request, headers
