"""GraphQL multipart requests (https://github.com/jaydenseric/graphql-multipart-request-spec).

A ``multipart/form-data`` POST carries, in this order, an ``operations`` part (the JSON request,
or a batch when batching is on, with ``null`` where the files go), a ``map`` part (see
:mod:`fraiseql.asgi.uploads_map`) and one part per file. The body is parsed while it arrives
(:mod:`fraiseql.asgi.uploads_stream`); each file goes to a spooled temporary file, and its
:class:`~fraiseql.uploads.UploadedFile` replaces the ``null`` at its paths, so the request then
takes the same path as a JSON one. Every limit of :class:`~fraiseql.uploads.Uploads` is checked
while the bytes arrive, the app's ``body_timeout`` bounds the whole upload, and the files are
closed when the request ends, however it ends.

A browser sends a ``multipart/form-data`` POST across sites without a CORS preflight, so an
upload must always carry one of the CSRF headers (:mod:`fraiseql.asgi.csrf`), whatever
``csrf_prevention`` says: an HTML form on any site could otherwise post to the endpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from tempfile import SpooledTemporaryFile
from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Message, Receive

from fraiseql.asgi.batch import decode_post_body
from fraiseql.asgi.body import body_timeout_error, check_content_length
from fraiseql.asgi.csrf import CSRF_HEADER_REQUIRED, DEFAULT_CSRF_HEADERS, CSRFPolicy
from fraiseql.asgi.errors import TransportError, bad_request
from fraiseql.asgi.uploads_map import Slot, decode_map
from fraiseql.execution.outcome import GraphQLRequest
from fraiseql.uploads import UploadedFile, Uploads

if TYPE_CHECKING:
    from fraiseql.asgi.uploads_stream import PartHeaders, PartSink

MULTIPART_FORM_DATA = "multipart/form-data"

Posted = GraphQLRequest | list[GraphQLRequest]


def is_multipart(headers: Headers) -> bool:
    """Whether the request's ``Content-Type`` is ``multipart/form-data``."""
    content_type = headers.get("content-type", "")
    return content_type.split(";", 1)[0].strip().lower() == MULTIPART_FORM_DATA


class UploadReader:
    """Reads the multipart requests of one handler under its limits."""

    def __init__(
        self,
        uploads: Uploads,
        csrf: CSRFPolicy,
        *,
        max_field_size: int,
        timeout: float | None,
        max_batch_size: int | None,
    ) -> None:
        try:  # python-multipart is the optional extra "uploads"
            from fraiseql.asgi import uploads_stream
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError(
                "File uploads need python-multipart: install it with "
                "`pip install 'fraiseql[uploads]'`."
            ) from error
        self._stream = uploads_stream
        self.uploads = uploads
        self.max_field_size = max_field_size
        self.timeout = timeout
        self.max_batch_size = max_batch_size
        # Even with csrf_prevention="off" and no headers of its own, an upload needs one.
        self.csrf_headers = csrf.required_headers or DEFAULT_CSRF_HEADERS

    @asynccontextmanager
    async def read(
        self, request: Request, receive: Receive
    ) -> AsyncIterator[tuple[Posted, Request]]:
        """The request(s) of a multipart POST, with their files; closed when the block ends.

        The request handed on is the same with an empty body: the body is consumed.
        """
        self.check_preflight(request.headers)
        check_content_length(request.headers, self.uploads.max_total_size)
        boundary = self._stream.multipart_boundary(request.headers["content-type"])
        files: list[SpooledTemporaryFile[bytes]] = []
        try:
            parts = _Parts(self, files)
            stream = self._stream.MultipartStream(
                boundary, parts.start, self.uploads.max_total_size
            )
            if self.timeout is None:
                await stream.read(receive)
            else:
                try:
                    async with asyncio.timeout(self.timeout):
                        await stream.read(receive)
                except TimeoutError:
                    raise body_timeout_error(self.timeout) from None
            yield parts.complete(), Request(request.scope, _consumed(receive))
        finally:
            for file in files:
                file.close()

    def check_preflight(self, headers: Headers) -> None:
        """Refuse (400) an upload without one of the CSRF headers."""
        if any(name.lower() in headers for name in self.csrf_headers):
            return
        raise TransportError(
            400,
            "This request was refused as a possible cross-site request forgery: a "
            "multipart/form-data request, which a browser can send without a CORS preflight, "
            "must carry one of these headers (any value): "
            f"{', '.join(self.csrf_headers)}.",
            code=CSRF_HEADER_REQUIRED,
        )


