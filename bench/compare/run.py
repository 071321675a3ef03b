"""FraiseQL side by side with its peers: ``python -m bench.compare.run [--quick]``.

1. The database: ``bench.compare.seed`` (seeded once, reused while its fingerprint matches).
2. Every system's server is started (FraiseQL first, then the floor, Strawberry, Graphene,
   PostGraphile) and each scenario's answer is checked equal to FraiseQL's
   (``scenarios.check``) before anything is timed. All of them keep running: per round, the
   write path is warmed (posts created and deleted straight through ``fn_create_post``), then
   for each scenario and concurrency the systems take turns, who goes first alternating from
   one point to the next: a short warm-up and a timed wrk run each, with the server process's
   CPU time read before and after and the load average recorded. A point with failed requests
   is recorded with the reason and the run goes on. With ``--rounds 2`` (advised on a shared
   machine) everything runs twice; the report takes, per point, the round with the higher
   throughput (other jobs only ever slow a point down) and shows how far the rounds were
   apart.
3. Results go to ``bench/results/compare.json`` (``--output``), ratios and tables are written by
   ``bench.compare.report``.

``--workers N`` serves every system with N worker processes, each with its own pool (the
database sees N times the connections): FraiseQL with ``fraiseql serve --workers N``, the others
with their own multi-process setting (``servers``); the server CPU is that of the whole process
tree. A full run then leaves out one connection (served by one worker) and writes
``bench/results/compare-workers{N}.json``; the report renders the two-worker file as a second
table, "Two worker processes".

``--quick`` runs FraiseQL and the floor only, on the smaller database, at one concurrency, the
post by id and the create, three rounds, and exits 1 when FraiseQL's throughput falls below
``FRAISEQL_BENCH_MIN_FLOOR_RATIO`` (default 0.45) of the floor's on either, or when a point had
failed requests: the regression gate (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import (
    RESULTS_DIR,
    cpu_spent,
    database_cpu_seconds,
    log,
    machine_info,
    write_json,
)
from bench.compare import load, scenarios, seed, servers
from bench.compare.peer_sql import POOL_SIZE

SETTINGS: dict[str, dict[str, Any]] = {
    "full": {
        "systems": list(scenarios.SYSTEMS),
        "scenarios": list(scenarios.SCENARIOS),
        "connections": [1, 10, 50],
        "duration_s": 3,
        "warmup_s": 1,
        "rounds": 1,
    },
    "quick": {
        "systems": ["fraiseql", "floor"],
        "scenarios": ["post_by_id", "create_post"],
        "connections": [10],
        "duration_s": 3,
        "warmup_s": 1,
        "rounds": 3,
    },
}
MIN_RATIO_ENV = "FRAISEQL_BENCH_MIN_FLOOR_RATIO"
DEFAULT_MIN_RATIO = 0.45
"""Below the measured level, for large regressions: since the floor renders through FraiseQL's C
builder and releases connections like FraiseQL's pool, a post by id is 0.61 to 0.69x of it at
c=10/50 (docs/benchmarks/RESULTS.md), the create 0.84 to 0.88x; the old 0.7 was set against a
floor projecting in Python."""


async def cleanup(dsn: str) -> int:
    """Delete the posts the benchmark created (they sort after every seeded identifier)."""
    connection = await asyncpg.connect(dsn)
    try:
        pattern = scenarios.CREATED_PREFIX + "%"
        await connection.execute("DELETE FROM tv_post WHERE identifier LIKE $1", pattern)
        done = await connection.execute("DELETE FROM tb_post WHERE identifier LIKE $1", pattern)
        return int(done.split()[-1])
    finally:
        await connection.close()


def ask(url: str, body: str) -> tuple[bytes, Any]:
    answer = httpx.post(
        url, content=body.encode(), headers={"Content-Type": "application/json"}, timeout=60
    )
    parsed = answer.json()
    if answer.status_code != 200 or parsed.get("errors"):
        raise SystemExit(f"{url}: {answer.status_code} {answer.text[:1000]}")
    return answer.content, parsed["data"]


def check(
    system: str, server: servers.Server, p: scenarios.Parameters, expected: dict[str, Any]
) -> dict[str, Any]:
    """Each scenario's answer, normalised, equal to FraiseQL's (recorded when ``system`` is it)."""
    report: dict[str, Any] = {}
    for name in scenarios.documents(system, p):
        identifier = f"{scenarios.CREATED_PREFIX}check-{system}-{int(time.time() * 1000)}"
        raw, data = ask(server.url, scenarios.body(system, p, name, identifier))
        view = scenarios.normalise(system, data)
        if name == "create_post":
            view = scenarios.created_view(view, identifier)
        if system == "fraiseql":
            expected[name] = {"view": view, "bytes": raw}
            report[name] = {"equal": True, "bytes": len(raw)}
            continue
        found = scenarios.differences(expected[name]["view"], view)
        if found:
            raise SystemExit(
                f"{system} answers {name} differently from FraiseQL:\n" + "\n".join(found[:20])
            )
        report[name] = {"equal": True, "bytes": len(raw)}
        if system == "floor" and name != "create_post":
            report[name]["same_bytes_as_fraiseql"] = raw == expected[name]["bytes"]
    log(f"{system}: every scenario answers as FraiseQL does")
    return report


async def count_created(dsn: str, prefix: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM tb_post WHERE identifier LIKE $1", prefix + "%"
            )
        )
    finally:
        await connection.close()


def measure_point(
    system: str,
    server: servers.Server,
    name: str,
    bodies: list[str],
    connections: int,
    settings: dict[str, Any],
    workdir: Path,
    dsn: str,
) -> dict[str, Any]:
    """One warm-up and one timed wrk run of one scenario at one concurrency.

    wrk does not read the answers, so a create that failed inside GraphQL (HTTP 200 with
    ``errors``) would count as a request: the posts a run created are counted afterwards and
    must match the creates it sent (less those still in flight when wrk stopped). A point with
    failed requests or missing posts is kept with its ``failed`` reason (the report shows it and
    the quick gate fails on it) and the run goes on.
    """
    creates_per_cycle = sum(scenarios.IDENT in body for body in bodies)
    warmup, _ = load.write_script(workdir, f"{system}-{name}", bodies)
    load.run_wrk(server.url, warmup, connections, settings["warmup_s"])
    server.wait_idle()
    script, prefix = load.write_script(workdir, f"{system}-{name}", bodies)
    cpu_by_process_before = server.cpu_by_process()
    cpu_before = sum(cpu_by_process_before.values())
    database_before = asyncio.run(database_cpu_seconds(dsn))
    result = load.run_wrk(server.url, script, connections, settings["duration_s"])
    cpu = server.cpu_seconds() - cpu_before
    database_cpu = cpu_spent(database_before, asyncio.run(database_cpu_seconds(dsn)))
    result["drain_s"] = server.wait_idle()
    failed = []
    if result["non_2xx"] or result["errors"]:
        failed.append(f"{result['non_2xx']} non-2xx answers, {result['errors']} socket errors")
    if server.workers > 1:
        # How the CPU split between the supervisor and the workers (a check that every worker
        # served, and that the supervisor costs next to nothing).
        spent = {
            pid: seconds - cpu_by_process_before.get(pid, 0.0)
            for pid, seconds in server.cpu_by_process().items()
        }
        supervisor = spent.pop(server.process.pid, 0.0)
        result["process_cpu_s"] = {
            "supervisor": supervisor,
            "others": sorted(spent.values(), reverse=True),
        }
    if creates_per_cycle:
        expected = result["requests"] * creates_per_cycle // len(bodies)
        created = asyncio.run(count_created(dsn, prefix))
        result["created"] = created
        if created < expected - connections:
            failed.append(f"{created} posts created for {expected} create requests")
    result.update(
        system=system,
        scenario=name,
        connections=connections,
        server_cpu_us_per_request=cpu / max(1, result["requests"]) * 1e6,
        # PostgreSQL's backends on the benchmark database (the other systems idle meanwhile):
        # what a request costs the database, for the capacity model of docs/deployment/SCALING.md.
        database_cpu_us_per_request=database_cpu / max(1, result["requests"]) * 1e6,
        load_average=os.getloadavg(),
    )
    if failed:
        result["failed"] = "; ".join(failed)
    log(
        f"{system:>12} {name:<17} c={connections:<3} {result['rps']:8.0f} req/s  "
        f"p95 {result['latency_ms']['p95']:7.2f} ms  "
        f"cpu {result['server_cpu_us_per_request']:7.0f} µs/req  "
        f"db {result['database_cpu_us_per_request']:7.0f} µs/req"
        + (f"  FAILED: {result['failed']}" if failed else "")
    )
    return result


WARM_WRITES = 300
"""Posts created straight through ``fn_create_post`` before each round's timed runs."""


