"""Reading a ``multipart/form-data`` body from ASGI ``receive`` as it arrives, part by part.

python-multipart's streaming parser does the byte work; this module adds what a server needs
around it: each part's headers parsed and bounded, its data handed to a :class:`PartSink`
chosen by the caller when the headers are complete (a bounded buffer, or a file), the body's
size bounded while it arrives, a client that leaves, and a body that ends before its closing
boundary. Nothing here knows GraphQL: :mod:`fraiseql.asgi.uploads` gives the parts a meaning.
A sink or a callback that refuses the body raises a :class:`TransportError`, which stops the
reading at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.types import Message, Receive

from fraiseql.asgi.errors import ClientDisconnectedError, TransportError, bad_request

MAX_PART_HEADER_BYTES = 8 << 10
"""The most bytes the headers of one part may take (names and values together)."""

# RFC 2046 section 5.1.1: 1 to 70 characters of this set, not ending with a space.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")


def multipart_boundary(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` ``Content-Type``; 400 if missing or invalid."""
    _, options = parse_options_header(content_type)
    raw = options.get(b"boundary")
    if raw is None:
        raise bad_request("The multipart/form-data Content-Type has no boundary parameter.")
    boundary = raw.decode("latin-1")
    if not _BOUNDARY.fullmatch(boundary):
        raise bad_request(
            "The multipart boundary is not valid: 1 to 70 letters, digits or '()+_,-./:=? "
            "characters (RFC 2046)."
        )
    return raw


@dataclass(frozen=True, slots=True)
class PartHeaders:
    """What the headers of one part say: its field ``name``, ``filename``, ``content_type``."""

    name: str
    filename: str | None
    content_type: str | None


class PartSink(Protocol):
    """Where the data of one part goes."""

    def write(self, data: bytes) -> None:
        """Take the next bytes of the part (raise a ``TransportError`` to refuse them)."""

    def finish(self) -> None:
        """The part is complete."""


StartPart = Callable[[PartHeaders], PartSink]
"""Called when a part's headers are complete; returns the sink of its data, or raises."""


class MultipartStream:
    """One multipart body, fed with :meth:`read` from ``receive`` up to ``max_size`` bytes."""

    def __init__(self, boundary: bytes, start_part: StartPart, max_size: int) -> None:
        self._start_part = start_part
        self._max_size = max_size
        self._received = 0
        self._ended = False
        self._sink: PartSink | None = None
        self._headers: list[tuple[str, str]] = []
        self._field = bytearray()
        self._value = bytearray()
        self._header_bytes = 0
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_end": self._on_end,
            },
        )

    async def read(self, receive: Receive) -> None:
        """Receive and parse the whole body; returns once its closing boundary is parsed.

        Raises 413 as soon as more than ``max_size`` bytes have arrived, 400 for a malformed
        body or one that ends too early, ``ClientDisconnectedError`` if the client leaves.
        """
        while True:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnectedError
            chunk: bytes = message.get("body", b"")
            if chunk:
                self._feed(chunk)
            if not message.get("more_body", False):
                break
        if not self._ended:
            raise bad_request(
                "The multipart body ended before its closing boundary: it is truncated."
            )

    def _feed(self, chunk: bytes) -> None:
        if self._received + len(chunk) > self._max_size:
            raise TransportError(
                413,
                f"The request body is larger than {self._max_size} bytes.",
                code="PAYLOAD_TOO_LARGE",
            )
        offset = self._received
        self._received += len(chunk)
        if self._ended:
            return  # the epilogue after the closing boundary is ignored (RFC 2046)
        try:
            self._parser.write(chunk)
        except MultipartParseError as error:
            at = f" (at byte offset {offset + error.offset})" if error.offset >= 0 else ""
            raise bad_request(f"The request body is not a valid multipart body{at}.") from None

    # -- the parser's callbacks -------------------------------------------------------------

    def _count_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_PART_HEADER_BYTES:
            raise bad_request(
                f"The headers of a multipart part are longer than {MAX_PART_HEADER_BYTES} bytes."
            )

    def _on_part_begin(self) -> None:
        self._headers.clear()
        self._header_bytes = 0

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._value += data[start:end]

    def _on_header_end(self) -> None:
        name = self._field.decode("latin-1").strip().lower()
        # latin-1 keeps every byte: the values that are text are decoded as UTF-8 once parsed.
        value = self._value.decode("latin-1").strip()
        self._headers.append((name, value))
        self._field.clear()
        self._value.clear()

    def _on_headers_finished(self) -> None:
        self._sink = self._start_part(_part_headers(self._headers))

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        assert self._sink is not None
        self._sink.write(data[start:end])

    def _on_part_end(self) -> None:
        if self._sink is None:  # a part that ended inside its headers
            raise bad_request("A multipart part has no blank line after its headers.")
        sink, self._sink = self._sink, None
        sink.finish()

    def _on_end(self) -> None:
        self._ended = True


def _part_headers(headers: list[tuple[str, str]]) -> PartHeaders:
    """The field name, file name and type of a part; 400 without a form-data disposition."""
    disposition = content_type = None
    for name, value in headers:
        if name == "content-disposition":
            if disposition is not None:
                raise bad_request("A multipart part has two Content-Disposition headers.")
            disposition = value
        elif name == "content-type":
            content_type = value
    if disposition is None:
        raise bad_request("A multipart part has no Content-Disposition header.")
    kind, options = parse_options_header(disposition)
    field = options.get(b"name")
    if kind != b"form-data" or field is None:
        raise bad_request(
            "A multipart part's Content-Disposition must be form-data with a name parameter."
        )
    filename = options.get(b"filename")
    return PartHeaders(
        name=field.decode("utf-8", "replace"),
        filename=None if filename is None else filename.decode("utf-8", "replace"),
        content_type=content_type.encode("latin-1").decode("utf-8", "replace")
        if content_type
        else None,
    )
