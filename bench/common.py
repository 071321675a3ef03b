"""What the benchmarks share: a throw-away example database, plans, timing and the machine.

Timing rules (the machine is shared and noisy): every comparison is measured in one run, the
variants interleaved round by round (their order rotating from round to round), each round
timing a batch of calls; results are medians over rounds, and ratios are the median of the
per-round ratios (paired samples), so a burst of noise hits both sides of a ratio alike.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from graphql.execution.values import get_argument_values

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = PROJECT_ROOT / "bench" / "results"

DATABASE_URL_ENV = "FRAISEQL_BENCH_DATABASE_URL"
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# The example data the benchmarks run on: the size `make demo` loads.
DATA = {"organisations": 10, "users": 1000, "posts": 10_000, "comments_per_post": 3}

# The selections measured. "nested" has the two nesting levels of the issue (post -> author,
# post -> comments -> author) and most scalar kinds; "small" is a typical list of titles.
NESTED_FIELDS = (
    "__typename id identifier title status tags rating viewCount publishedAt createdAt "
    "categoryPath author { id name email } comments { id body createdAt author { name } }"
)
SMALL_FIELDS = "id title"
SELECTIONS = {"nested": NESTED_FIELDS, "small": SMALL_FIELDS}
ROW_COUNTS = (1, 20, 100)


def list_query(selection: str, rows: int) -> str:
    """The GraphQL list query of ``rows`` posts with one of the SELECTIONS.

    Ordered by identifier: the seed's identifiers are deterministic (its UUIDs are not), so
    every run renders the same documents.
    """
    return (
        f"{{ posts(limit: {rows}, orderBy: [{{identifier: ASC}}]) {{ {SELECTIONS[selection]} }} }}"
    )


# --- the database ------------------------------------------------------------------------------


def server_url() -> str:
    """The PostgreSQL server to create the benchmark database on (any database of it)."""
    return os.environ.get(DATABASE_URL_ENV) or DEFAULT_SERVER_URL


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name``."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise SystemExit(f"{DATABASE_URL_ENV} must be a postgresql:// URL, not {url!r}")
    return urlunsplit(parts._replace(path="/" + name))


@contextlib.asynccontextmanager
async def bench_database(**data: int) -> AsyncIterator[str]:
    """A fresh database with the example schema and data (``DATA`` by default), dropped after."""
    from examples.blog.database import load_schema, seed

    admin_url = server_url()
    name = f"fraiseql_bench_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        admin = await asyncpg.connect(admin_url, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise SystemExit(
            f"bench: cannot connect to {admin_url} ({exc}); set {DATABASE_URL_ENV} to a "
            "PostgreSQL server where this user may create databases"
        ) from exc
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        dsn = with_database(admin_url, name)
        started = time.perf_counter()
        await load_schema(dsn)
        await seed(dsn, **{**DATA, **data})
        log(f"database {name} seeded in {time.perf_counter() - started:.1f}s")
        yield dsn
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


# --- plans -------------------------------------------------------------------------------------


class CapturingRepository:
    """Stands in for the request's repository: records the statement instead of running it."""

    def __init__(self) -> None:
        self.statement: Any = None

    async def fetch_rows(self, statement: Any) -> list[Any]:
        self.statement = statement
        return []

    async def fetch_value(self, statement: Any) -> Any:
        self.statement = statement
        return None


def blog_schema() -> Any:
    from examples.blog.schema import QUERIES, TYPES

    from fraiseql import Schema

    return Schema(types=TYPES, queries=QUERIES)


def root_plan(schema: Any, query: str, *, prune: bool = True) -> Any:
    """The plan of the (only) root field of ``query``, as the executor builds it.

    ``prune=False``: a plan whose statement reads whole documents, as the executor did before
    it removed unselected top-level keys in SQL (what ``bench.builder`` compares against).
    """
    from fraiseql.execution.outcome import GraphQLRequest

    prepared = schema.prepare(GraphQLRequest(query))
    plan = prepared.plan(
        schema.graphql_schema, schema.model.queries, schema.executor.serializers, {}, prune=prune
    )
    (root,) = plan.roots
    return root


async def root_statement(schema: Any, root: Any) -> Any:
    """The SQL statement the executor runs for ``root`` (same code path, nothing executed)."""
    from fraiseql.execution.root_fields import fetch_auto

    arguments = get_argument_values(root.definition, root.nodes[0], None)
    repository = CapturingRepository()
    await fetch_auto(schema.model, root.model, root, arguments, repository)
    return repository.statement


def text_statement(statement: Any) -> Any:
    """``statement`` with its documents read as ``str`` (``data::text``) instead of ``bytes``.

    The executor fetches documents as ``textsend(data::text)``; benchmarks that compare against
    the text form (as the executor read them before) unwrap it here.
    """
    from fraiseql.sql.select import Statement

    sql = statement.sql
    start = sql.index("textsend(")
    depth = 0
    for end in range(start + len("textsend"), len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[end], 0)
        if depth == 0:
            break
    unwrapped = sql[:start] + sql[start + len("textsend(") : end] + sql[end + 1 :]
    return Statement(unwrapped, list(statement.params))