async def warm_write_path(dsn: str, p: scenarios.Parameters) -> float:
    """Create (and then delete) ``WARM_WRITES`` posts, so that no system pays a cold write path.

    The first creates after a while read the indexes and the read model's pages from disk
    (a first ``fn_sync_tv_post`` took 21.5 ms): whichever system ran first paid for it.
    Returns the seconds it took.
    """
    started = time.perf_counter()
    connection = await asyncpg.connect(dsn)
    try:
        creator = await connection.fetchval(
            "SELECT identifier FROM tb_user WHERE id = $1::uuid", p.creator_id
        )
        for n in range(WARM_WRITES):
            await connection.fetchval(
                "SELECT (fn_create_post($1::jsonb)).status",
                json.dumps(
                    {
                        "identifier": f"{scenarios.CREATED_PREFIX}warm-{n}",
                        "title": "Warming up",
                        "body": "The write path, before anything is timed.",
                        "author": creator,
                        "status": "published",
                        "tags": ["bench"],
                        "category_path": "bench.warm",
                    }
                ),
            )
    finally:
        await connection.close()
    await cleanup(dsn)
    return time.perf_counter() - started


def versions() -> dict[str, Any]:
    """Versions of what runs (each peer's from its own environment)."""

    def output(command: list[str]) -> str:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        except OSError:
            return "missing"
        return (
            (done.stdout or done.stderr).strip().splitlines()[0]
            if (done.stdout or done.stderr)
            else ""
        )

    found: dict[str, Any] = {}
    for system, packages in (
        ("fraiseql", ["fraiseql", "graphql-core", "asyncpg", "uvicorn", "starlette", "orjson"]),
        ("strawberry", ["strawberry-graphql", "graphql-core", "asyncpg", "uvicorn"]),
        (
            "graphene",
            ["graphene", "graphql-core", "aiodataloader", "asyncpg", "starlette", "uvicorn"],
        ),
    ):
        python = (
            str(servers.VENVS[system] / "bin" / "python")
            if system in servers.VENVS
            else sys.executable
        )
        script = (
            "import importlib.metadata as m, json, sys; "
            "print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))"
        )
        try:
            found[system] = json.loads(output([python, "-c", script, *packages]) or "{}")
        except json.JSONDecodeError:  # not installed (the quick mode needs no peer)
            found[system] = {}
    package = servers.POSTGRAPHILE / "node_modules" / "postgraphile" / "package.json"
    found["postgraphile"] = {
        "postgraphile": json.loads(package.read_text())["version"] if package.exists() else None,
        "node": output([str(servers.NODE), "--version"]),
    }
    found["wrk"] = output(["wrk", "--version"])
    return found


