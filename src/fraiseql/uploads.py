"""File uploads: the limits of multipart requests (:class:`Uploads`), the files themselves.

``create_app(uploads=Uploads(...))`` turns on the GraphQL multipart request spec
(https://github.com/jaydenseric/graphql-multipart-request-spec): a ``multipart/form-data`` POST
whose files reach the resolvers as :class:`UploadedFile` values, through arguments annotated
``fraiseql.Upload`` (the ``Upload`` scalar). The transport is :mod:`fraiseql.asgi.uploads`;
this module holds what users touch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from tempfile import SpooledTemporaryFile
from typing import IO

DEFAULT_MAX_FILE_SIZE = 10 << 20
"""The largest file of a request, in bytes (10 MiB)."""
DEFAULT_MAX_FILES = 10
"""How many files one request may carry."""
DEFAULT_MAX_TOTAL_SIZE = 64 << 20
"""The largest multipart body, files and JSON parts together, in bytes (64 MiB)."""
DEFAULT_MEMORY_THRESHOLD = 64 << 10
"""Bytes of a file kept in memory; past it the file is written to a temporary file (64 KiB)."""
DEFAULT_CHUNK_SIZE = 64 << 10
"""The size of the pieces :meth:`UploadedFile.chunks` yields."""


@dataclass(frozen=True, slots=True)
class Uploads:
    """The limits of multipart requests; passing one to ``create_app`` turns uploads on.

    ``max_file_size`` bounds each file, ``max_files`` the files of a request (its ``map``
    entries), ``max_total_size`` the whole body; each is checked while the body arrives, and
    the reading stops with 413 at the first byte over a limit. The ``operations`` and ``map``
    parts are bounded by the app's ``max_body_size``, like a JSON body, and the whole upload by
    its ``body_timeout``. A file stays in memory up to ``memory_threshold`` bytes, then goes to
    an anonymous temporary file in ``temp_dir`` (``None``: the system's); every file is closed,
    and its disk space freed, when the request ends.
    """

    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    max_files: int = DEFAULT_MAX_FILES
    max_total_size: int = DEFAULT_MAX_TOTAL_SIZE
    memory_threshold: int = DEFAULT_MEMORY_THRESHOLD
    temp_dir: str | None = None

    def __post_init__(self) -> None:
        for name in ("max_file_size", "max_files", "max_total_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Uploads.{name} must be a positive integer, not {value!r}")
        if isinstance(self.memory_threshold, bool) or not isinstance(self.memory_threshold, int):
            raise ValueError("Uploads.memory_threshold must be an integer number of bytes")
        if self.memory_threshold < 0:
            raise ValueError("Uploads.memory_threshold must not be negative")

    def spool(self) -> SpooledTemporaryFile[bytes]:
        """A new, empty file: in memory up to ``memory_threshold`` bytes, then on disk."""
        file = SpooledTemporaryFile(  # noqa: SIM115 - the request that owns it closes it
            max_size=self.memory_threshold, mode="w+b", dir=self.temp_dir
        )
        if self.memory_threshold == 0:  # SpooledTemporaryFile reads 0 as "never on disk"
            file.rollover()
        return file


@dataclass(eq=False)
class UploadedFile:
    """One uploaded file, the value of an ``Upload`` argument.

    ``filename`` and ``content_type`` are what the client said (``None`` when it said
    nothing): never use the name as a path. ``size`` is the number of bytes received.
    :meth:`read` and :meth:`chunks` read without blocking the event loop; ``file`` is the file
    object itself, for synchronous code (in a thread, for large files). The file exists only
    while the request runs: it is closed when the response is ready, so copy what you keep.
    Logged or stored variables show the three public fields only.
    """

    filename: str | None
    content_type: str | None
    size: int
    _file: SpooledTemporaryFile[bytes] = field(repr=False)

    @property
    def file(self) -> IO[bytes]:
        """The file object, positioned where the last read left it (at 0 to begin with)."""
        return self._file

    @property
    def in_memory(self) -> bool:
        """Whether the file is still held in memory (it was no larger than the threshold)."""
        return not getattr(self._file, "_rolled", True)

    async def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes from the current position (``-1``: all that is left)."""
        if self.in_memory:
            return self._file.read(size)
        return await asyncio.to_thread(self._file.read, size)

    async def seek(self, offset: int) -> None:
        """Move to ``offset`` bytes from the start (``seek(0)`` reads the file again)."""
        self._file.seek(offset)

    async def chunks(self, size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        """The rest of the file in pieces of at most ``size`` bytes."""
        if size < 1:
            raise ValueError("chunk size must be positive")
        while chunk := await self.read(size):
            yield chunk

    @property
    def closed(self) -> bool:
        """Whether the file was closed (the request that carried it has ended)."""
        return bool(self._file.closed)

    def close(self) -> None:
        """Close the file now; the transport does it at the end of the request anyway."""
        self._file.close()
