"""The subscription fan-out benchmark: ``python -m bench.subscriptions``.

Creates a throw-away database (``--database``, default ``fraiseql_bench_subs``, dropped and
created again, dropped at the end) on the server of ``FRAISEQL_BENCH_DATABASE_URL`` (else
``postgresql://postgres@127.0.0.1:5432/postgres``), with the read model
``tv_bench_message(id uuid primary key, data jsonb)`` and FraiseQL's ``CONTRACT_SQL`` (and a
stand-in ``fraiseql_notify`` if that does not define one). Then for each system in turn, the
floor (``bench.subscriptions.floor``) and FraiseQL (``bench.subscriptions.fraiseql_server``
under uvicorn), each in its own process on 127.0.0.1:

1. **memory**: the server's RSS (``VmRSS``) after one warm-up subscriber came and went, and
   again with N subscribed idle connections; their difference divided by N;
2. **fan-out latency**: E events, one after the other; each is an insert into the read model
   plus ``fraiseql_notify`` in one statement, committed on its own, from a separate connection
   (``synchronous_commit = off``: the fan-out is measured, not the WAL flush). Its latency runs
   from the moment the notification was queued, just before the commit (PostgreSQL's clock,
   read by the statement), until the LAST of the N subscribers received its ``next`` frame
   (the clients' ``time.time()``, the same clock): P50, P99, max;
3. **sustained events/s**: events fired back to back for ``--duration`` seconds, at most
   ``--window`` of them not yet delivered to everyone (an unbounded stream would only fill the
   servers' queues until they drop slow subscribers); the events delivered to all N within the
   duration, per second.

The N subscribers are spread over ``--client-processes`` processes
(``bench.subscriptions.clients``), outside the driver's event loop; their CPU use is reported
so that a saturated client side shows. Before any timing, warm-up events are sent until every
subscriber has received one (a subscription is live on the server only then).

The systems are measured one after the other, never at once (both LISTEN on the same channel:
each would pay for the other's events), in ``--rounds`` rounds (default 3), each starting the
servers afresh, who goes first alternating. A reported value is a system's median over rounds,
a ratio the median of the per-round ratios FraiseQL / floor. Compare within one run only.

Output: a table on stdout, ``bench/results/subscriptions.json`` and
``bench/results/subscriptions.md`` (``--output``, ``--markdown``). When FraiseQL's
subscriptions are not available in the checkout, its side is skipped with the reason and the
floor still runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import ctypes.util
import datetime
import functools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from bench.common import (
    PROJECT_ROOT,
    RESULTS_DIR,
    free_port,
    log,
    machine_info,
    server_url,
    with_database,
    write_json,
)
from bench.subscriptions.shared import (
    BODY,
    INSERT_AND_NOTIFY_SQL,
    PATH,
    SCHEMA_SQL,
    STAND_IN_NOTIFY_SQL,
    cpu_seconds,
    raise_fd_limit,
    rss_bytes,
)

SYSTEMS = ("floor", "fraiseql")
EVENT_TIMEOUT_S = 10.0
"""How long an event may take to reach every subscriber before it counts as lost."""
MAX_LOST = 3
"""A system that loses this many events is stopped and reported as failed."""


class MeasurementError(Exception):
    """A system could not be measured (it did not start, dropped subscribers, lost events)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What one run measures."""

    subscribers: int = 1000
    events: int = 200
    duration_s: float = 10.0
    window: int = 16
    client_processes: int = 2
    connect_concurrency: int = 50


# --- processes -----------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In a child before exec: get SIGTERM when the driver dies, whatever kills it."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Server:
    """One system's server process, stopped whatever happens."""

    def __init__(self, system: str, dsn: str, workdir: Path) -> None:
        self.system = system
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}{PATH}"
        self.log_path = workdir / f"server-{system}.log"
        env = {**os.environ, "FRAISEQL_DATABASE_URL": dsn}
        if system == "floor":
            command = [
                *(sys.executable, "-m", "bench.subscriptions.floor"),
                *("--dsn", dsn, "--port", str(self.port)),
            ]
        else:
            command = [
                *(sys.executable, "-m", "uvicorn", "bench.subscriptions.fraiseql_server:app"),
                *("--host", "127.0.0.1", "--port", str(self.port), "--backlog", "4096"),
                *("--no-access-log", "--log-level", "warning"),
            ]
        with self.log_path.open("wb") as output:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    def output(self) -> str:
        """The end of what the server wrote."""
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    async def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Until the port accepts connections (both servers bind once started up)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise MeasurementError(f"the {self.system} server exited:\n{self.output()}")
            try:
                _, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", self.port), 2
                )
            except (OSError, TimeoutError):
                await asyncio.sleep(0.1)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        raise MeasurementError(f"the {self.system} server did not start in {timeout_s}s")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@dataclass