async def database_settings(dsn: str) -> dict[str, str]:
    connection = await asyncpg.connect(dsn)
    try:
        return {
            name: await connection.fetchval(f"SHOW {name}")
            for name in (
                "fsync",
                "synchronous_commit",
                "shared_buffers",
                "work_mem",
                "max_connections",
                "jit",
            )
        }
    finally:
        await connection.close()


async def connection_headroom(dsn: str) -> tuple[int, int]:
    """The connections PostgreSQL accepts (``max_connections``) and how many are open now."""
    connection = await asyncpg.connect(dsn)
    try:
        limit = int(await connection.fetchval("SHOW max_connections"))
        used = int(
            await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
            )
        )
        return limit, used
    finally:
        await connection.close()


def check_connections(dsn: str, systems: list[str], workers: int) -> int:
    """Stop before anything starts when the servers' pools could exceed ``max_connections``.

    Every server keeps running for the whole run, each worker with up to ``POOL_SIZE``
    connections; the harness opens one or two more while measuring. Returns what the pools
    may open.
    """
    needed = len(systems) * workers * POOL_SIZE
    limit, used = asyncio.run(connection_headroom(dsn))
    if used + needed + 2 > limit:
        raise SystemExit(
            f"bench: {len(systems)} servers x {workers} workers x {POOL_SIZE} connections = "
            f"{needed}, with {used} open now, exceed PostgreSQL's max_connections={limit}; "
            "raise it or run fewer --systems"
        )
    return needed


