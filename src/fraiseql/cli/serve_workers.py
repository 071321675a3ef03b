"""``fraiseql serve --workers N --reuse-port``: worker processes with a listening socket each.

With one shared listening socket, the worker whose event loop wakes first accepts nearly every
new connection, so a proxy's keep-alive pool ends up on one worker. Here each worker binds its
own socket with ``SO_REUSEPORT`` on the same address, and Linux spreads new connections over
the sockets by a hash of the connection's addresses.

The supervisor (:func:`supervise`, in the ``fraiseql serve`` process) starts the workers (the
first one alone, so an app that cannot start says so once), replaces a worker that dies (after a
delay that grows while deaths repeat), and on SIGTERM or SIGINT sends SIGTERM to every worker,
which stops accepting and finishes its requests for ``--graceful-timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uvicorn import Server

REUSE_PORT_AVAILABLE = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")
STARTUP_FAILURE = 3  # the exit status uvicorn uses when a server cannot start
KILL_MARGIN_S = 10.0  # time beyond --graceful-timeout for a worker to close its pool and exit
FIRST_RESTART_DELAY_S = 0.5
MAX_RESTART_DELAY_S = 30.0
STABLE_AFTER_S = 30.0  # a worker that lived this long resets its slot's restart delay
TICK_S = 0.1

logger = logging.getLogger("uvicorn.error")
_spawn = multiprocessing.get_context("spawn")


@dataclass(frozen=True, slots=True)
class ServeSettings:
    """What ``fraiseql serve`` asks of uvicorn, the same for each worker (and picklable)."""

    target: str
    host: str
    port: int
    factory: bool
    graceful_timeout: float
    keep_alive: float
    proxy_headers: bool
    forwarded_allow_ips: str
    log_level: str

    @property
    def graceful_limit(self) -> int | None:
        """Uvicorn's ``timeout_graceful_shutdown`` (``None``: no limit, as ``0`` has meant)."""
        return int(self.graceful_timeout) or None

    def uvicorn_options(self) -> dict[str, Any]:
        """The keyword arguments of ``uvicorn.Config`` (and ``uvicorn.run``) for these settings."""
        return {
            "host": self.host,
            "port": self.port,
            "factory": self.factory,
            "timeout_graceful_shutdown": self.graceful_limit,
            "timeout_keep_alive": int(self.keep_alive),
            "proxy_headers": self.proxy_headers,
            "forwarded_allow_ips": self.forwarded_allow_ips,
            "log_level": self.log_level,
            "access_log": False,
            "lifespan": "on",
        }


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` with ``SO_REUSEPORT``, not yet listening.

    A worker's socket starts listening when its server starts serving (asyncio's
    ``create_server`` calls ``listen``), so the kernel gives it no connection while the app
    is still loading.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto named, so that asyncio sets TCP_NODELAY on the connections it accepts (it checks
    # for IPPROTO_TCP): without it Nagle and delayed ACKs add about 40 ms to small answers.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # before bind, or it is refused
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def refuse_taken_port(host: str, port: int) -> None:
    """Raise ``OSError`` when another socket listens on ``host:port``, with or without reuse-port.

    ``SO_REUSEPORT`` lets any socket of the same user with the option bind the port too: without
    this check a second ``fraiseql serve`` started by mistake on the same port (another release,
    another app) would silently take a share of the connections instead of failing. A probe
    bound without the option fails on any listener; ``SO_REUSEADDR`` keeps connections of an
    earlier run in TIME_WAIT from counting.
    """
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def run_worker(settings: ServeSettings, ready: Connection, supervisor: int) -> None:
    """A worker process: its own socket, one uvicorn server on it, until SIGTERM or SIGINT.

    Sends ``True`` on ``ready`` once the server serves; exits with status 3 if it never does.
    """
    import uvicorn

    config = uvicorn.Config(settings.target, **settings.uvicorn_options())
    server = uvicorn.Server(config)

    def stop(signum: int, frame: FrameType | None) -> None:
        # Before the server takes the signals over, and when it hands them back after its
        # shutdown (it raises them again then): stop, or stay stopped, and exit normally.
        server.should_exit = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        sock = reuse_port_socket(settings.host, settings.port)
    except OSError as error:
        logger.error("cannot listen on %s:%d: %s", settings.host, settings.port, error)
        sys.exit(STARTUP_FAILURE)
    with sock, ready:
        try:
            with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:  # uvloop
                runner.run(_serve(server, sock, ready, supervisor))
        except Exception:
            if server.started:
                raise
            logger.exception("Worker process [%d] cannot start %s", os.getpid(), settings.target)
            sys.exit(STARTUP_FAILURE)
    if not server.started:
        sys.exit(STARTUP_FAILURE)


async def _serve(server: Server, sock: socket.socket, ready: Connection, supervisor: int) -> None:
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    told = False
    while not serving.done():
        if server.started and not told:
            ready.send(True)
            told = True
        if os.getppid() != supervisor:  # the supervisor died: do not serve on as an orphan
            server.should_exit = True
        await asyncio.wait({serving}, timeout=1.0 if told else TICK_S)
    await serving


@dataclass(slots=True)
class _Slot:
    """One worker place: the process that fills it now and how often it has failed lately."""

    process: SpawnProcess | None = None
    ready: Connection | None = None  # the worker says on it when it serves
    was_ready: bool = False
    started_at: float = 0.0
    delay_s: float = 0.0
    restart_at: float | None = None

    def serves(self) -> bool:
        """Whether the worker has said it serves (it may have exited since)."""
        if not self.was_ready and self.ready is not None and self.ready.poll():
            with contextlib.suppress(EOFError, OSError):
                self.was_ready = bool(self.ready.recv())
            self.ready.close()
            self.ready = None
        return self.was_ready


@dataclass(slots=True)
class _Supervisor:
    settings: ServeSettings
    workers: int
    slots: list[_Slot] = field(default_factory=list)
    stopping: bool = False

    def start(self, slot: _Slot) -> None:
        if slot.ready is not None:
            slot.ready.close()
        slot.ready, told = _spawn.Pipe(duplex=False)
        slot.process = _spawn.Process(
            target=run_worker,
            args=(self.settings, told, os.getpid()),
            name="fraiseql-worker",
        )
        slot.process.start()
        told.close()  # the worker has its own copy
        slot.was_ready = False
        slot.started_at = time.monotonic()
        slot.restart_at = None
        logger.info("Started worker process [%s]", slot.process.pid)

    def live(self) -> list[SpawnProcess]:
        return [s.process for s in self.slots if s.process is not None and s.process.is_alive()]

    def signal_all(self, signum: int) -> None:
        for process in self.live():
            if process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signum)

    def starting_failed(self) -> int | None:
        """The exit status of a worker that exited before it served, if one did."""
        for slot in self.slots:
            process = slot.process
            if process is not None and not slot.serves() and not process.is_alive():
                return process.exitcode or STARTUP_FAILURE
        return None

    def start_all(self) -> bool:
        """Start the first worker, then, once it serves, the others; ``False`` if one fails."""
        self.slots = [_Slot() for _ in range(self.workers)]
        self.start(self.slots[0])
        while not self.stopping and not self.slots[0].serves():
            if self.starting_failed() is not None:
                return False
            time.sleep(TICK_S)
        for slot in self.slots[1:]:
            self.start(slot)
        while not self.stopping and not all(slot.serves() for slot in self.slots):
            if self.starting_failed() is not None:
                return False
            time.sleep(TICK_S)
        return True

    def replace_dead(self) -> None:
        """Restart workers that exited without being asked, later the more often they died."""
        now = time.monotonic()
        for slot in self.slots:
            if slot.restart_at is not None:
                if now >= slot.restart_at:
                    self.start(slot)
                continue
            process = slot.process
            if process is None or process.is_alive():
                continue
            process.join()
            lived = now - slot.started_at
            if lived >= STABLE_AFTER_S:
                slot.delay_s = FIRST_RESTART_DELAY_S
            else:
                slot.delay_s = min(
                    MAX_RESTART_DELAY_S, max(FIRST_RESTART_DELAY_S, 2 * slot.delay_s)
                )
            slot.restart_at = now + slot.delay_s
            logger.warning(
                "Worker process [%s] exited (status %s) after %.1f s; a new one in %.1f s",
                process.pid,
                process.exitcode,
                lived,
                slot.delay_s,
            )

    def stop_all(self) -> bool:
        """SIGTERM to every worker, wait for them (SIGKILL past the limit); ``True`` if clean."""
        self.signal_all(signal.SIGTERM)
        limit = self.settings.graceful_limit
        deadline = None if limit is None else time.monotonic() + limit + KILL_MARGIN_S
        clean = True
        for slot in self.slots:
            process = slot.process
            if process is None:
                continue
            process.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                logger.error("Worker process [%s] did not stop in time: killed", process.pid)
                process.kill()
                process.join()
                clean = False
            elif process.exitcode != 0 and slot.restart_at is None:
                clean = False
        return clean


def supervise(settings: ServeSettings, workers: int) -> int:
    """Serve with ``workers`` processes, each on its own ``SO_REUSEPORT`` socket; the exit status.

    Returns 0 after a stop by SIGTERM/SIGINT in which every worker exited cleanly, 1 when one had
    to be killed or failed, and 3 when the port cannot be taken or the workers cannot start.
    """
    import uvicorn

    uvicorn.Config(settings.target, **settings.uvicorn_options())  # sets up uvicorn's logging
    try:
        # Bound (never listening) while the workers run: a port another server listens on is
        # refused here, once, and port 0 becomes one port that every worker binds.
        refuse_taken_port(settings.host, settings.port)
        reservation = reuse_port_socket(settings.host, settings.port)
    except OSError as error:
        logger.error("cannot listen on %s:%d: %s", settings.host, settings.port, error)
        return STARTUP_FAILURE
    port = int(reservation.getsockname()[1])
    supervisor = _Supervisor(replace(settings, port=port), workers)

    def stop(signum: int, frame: FrameType | None) -> None:
        supervisor.stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with reservation:
            logger.info(
                "Starting %d workers on http://%s:%d, each with its own SO_REUSEPORT socket",
                workers,
                settings.host,
                port,
            )
            if not supervisor.start_all():
                status = supervisor.starting_failed() or STARTUP_FAILURE
                supervisor.signal_all(signal.SIGKILL)
                supervisor.stop_all()
                logger.error("A worker could not start (status %s, see above): stopping", status)
                return STARTUP_FAILURE
            while not supervisor.stopping:
                supervisor.replace_dead()
                time.sleep(TICK_S)
            logger.info("Stopping %d workers", len(supervisor.live()))
            return 0 if supervisor.stop_all() else 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