class ClientGroup:
    """N subscribers spread over client processes, and what they report."""

    url: str
    total: int
    processes: int
    workdir: Path
    label: str
    concurrency: int = 50
    children: list[asyncio.subprocess.Process] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    connected: list[dict[str, Any]] = field(default_factory=list)
    byes: list[dict[str, Any]] = field(default_factory=list)
    warm_count: int = 0
    failure: str | None = None
    expected: dict[int, tuple[asyncio.Future[float], list[float]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.changed = asyncio.Event()

    @property
    def pids(self) -> list[int]:
        """The client processes' ids."""
        return [child.pid for child in self.children]

    def cpu_seconds(self) -> float:
        """CPU time of all client processes so far."""
        total = 0.0
        for pid in self.pids:
            with contextlib.suppress(OSError):
                total += cpu_seconds(pid)
        return total

    async def start(self) -> None:
        """Spawn the client processes (as few as possible: at most one per 10 subscribers)."""
        processes = max(1, min(self.processes, self.total // 10 or 1))
        counts = [self.total // processes + (i < self.total % processes) for i in range(processes)]
        for index, count in enumerate(counts):
            with (self.workdir / f"clients-{self.label}-{index}.log").open("wb") as errors:
                child = await asyncio.create_subprocess_exec(
                    *(sys.executable, "-m", "bench.subscriptions.clients", "--url", self.url),
                    *("--connections", str(count), "--concurrency", str(self.concurrency)),
                    cwd=PROJECT_ROOT,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=errors,
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
            self.children.append(child)
            self.readers.append(asyncio.create_task(self._read(child)))

    async def _read(self, child: asyncio.subprocess.Process) -> None:
        assert child.stdout is not None
        said_bye = False
        while line := await child.stdout.readline():
            message = orjson.loads(line)
            said_bye = said_bye or message["type"] == "bye"
            self._on(message)
        if not said_bye:
            self._fail(f"a client process exited (code {await child.wait()})")

    def _fail(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason
        self.changed.set()

    def _on(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "done":
            entry = self.expected.get(message["seq"])
            if entry is not None:
                future, times = entry
                times.append(message["t"])
                if len(times) == len(self.children) and not future.done():
                    future.set_result(max(times))
        elif kind == "connected":
            self.connected.append(message)
            if message["errors"]:
                self._fail(f"connections failed: {message['errors']}")
        elif kind == "warm":
            self.warm_count += 1
        elif kind == "closed":
            self._fail(f"the server closed a subscriber: {message['code']} {message['reason']}")
        elif kind == "bye":
            self.byes.append(message)
        self.changed.set()

    async def wait_until(self, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Until ``condition()``; a client failure or the timeout raise ``MeasurementError``."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            if self.failure is not None:
                raise MeasurementError(f"{what}: {self.failure}")
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise MeasurementError(f"{what}: not done after {timeout_s:.0f}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)

    async def wait_connected(self, timeout_s: float) -> float:
        """Until every subscriber is acknowledged and subscribed; the seconds it took (max)."""
        await self.wait_until(
            lambda: len(self.connected) == len(self.children), timeout_s, "connecting"
        )
        return float(max(message["seconds"] for message in self.connected))

    def all_warm(self) -> bool:
        """Every subscriber received a warm-up event."""
        return self.warm_count == len(self.children)

    def expect(self, seq: int) -> asyncio.Future[float]:
        """The moment the last subscriber receives event ``seq`` (call before firing it)."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.expected[seq] = (future, [])
        return future

    def forget(self, seq: int) -> None:
        """Stop waiting for event ``seq``."""
        self.expected.pop(seq, None)

    async def close(self) -> None:
        """Ask the clients to close their connections and exit; kill what does not."""
        for child in self.children:
            if child.returncode is None and child.stdin is not None:
                with contextlib.suppress(OSError, RuntimeError):
                    child.stdin.write(b"close\n")
                    await child.stdin.drain()
        for child in self.children:
            try:
                await asyncio.wait_for(child.wait(), 40)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    child.kill()
                await child.wait()
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)


# --- the database and the events -----------------------------------------------------------------


@contextlib.asynccontextmanager
async def subscriptions_database(name: str) -> AsyncIterator[tuple[str, bool]]:
    """The throw-away database: its DSN, and whether ``fraiseql_notify`` is a stand-in."""
    from fraiseql.db.commands import CONTRACT_SQL

    admin_url = server_url()
    try:
        admin = await asyncpg.connect(admin_url, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise SystemExit(f"bench: cannot connect to {admin_url} ({exc})") from exc
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        dsn = with_database(admin_url, name)
        connection = await asyncpg.connect(dsn, timeout=10)
        try:
            await connection.execute(CONTRACT_SQL)
            await connection.execute(SCHEMA_SQL)
            defined = await connection.fetchval(
                "SELECT to_regprocedure('fraiseql_notify(text, text, uuid[])') IS NOT NULL"
            )
            if not defined:
                await connection.execute(STAND_IN_NOTIFY_SQL)
        finally:
            await connection.close()
        yield dsn, not defined
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


class Writer:
    """The connection that writes the events, numbering them."""

    def __init__(self, connection: asyncpg.Connection, statement: Any) -> None:
        self.connection = connection
        self.statement = statement
        self.next_seq = 0
        self.next_warm = -1
        self.round_trips: list[float] = []

    @classmethod
    async def open(cls, dsn: str) -> Writer:
        """Connect and prepare the event statement."""
        connection = await asyncpg.connect(dsn, timeout=10)
        await connection.execute("SET synchronous_commit = off")
        return cls(connection, await connection.prepare(INSERT_AND_NOTIFY_SQL))

    async def fire(self, seq: int) -> float:
        """Write and notify event ``seq``; when it was notified (``time.time()`` clock)."""
        started = time.monotonic()
        notified: float = await self.statement.fetchval(str(uuid.uuid4()), seq, BODY)
        if seq >= 0:
            self.round_trips.append(time.monotonic() - started)
        return notified

    def take_seq(self) -> int:
        """The number of the next measured event."""
        self.next_seq += 1
        return self.next_seq - 1

    async def warm_up(self, group: ClientGroup, timeout_s: float) -> int:
        """Fire warm-up events until every subscriber of ``group`` received one; how many."""
        fired = 0
        deadline = time.monotonic() + timeout_s
        while not group.all_warm():
            if group.failure is not None:
                raise MeasurementError(f"warming up: {group.failure}")
            if time.monotonic() > deadline:
                raise MeasurementError(f"warming up: not every subscriber live after {timeout_s}s")
            await self.fire(self.next_warm)
            self.next_warm -= 1
            fired += 1
            with contextlib.suppress(MeasurementError):
                await group.wait_until(group.all_warm, 0.25, "warming up")
        return fired

    async def close(self) -> None:
        """Close the connection."""
        await self.connection.close(timeout=5)


# --- measuring one system ------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, interpolated between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """P50, P99 and max of durations in seconds, in milliseconds."""
    return {
        "p50_ms": round(percentile(seconds, 50) * 1e3, 3),
        "p99_ms": round(percentile(seconds, 99) * 1e3, 3),
        "max_ms": round(max(seconds) * 1e3, 3),
        "count": len(seconds),
    }


async def latency_phase(
    group: ClientGroup, writer: Writer, server: Server, events: int
) -> dict[str, Any]:
    """Events one after the other: from each commit to its last subscriber."""
    latencies: list[float] = []
    lost = 0
    server_cpu, client_cpu, started = cpu_seconds(server.pid), group.cpu_seconds(), time.monotonic()
    for _ in range(events):
        seq = writer.take_seq()
        delivered = group.expect(seq)
        notified = await writer.fire(seq)
        try:
            last = await asyncio.wait_for(delivered, EVENT_TIMEOUT_S)
        except TimeoutError:
            group.forget(seq)
            lost += 1
            if group.failure is not None or lost >= MAX_LOST:
                raise MeasurementError(
                    f"latency: {lost} events not delivered to every subscriber in "
                    f"{EVENT_TIMEOUT_S:.0f}s ({group.failure or 'no client error'})"
                ) from None
            continue
        group.forget(seq)
        latencies.append(last - notified)
    wall = time.monotonic() - started
    frames = len(latencies) * group.total
    server_cpu = cpu_seconds(server.pid) - server_cpu
    return {
        **summary_ms(latencies),
        "mean_ms": round(statistics.fmean(latencies) * 1e3, 3),
        "lost_events": lost,
        "seconds": round(wall, 3),
        "server_cpu_s": round(server_cpu, 3),
        "server_cpu_us_per_frame": round(server_cpu / frames * 1e6, 3) if frames else None,
        "client_cpu_share": round((group.cpu_seconds() - client_cpu) / wall, 3),
        "latencies_ms": [round(value * 1e3, 3) for value in latencies],
    }


async def sustained_phase(
    group: ClientGroup, writer: Writer, server: Server, duration_s: float, window: int
) -> dict[str, Any]:
    """Events back to back (at most ``window`` undelivered) for ``duration_s``; delivered/s."""
    slots = asyncio.Semaphore(window)
    # (notified, delivered to the last subscriber), both on the time.time() clock
    completions: list[tuple[float, float]] = []
    outstanding: dict[int, asyncio.Future[float]] = {}
    server_cpu, client_cpu = cpu_seconds(server.pid), group.cpu_seconds()
    started = time.monotonic()
    end = started + duration_s
    started_clock = time.time()
    end_clock = started_clock + duration_s

    def finished(seq: int, notified: float, future: asyncio.Future[float]) -> None:
        outstanding.pop(seq, None)
        group.forget(seq)
        slots.release()
        if not future.cancelled():
            completions.append((notified, future.result()))

    fired = 0
    while time.monotonic() < end:
        try:
            await asyncio.wait_for(slots.acquire(), EVENT_TIMEOUT_S)
        except TimeoutError:
            raise MeasurementError(
                f"sustained: {window} events undelivered for {EVENT_TIMEOUT_S:.0f}s "
                f"({group.failure or 'no client error'})"
            ) from None
        if group.failure is not None:
            raise MeasurementError(f"sustained: {group.failure}")
        seq = writer.take_seq()
        future = group.expect(seq)
        outstanding[seq] = future
        notified = await writer.fire(seq)
        fired += 1
        future.add_done_callback(functools.partial(finished, seq, notified))
    if outstanding:
        await asyncio.wait(list(outstanding.values()), timeout=EVENT_TIMEOUT_S)
    for future in list(outstanding.values()):
        future.cancel()
    await asyncio.sleep(0)
    wall = time.monotonic() - started
    server_cpu = cpu_seconds(server.pid) - server_cpu
    in_time = [delivered for _, delivered in completions if delivered <= end_clock]
    per_second = [0] * max(1, int(duration_s))
    for delivered in in_time:
        second = int(delivered - started_clock)
        if second < len(per_second):
            per_second[second] += 1
    frames = len(completions) * group.total
    return {
        "events_per_s": round(len(in_time) / duration_s, 2),
        "frames_per_s": round(len(in_time) * group.total / duration_s, 1),
        "per_second": per_second,
        "fired": fired,
        "delivered": len(completions),
        "undelivered": fired - len(completions),
        "latency_under_load": summary_ms([d - c for c, d in completions]) if completions else None,
        "server_cpu_share": round(server_cpu / wall, 3),
        "server_cpu_us_per_frame": round(server_cpu / frames * 1e6, 3) if frames else None,
        "client_cpu_share": round((group.cpu_seconds() - client_cpu) / wall, 3),
    }


async def measure(
    system: str, dsn: str, settings: Settings, workdir: Path, writer: Writer
) -> dict[str, Any]:
    """Every measurement of one system, its server started and stopped here."""
    log(f"{system}: starting the server")
    server = Server(system, dsn, workdir)
    groups: list[ClientGroup] = []
    try:
        await server.wait_ready()

        def clients(total: int, label: str) -> ClientGroup:
            group = ClientGroup(
                server.url,
                total,
                settings.client_processes,
                workdir,
                f"{system}-{label}",
                concurrency=settings.connect_concurrency,
            )
            groups.append(group)
            return group

        # one subscriber first, so that what is built once (plans, caches, the listener) is
        # not counted as the connections' memory
        first = clients(1, "first")
        await first.start()
        await first.wait_connected(30)
        await writer.warm_up(first, 30)
        await first.close()
        await asyncio.sleep(1.0)
        rss_empty = rss_bytes(server.pid)

        log(f"{system}: opening {settings.subscribers} subscribers")
        group = clients(settings.subscribers, "main")
        await group.start()
        connect_s = await group.wait_connected(180)
        warm_events = await writer.warm_up(group, 60)
        await asyncio.sleep(1.0)  # the last warm-up frames land
        rss_idle = rss_bytes(server.pid)
        log(f"{system}: connected in {connect_s:.1f}s; {settings.events} events one by one")

        latency = await latency_phase(group, writer, server, settings.events)
        log(
            f"{system}: fan-out p50 {latency['p50_ms']:.2f} ms, p99 {latency['p99_ms']:.2f} ms; "
            f"sustained for {settings.duration_s:.0f}s"
        )
        sustained = await sustained_phase(
            group, writer, server, settings.duration_s, settings.window
        )
        log(f"{system}: {sustained['events_per_s']:.1f} events/s delivered to all")
        rss_after = rss_bytes(server.pid)
        await group.close()
        bye = {
            "frames": sum(b["frames"] for b in group.byes),
            "bad_frames": sum(b["bad_frames"] for b in group.byes),
            "first_bad": next((b["first_bad"] for b in group.byes if b["first_bad"]), None),
        }
        if bye["bad_frames"]:
            raise MeasurementError(
                f"{bye['bad_frames']} frames without a message: {bye['first_bad']}"
            )
        return {
            "connect_s": round(connect_s, 3),
            "warm_up_events": warm_events,
            "memory": {
                "rss_empty_bytes": rss_empty,
                "rss_idle_bytes": rss_idle,
                "rss_after_bytes": rss_after,
                "bytes_per_idle_connection": round((rss_idle - rss_empty) / settings.subscribers),
            },
            "latency": latency,
            "sustained": sustained,
            "frames_received": bye["frames"],
        }
    except MeasurementError as failure:
        raise MeasurementError(f"{failure}\nserver output:\n{server.output()}") from None
    finally:
        for group in groups:
            with contextlib.suppress(Exception):
                await group.close()
        server.stop()


# --- the run and its output -----------------------------------------------------------------------


Getter = Callable[[dict[str, Any]], float | None]

ROWS: tuple[tuple[str, str, str, Getter], ...] = (
    ("fanout_p50_ms", "fan-out P50 (ms)", "{:.2f}", lambda r: r["latency"]["p50_ms"]),
    ("fanout_p99_ms", "fan-out P99 (ms)", "{:.2f}", lambda r: r["latency"]["p99_ms"]),
    ("fanout_max_ms", "fan-out max (ms)", "{:.2f}", lambda r: r["latency"]["max_ms"]),
    ("events_per_s", "sustained events/s", "{:.1f}", lambda r: r["sustained"]["events_per_s"]),
    ("frames_per_s", "sustained frames/s", "{:.0f}", lambda r: r["sustained"]["frames_per_s"]),
    (
        "server_cpu_us_per_frame",
        "server CPU per frame (µs)",
        "{:.2f}",
        lambda r: r["latency"]["server_cpu_us_per_frame"],
    ),
    (
        "server_cpu_share_sustained",
        "server CPU share, sustained",
        "{:.2f}",
        lambda r: r["sustained"]["server_cpu_share"],
    ),
    (
        "kib_per_idle_connection",
        "RSS per idle connection (KiB)",
        "{:.1f}",
        lambda r: r["memory"]["bytes_per_idle_connection"] / 1024,
    ),
    ("connect_s", "connect all (s)", "{:.2f}", lambda r: r["connect_s"]),
    (
        "client_cpu_share_latency",
        "client CPU share, latency",
        "{:.2f}",
        lambda r: r["latency"]["client_cpu_share"],
    ),
    (
        "client_cpu_share_sustained",
        "client CPU share, sustained",
        "{:.2f}",
        lambda r: r["sustained"]["client_cpu_share"],
    ),
)
"""The reported measures: key in the JSON summary, label, format, and where a round has it."""


def _measured(outcome: dict[str, Any] | None) -> bool:
    return outcome is not None and "failed" not in outcome


def summarise(rounds: Sequence[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Per measure: each system's median over its measured rounds, and the median of the
    per-round ratios FraiseQL / floor (rounds where both were measured)."""
    summary: dict[str, dict[str, float | None]] = {}
    for key, _, _, get in ROWS:
        entry: dict[str, float | None] = {}
        per_round: dict[str, list[float | None]] = {}
        for name in SYSTEMS:
            per_round[name] = [
                get(r["systems"][name]) if _measured(r["systems"].get(name)) else None
                for r in rounds
            ]
            values = [v for v in per_round[name] if v is not None]
            entry[name] = round(statistics.median(values), 3) if values else None
        ratios = [
            b / a
            for a, b in zip(per_round["floor"], per_round["fraiseql"], strict=True)
            if a and b is not None
        ]
        entry["fraiseql_over_floor"] = round(statistics.median(ratios), 3) if ratios else None
        summary[key] = entry
    return summary


def status(results: dict[str, Any], name: str) -> str | None:
    """``None`` when ``name`` was measured (in some round), else why not: one word."""
    if name in results["skipped"]:
        return "skipped"
    outcomes = [r["systems"][name] for r in results["rounds"] if name in r["systems"]]
    if not outcomes:
        return "not run"
    return None if any(_measured(o) for o in outcomes) else "failed"


def table(results: dict[str, Any]) -> list[list[str]]:
    """The rows of the report: a measure, each system's median, FraiseQL / floor."""
    rows = [["", "floor", "fraiseql", "fraiseql/floor"]]
    states = {name: status(results, name) for name in SYSTEMS}
    for key, label, style, _ in ROWS:
        entry = results["summary"][key]
        cells = [label]
        for name in SYSTEMS:
            value = entry[name]
            cells.append(states[name] or ("n/a" if value is None else style.format(value)))
        ratio = entry["fraiseql_over_floor"]
        cells.append("—" if ratio is None else f"{ratio:.2f}")
        rows.append(cells)
    return rows


def text_table(rows: list[list[str]]) -> str:
    """``rows`` aligned in columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        )
        for row in rows
    )


def notes(results: dict[str, Any]) -> list[str]:
    """Why a system was skipped or failed, one line each."""
    found = [f"{name} skipped: {reason}" for name, reason in results["skipped"].items()]
    for number, round_ in enumerate(results["rounds"], 1):
        for name, outcome in round_["systems"].items():
            if "failed" in outcome:
                found.append(
                    f"{name} failed in round {number}: {outcome['failed'].splitlines()[0]}"
                )
    return found


def markdown(results: dict[str, Any]) -> str:
    """The report as Markdown (``bench/results/subscriptions.md``)."""
    s = results["settings"]
    m = results["machine"]
    rows = table(results)
    lines = [
        "# Subscription fan-out: FraiseQL against a floor",
        "",
        f"Measured by `python -m bench.subscriptions` on {m['date']} (commit "
        f"{m.get('git_commit')}, {m['duration_s']:.0f} s), {m['nproc']} CPUs "
        f"({m['cpu_model']}), Python {m['python']}, PostgreSQL {m['postgresql']}, load "
        f"average at start {m['load_average_at_start']}.",
        "",
        f"{s['subscribers']} subscribers over WebSocket (`graphql-transport-ws`) in "
        f"{s['client_processes']} client processes, all subscribed to "
        f"`{results['subscription']}`; {s['events']} events one after the other for the "
        "fan-out latency (from the event's notification, just before its commit, until the "
        f"last subscriber received its frame), then {s['duration_s']:g} s of events back to "
        f"back, at most {s['window']} undelivered, for the sustained rate. Memory: the "
        "server's RSS with the idle subscribed connections minus its RSS with none, per "
        "connection. Server CPU per frame: the server process's CPU time during the latency "
        f"phase over the frames delivered. {s['rounds']} rounds, each starting both servers "
        "afresh and measuring them one after the other, who goes first alternating; a value "
        "is the median over rounds, a ratio the median of the per-round ratios.",
        "",
        "| " + " | ".join(rows[0]) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(rows[0]) - 1)) + "|",
        *("| " + " | ".join(row) + " |" for row in rows[1:]),
        "",
        "The floor (`bench/subscriptions/floor.py`) is the least a server can do: one LISTEN "
        "connection, one `SELECT data::text FROM tv_bench_message WHERE id = ANY($1)` per event "
        "for all subscribers, the stored document pasted into each frame, no authorization, no "
        "filter, no projection, no bound on a slow client's buffer. A client CPU share near "
        "the machine's spare cores means the clients, not the server, bounded a number.",
    ]
    if results["stand_in_notify"]:
        lines += ["", "`fraiseql_notify` was a stand-in: CONTRACT_SQL did not define it."]
    found = notes(results)
    if found:
        lines += ["", *(f"- {note}" for note in found)]
    return "\n".join(lines) + "\n"


async def run(
    settings: Settings, systems: Sequence[str], database: str, rounds: int
) -> dict[str, Any]:
    """Measure ``systems`` for ``rounds`` rounds on a fresh database; the results."""
    from bench.subscriptions.fraiseql_server import available
    from bench.subscriptions.shared import SUBSCRIPTION

    raise_fd_limit(settings.subscribers + 4096)
    started = time.monotonic()
    skipped: dict[str, str] = {}
    if "fraiseql" in systems and (reason := available()) is not None:
        log(f"fraiseql: skipped, {reason}")
        skipped["fraiseql"] = reason
    measured = [name for name in SYSTEMS if name in systems and name not in skipped]
    async with subscriptions_database(database) as (dsn, stand_in):
        results: dict[str, Any] = {
            "machine": await machine_info(dsn),
            "settings": {
                "subscribers": settings.subscribers,
                "events": settings.events,
                "duration_s": settings.duration_s,
                "window": settings.window,
                "client_processes": settings.client_processes,
                "rounds": rounds,
                "event_timeout_s": EVENT_TIMEOUT_S,
            },
            "subscription": SUBSCRIPTION,
            "stand_in_notify": stand_in,
            "skipped": skipped,
            "rounds": [],
        }
        with tempfile.TemporaryDirectory(prefix="fraiseql-bench-subs-") as workdir:
            writer = await Writer.open(dsn)
            try:
                for number in range(rounds if measured else 0):
                    order = measured[number % len(measured) :] + measured[: number % len(measured)]
                    round_: dict[str, Any] = {"order": order, "systems": {}}
                    results["rounds"].append(round_)
                    for system in order:
                        log(f"round {number + 1}/{rounds}: {system}")
                        try:
                            outcome = await measure(system, dsn, settings, Path(workdir), writer)
                        except MeasurementError as failure:
                            log(f"{system}: FAILED: {failure}")
                            outcome = {"failed": str(failure)}
                        round_["systems"][system] = outcome
                results["writer_round_trip"] = (
                    summary_ms(writer.round_trips) if writer.round_trips else None
                )
            finally:
                await writer.close()
    results["summary"] = summarise(results["rounds"])
    results["machine"]["duration_s"] = round(time.monotonic() - started, 1)
    results["machine"]["date_end"] = datetime.datetime.now(datetime.UTC).isoformat(
        timespec="seconds"
    )
    return results


def main(argv: list[str] | None = None) -> None:
    """Command line; exits 1 when a system failed in some round."""
    defaults = Settings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=defaults.subscribers)
    parser.add_argument("--events", type=int, default=defaults.events)
    parser.add_argument("--duration", type=float, default=defaults.duration_s, help="seconds")
    parser.add_argument("--window", type=int, default=defaults.window)
    parser.add_argument("--client-processes", type=int, default=defaults.client_processes)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--database", default="fraiseql_bench_subs")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "subscriptions.json")
    parser.add_argument("--markdown", type=Path, default=RESULTS_DIR / "subscriptions.md")
    arguments = parser.parse_args(argv)
    if min(arguments.subscribers, arguments.events, arguments.window, arguments.rounds) < 1:
        parser.error("--subscribers, --events, --window and --rounds must be at least 1")
    if arguments.duration <= 0:
        parser.error("--duration must be positive")
    settings = Settings(
        subscribers=arguments.subscribers,
        events=arguments.events,
        duration_s=arguments.duration,
        window=arguments.window,
        client_processes=max(1, arguments.client_processes),
    )
    results = asyncio.run(run(settings, arguments.systems, arguments.database, arguments.rounds))
    print(
        f"subscription fan-out: {settings.subscribers} subscribers, {settings.events} events "
        f"one by one, {settings.duration_s:g} s sustained (window {settings.window}), "
        f"median of {arguments.rounds} rounds"
    )
    print(text_table(table(results)))
    for note in notes(results):
        print(note)
    write_json(arguments.output, results)
    arguments.markdown.parent.mkdir(parents=True, exist_ok=True)
    arguments.markdown.write_text(markdown(results))
    shown = arguments.markdown.resolve()
    log(f"wrote {shown.relative_to(PROJECT_ROOT) if shown.is_relative_to(PROJECT_ROOT) else shown}")
    if any("failed" in o for r in results["rounds"] for o in r["systems"].values()):
        sys.exit(1)