def gate(points: list[dict[str, Any]], min_ratio: float) -> list[str]:
    """The scenarios where FraiseQL's req/s is below ``min_ratio`` of the floor's."""
    from bench.compare.report import best

    failures = [
        f"{point['system']} {point['scenario']} c={point['connections']} "
        f"round {point['round'] + 1}: {point['failed']}"
        for point in points
        if point.get("failed")
    ]
    chosen = best(points)
    for (system, scenario, connections), point in chosen.items():
        floor = chosen.get(("floor", scenario, connections))
        if system != "fraiseql" or floor is None:  # --systems without the floor: no gate
            continue
        ratio = point["rps"] / floor["rps"]
        if ratio < min_ratio:
            failures.append(
                f"{point['scenario']} c={point['connections']}: {ratio:.2f} < {min_ratio}"
            )
    return failures


def run(arguments: argparse.Namespace) -> dict[str, Any]:
    mode = "quick" if arguments.quick else "full"
    settings = dict(SETTINGS[mode])
    if arguments.rounds is not None:
        settings["rounds"] = max(1, arguments.rounds)
    if arguments.systems:
        settings["systems"] = ["fraiseql", *[s for s in arguments.systems if s != "fraiseql"]]
    workers = settings["workers"] = max(1, arguments.workers)
    if workers > 1 and mode == "full":
        settings["connections"] = [c for c in settings["connections"] if c > 1]
    lacking = servers.missing() if set(settings["systems"]) - {"fraiseql", "floor"} else []
    if lacking:
        raise SystemExit(f"bench: not installed: {', '.join(lacking)} (run `make bench-compare`)")
    load.wrk_path()
    started = time.perf_counter()
    database = asyncio.run(seed.ensure_database(mode))
    dsn = database["dsn"]
    pool_connections = check_connections(dsn, settings["systems"], workers)
    asyncio.run(cleanup(dsn))
    p = asyncio.run(scenarios.parameters(dsn))
    result: dict[str, Any] = {
        "mode": mode,
        "machine": asyncio.run(machine_info(dsn)),
        "uptime_at_start": subprocess.run(
            ["uptime"], capture_output=True, text=True, check=False
        ).stdout.strip(),
        "versions": versions(),
        "database": {
            **{k: v for k, v in database.items() if k != "dsn"},
            "counts": asyncio.run(seed.counts(dsn)),
            "settings": asyncio.run(database_settings(dsn)),
        },
        "pool_size": POOL_SIZE,
        "workers": workers,
        "pool_connections": pool_connections,
        "settings": settings,
        "parameters": dataclasses.asdict(p),
        "documents": {s: scenarios.documents(s, p) for s in settings["systems"]},
        "mix": list(scenarios.MIX),
        "checks": {},
        "points": [],
    }
    expected: dict[str, Any] = {}
    systems = settings["systems"]
    with tempfile.TemporaryDirectory(prefix="fraiseql-compare-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        # Every server runs for the whole run and the systems take turns at each point, so a
        # change in the machine's other load weighs on all of them alike.
        running: dict[str, servers.Server] = {}
        for system in systems:  # FraiseQL first: its answers are the reference of the check
            log(f"{system}: starting" + (f" ({workers} workers)" if workers > 1 else ""))
            running[system] = stack.enter_context(servers.serve(system, dsn, workdir, workers))
            result["checks"][system] = check(system, running[system], p, expected)
        stack.callback(lambda: log(f"stopped; {asyncio.run(cleanup(dsn))} created posts removed"))
        bodies = {system: scenarios.bodies(system, p) for system in systems}
        work = [
            (name, connections)
            for name in bodies["fraiseql"]
            if name in settings["scenarios"]
            for connections in settings["connections"]
        ]
        turn = 0
        for round_ in range(settings["rounds"]):
            warmed = asyncio.run(warm_write_path(dsn, p))
            log(f"round {round_ + 1}: write path warmed in {warmed:.1f} s")
            for name, connections in work:
                # Alternate who goes first from one point to the next (A B, B A, ...).
                order = systems if turn % 2 == 0 else systems[::-1]
                turn += 1
                for system in order:
                    point = measure_point(
                        system,
                        running[system],
                        name,
                        bodies[system][name],
                        connections,
                        settings,
                        workdir,
                        dsn,
                    )
                    point["round"] = round_
                    result["points"].append(point)
    result["duration_s"] = time.perf_counter() - started
    result["uptime_at_end"] = subprocess.run(
        ["uptime"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="FraiseQL vs the floor, small data")
    parser.add_argument("--systems", nargs="+", choices=scenarios.SYSTEMS, help="only these")
    parser.add_argument(
        "--rounds",
        type=int,
        help="how many times the whole sequence runs (default 1, about 8 minutes; 2: about 16)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes per server, each with its own pool (default 1)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="the JSON results (full: bench/results/compare.json, or compare-workers{N}.json)",
    )
    parser.add_argument(
        "--report", action="store_true", help="write docs/benchmarks/RESULTS.md and plots"
    )
    arguments = parser.parse_args(argv)
    servers.exit_on_sigterm()
    result = run(arguments)
    name = "compare.json" if result["workers"] == 1 else f"compare-workers{result['workers']}.json"
    output = arguments.output or (None if arguments.quick else RESULTS_DIR / name)
    if output is not None:
        write_json(output, result)
    if arguments.report:
        from bench.compare import report

        if result["workers"] == 1:
            report.write(result, report.load_workers())
        else:  # the second table, beside the one-worker run already recorded
            if not report.COMPARE_JSON.exists():
                raise SystemExit(f"bench: --report needs {report.COMPARE_JSON} (a one-worker run)")
            report.write(json.loads(report.COMPARE_JSON.read_text()), result)
    if arguments.quick:
        min_ratio = float(os.environ.get(MIN_RATIO_ENV, DEFAULT_MIN_RATIO))
        failures = gate(result["points"], min_ratio)
        from bench.compare.report import best

        chosen = best(result["points"])
        for (system, scenario, connections), point in chosen.items():
            floor = chosen.get(("floor", scenario, connections))
            if system != "fraiseql" or floor is None:
                continue
            print(
                f"{scenario:<17} c={connections:<3} FraiseQL {point['rps']:7.0f} req/s, "
                f"floor {floor['rps']:7.0f} req/s: {point['rps'] / floor['rps']:.2f}"
            )
        if failures:
            print("FraiseQL below its floor ratio: " + "; ".join(failures))
            raise SystemExit(1)
        if "floor" in result["settings"]["systems"]:
            print(f"FraiseQL/floor throughput at least {min_ratio} on every scenario")
        else:
            print("no failed point (no floor in this run: no ratio to check)")


if __name__ == "__main__":
    main()
