"""A real PgBouncer (the Debian package's binary) in a temporary directory, for the tests."""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BINARY_NAMES = ("pgbouncer", "/usr/sbin/pgbouncer")


def binary() -> str | None:
    """The pgbouncer executable, if installed (Debian puts it in /usr/sbin)."""
    for name in BINARY_NAMES:
        found = shutil.which(name)
        if found is not None:
            return found
    return None


def version(executable: str) -> tuple[int, int]:
    """``(major, minor)`` of the pgbouncer at ``executable``."""
    output = subprocess.run(
        [executable, "--version"], capture_output=True, text=True, timeout=10, check=True
    ).stdout
    match = re.search(r"PgBouncer (\d+)\.(\d+)", output)
    assert match is not None, output
    return int(match.group(1)), int(match.group(2))


TRACKS_PREPARED_STATEMENTS = (1, 21)
"""The first release with ``max_prepared_statements`` (protocol-level prepared statements)."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Bouncer:
    """A running PgBouncer: its DSN (same user, password and database as the target's)."""

    dsn: str
    port: int
    version: tuple[int, int]
    log: Path

    def log_text(self) -> str:
        """What PgBouncer logged so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextlib.contextmanager
def running(
    executable: str,
    target_dsn: str,
    *,
    pool_size: int = 2,
    settings: dict[str, str] | None = None,
) -> Iterator[Bouncer]:
    """PgBouncer in transaction mode on a free port of 127.0.0.1, in front of ``target_dsn``.

    ``auth_type = any``: PgBouncer takes any client and logs in to the server as the target
    DSN's user. ``settings`` add to or replace the ``[pgbouncer]`` section. Run as root,
    PgBouncer refuses to start unless told which user to become: then it becomes ``postgres``
    (or ``nobody``), which owns the temporary directory (made in /tmp, which every user may
    traverse; pytest's own temporary directories are private to the user running the tests).
    """
    directory = Path(tempfile.mkdtemp(prefix="fraiseql-pgbouncer-"))
    try:
        with _running(executable, target_dsn, directory, pool_size, settings or {}) as bouncer:
            yield bouncer
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def _running(
    executable: str,
    target_dsn: str,
    directory: Path,
    pool_size: int,
    settings: dict[str, str],
) -> Iterator[Bouncer]:
    target = urlsplit(target_dsn)
    assert target.hostname and target.port, f"not a TCP DSN: {target_dsn}"
    server = f"host={target.hostname} port={target.port} user={target.username or 'postgres'}"
    if target.password:
        server += f" password={target.password}"
    port = free_port()
    log = directory / "pgbouncer.log"
    options = {
        "listen_addr": "127.0.0.1",
        "listen_port": str(port),
        "unix_socket_dir": "",
        "auth_type": "any",
        "pool_mode": "transaction",
        "default_pool_size": str(pool_size),
        "max_client_conn": "200",
        "logfile": str(log),
        "pidfile": str(directory / "pgbouncer.pid"),
        "ignore_startup_parameters": "statement_timeout",
        "server_login_retry": "1",
        **settings,
    }
    if os.geteuid() == 0:
        user = next(name for name in ("postgres", "nobody") if _exists(name))
        options["user"] = user
        entry = pwd.getpwnam(user)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    lines = ["[databases]", f"* = {server}", "", "[pgbouncer]"]
    lines += [f"{key} = {value}" for key, value in options.items()]
    ini = directory / "pgbouncer.ini"
    ini.write_text("\n".join(lines) + "\n", encoding="utf-8")
    process = subprocess.Popen(
        [executable, str(ini)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        _wait_for(port, process, log)
        dsn = urlunsplit(target._replace(netloc=_netloc(target, port)))
        yield Bouncer(dsn, port, version(executable), log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def _exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


def _netloc(target: object, port: int) -> str:
    parts = urlsplit(str(urlunsplit(target)))  # type: ignore[arg-type]
    credentials = parts.netloc.rpartition("@")[0]
    return f"{credentials}@127.0.0.1:{port}" if credentials else f"127.0.0.1:{port}"


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            logged = log.read_text() if log.exists() else ""
            raise RuntimeError(f"pgbouncer exited ({process.returncode}): {output}{logged}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError("pgbouncer did not listen within 10 s")