class _Parts:
    """The spec's order of parts: ``operations``, ``map``, then the files the map names."""

    def __init__(self, reader: UploadReader, files: list[SpooledTemporaryFile[bytes]]) -> None:
        self.reader = reader
        self.files = files
        self.posted: Posted | None = None
        self.slots: dict[str, list[Slot]] | None = None
        self.received: set[str] = set()

    def start(self, part: PartHeaders) -> PartSink:
        if self.posted is None:
            if part.name != "operations":
                raise bad_request(
                    "The first part of a multipart request must be 'operations' (the GraphQL "
                    f"multipart request spec), not {part.name!r}."
                )
            return _Field("operations", self.reader.max_field_size, self._operations)
        if self.slots is None:
            if part.name != "map":
                raise bad_request(
                    f"The second part of a multipart request must be 'map', not {part.name!r}."
                )
            return _Field("map", self.reader.max_field_size, self._map)
        if part.name in self.received or part.name in ("operations", "map"):
            raise bad_request(f"The multipart request sends the part {part.name!r} twice.")
        places = self.slots.get(part.name)
        if places is None:
            raise bad_request(f"The multipart part {part.name!r} is not named by the 'map'.")
        self.received.add(part.name)
        file = self.reader.uploads.spool()
        self.files.append(file)
        return _File(part, file, self.reader.uploads.max_file_size, places)

    def _operations(self, body: bytes) -> None:
        self.posted = decode_post_body(body, self.reader.max_batch_size)

    def _map(self, body: bytes) -> None:
        assert self.posted is not None
        self.slots = decode_map(body, self.posted, self.reader.uploads.max_files)

    def complete(self) -> Posted:
        """The request(s), every file in place; 400 if a part is missing."""
        if self.posted is None:
            raise bad_request("The multipart request has no 'operations' part.")
        if self.slots is None:
            raise bad_request("The multipart request has no 'map' part.")
        missing = [name for name in self.slots if name not in self.received]
        if missing:
            names = ", ".join(repr(name) for name in missing[:5])
            raise bad_request(f"File missing in the request: the map names {names}.")
        return self.posted


class _Field:
    """A JSON part, buffered up to ``limit`` bytes and handed to ``done`` when complete."""

    def __init__(self, name: str, limit: int, done: Callable[[bytes], None]) -> None:
        self.name = name
        self.limit = limit
        self.done = done
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        if len(self.data) + len(data) > self.limit:
            raise TransportError(
                413,
                f"The {self.name!r} part is larger than {self.limit} bytes.",
                code="PAYLOAD_TOO_LARGE",
            )
        self.data += data

    def finish(self) -> None:
        self.done(bytes(self.data))


class _File:
    """A file part, written to its spooled file up to ``limit`` bytes, then put in place."""

    def __init__(
        self,
        part: PartHeaders,
        file: SpooledTemporaryFile[bytes],
        limit: int,
        places: list[Slot],
    ) -> None:
        self.part = part
        self.file = file
        self.limit = limit
        self.places = places
        self.size = 0

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise TransportError(
                413,
                f"The file {self.part.name!r} is larger than the limit of {self.limit} bytes.",
                code="PAYLOAD_TOO_LARGE",
            )
        # Inline: one received chunk into memory or the page cache, cheaper than a thread hop.
        self.file.write(data)

    def finish(self) -> None:
        self.file.seek(0)
        upload = UploadedFile(self.part.filename, self.part.content_type, self.size, self.file)
        for place in self.places:
            place.fill(upload)


def _consumed(receive: Receive) -> Receive:
    """A ``receive`` whose body is empty (it was read), then the real one (disconnects)."""
    pending = True

    async def consumed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": b"", "more_body": False}
        return await receive()

    return consumed