# --- timing ------------------------------------------------------------------------------------


def _orders(names: Sequence[str], rounds: int) -> list[list[str]]:
    names = list(names)
    return [names[r % len(names) :] + names[: r % len(names)] for r in range(rounds)]


@dataclass(slots=True)
class Variant:
    """One side of a comparison: ``call(argument)`` timed over ``number`` fresh arguments.

    ``arguments(n)`` makes the n arguments of one batch before the batch is timed, e.g. fresh
    copies of the row strings: asyncpg hands the executor new ``str`` objects on every request,
    and a string's UTF-8 form is cached on the object after its first use, so timing the same
    strings over and over would hide a cost the server pays.
    """

    call: Callable[[Any], object]
    arguments: Callable[[int], list[Any]]
    number: int = 0


def calibrate(variant: Variant, target_s: float, max_number: int) -> int:
    """How many calls make a batch of about ``target_s`` (between 1 and ``max_number``)."""
    number = 1
    while True:
        arguments = variant.arguments(number)
        started = time.perf_counter()
        for argument in arguments:
            variant.call(argument)
        elapsed = time.perf_counter() - started
        if elapsed >= target_s / 4 or number >= max_number:
            break
        number *= 4
    return max(1, min(max_number, round(number * target_s / max(elapsed, 1e-9))))


def interleave(variants: dict[str, Variant], *, rounds: int) -> dict[str, list[float]]:
    """Seconds per call of each variant, one sample per round, variants interleaved."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    perf = time.perf_counter
    for order in _orders(list(variants), rounds):
        for name in order:
            variant = variants[name]
            call = variant.call
            arguments = variant.arguments(variant.number)
            started = perf()
            for argument in arguments:
                call(argument)
            samples[name].append((perf() - started) / len(arguments))
    return samples


async def calibrate_async(call: Callable[[], Awaitable[object]], target_s: float) -> int:
    """``calibrate`` for a coroutine function without arguments."""
    await call()
    number = 1
    while True:
        started = time.perf_counter()
        for _ in range(number):
            await call()
        elapsed = time.perf_counter() - started
        if elapsed >= target_s / 4 or number >= 4096:
            break
        number *= 4
    return max(1, round(number * target_s / max(elapsed, 1e-9)))


async def interleave_async(
    variants: dict[str, Callable[[], Awaitable[object]]],
    *,
    rounds: int,
    numbers: dict[str, int],
) -> dict[str, list[float]]:
    """``interleave`` for coroutine functions (awaited one after the other)."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    perf = time.perf_counter
    for order in _orders(list(variants), rounds):
        for name in order:
            call = variants[name]
            number = numbers[name]
            started = perf()
            for _ in range(number):
                await call()
            samples[name].append((perf() - started) / number)
    return samples


def paired_ratio(numerator: Sequence[float], denominator: Sequence[float]) -> float:
    """Median over rounds of numerator/denominator (e.g. slow time / fast time = speedup)."""
    return statistics.median(n / d for n, d in zip(numerator, denominator, strict=True))


def spread(values: Sequence[float]) -> float:
    """Relative half-width of the middle 50% of ``values`` (noise indicator, 0.05 = ±5%)."""
    if len(values) < 4:
        return 0.0
    q1, _, q3 = statistics.quantiles(values, n=4)
    return (q3 - q1) / 2 / statistics.median(values)


# --- the machine and the output -----------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


async def machine_info(dsn: str) -> dict[str, Any]:
    import orjson

    connection = await asyncpg.connect(dsn)
    try:
        postgres = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "postgresql": postgres,
        "orjson": orjson.__version__,
        "git_commit": git_commit(),
        "load_average_at_start": load,
    }


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on (now), for a server a benchmark starts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` so far (from /proc), ``None`` if unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def database_cpu_seconds(dsn: str) -> dict[int, float]:
    """CPU time so far of every server process connected to ``dsn``'s database, by pid.

    Only meaningful when PostgreSQL runs on this machine (its processes readable in /proc); an
    empty result otherwise. Subtract two readings pid by pid (:func:`cpu_spent`): a pid absent
    from the first reading counts from zero.
    """
    connection = await asyncpg.connect(dsn)
    try:
        pids = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    readings = {row["pid"]: process_cpu_seconds(row["pid"]) for row in pids}
    return {pid: seconds for pid, seconds in readings.items() if seconds is not None}


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """The CPU seconds spent between two :func:`database_cpu_seconds` readings."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    log(f"wrote {path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path}")


def pin_malloc() -> bool:
    """Fix glibc's malloc thresholds for this process (in-process benchmarks only).

    By default glibc serves blocks above a *moving* threshold (128 KiB at first, raised to the
    size of the last such block freed) with fresh mmap()s, and trims the heap top: whether a
    call of a variant that allocates a few hundred KiB pays page faults then depends on what
    was freed before. Observed here: the same join of 100 rows alternating between two speeds
    several times apart. With fixed thresholds every variant allocates from a warm heap. The
    servers of ``bench.server`` keep glibc's defaults.
    """
    import ctypes
    import ctypes.util

    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 256 << 20))
