"""A TCP proxy on 127.0.0.1 in front of the test server, to switch the database off and on."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import urllib.parse


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TcpProxy:
    """Forwards ``127.0.0.1:port`` to the server of ``server_dsn`` while started.

    Until :meth:`start`, and after :meth:`stop`, nothing listens on the port: connecting is
    refused, as with a database that is down. ``stop`` also cuts the open connections.
    """

    def __init__(self, server_dsn: str) -> None:
        self.port = _free_port()
        parts = urllib.parse.urlsplit(server_dsn)
        query = dict(urllib.parse.parse_qsl(parts.query))
        self._socket_dir = query.get("host") if not parts.hostname else None
        self._host = parts.hostname or "127.0.0.1"
        self._target_port = parts.port or int(query.get("port", 5432))
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def dsn(self, database_dsn: str) -> str:
        """``database_dsn`` pointed at the proxy (same user and database)."""
        parts = urllib.parse.urlsplit(database_dsn)
        user = parts.username or "postgres"
        return f"postgresql://{user}@127.0.0.1:{self.port}{parts.path}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()
            self._server = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._socket_dir is not None:
            path = f"{self._socket_dir}/.s.PGSQL.{self._target_port}"
            return await asyncio.open_unix_connection(path)
        return await asyncio.open_connection(self._host, self._target_port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await self._connect()
        self._writers |= {writer, upstream_writer}
        try:
            await asyncio.gather(
                self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
            )
        finally:
            self._writers -= {writer, upstream_writer}

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
