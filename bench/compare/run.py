"""FraiseQL side by side with its peers: ``python -m bench.compare.run [--quick]``.

1. The database: ``bench.compare.seed`` (seeded once, reused while its fingerprint matches).
2. For each system in turn (FraiseQL first, then the floor, Strawberry, Graphene,
   PostGraphile), one server is started; each scenario's answer is checked equal to
   FraiseQL's (``scenarios.check``) before anything is timed; then, per scenario and
   concurrency, a short warm-up and a timed wrk run, with the server process's CPU time read
   before and after and the load average recorded. The server is stopped, the posts its
   creates wrote are deleted, and the next one starts.
   With ``--rounds 2`` (advised on a shared machine) the whole sequence runs twice, the second
   time in reverse order; the report takes, per point, the round with the higher throughput
   (other jobs only ever slow a point down) and shows how far the rounds were apart.
3. Results go to ``bench/results/compare.json`` (``--output``), ratios and tables are written by
   ``bench.compare.report``.

``--quick`` runs FraiseQL and the floor only, on the smaller database, at one concurrency,
and exits 1 when FraiseQL's throughput falls below ``FRAISEQL_BENCH_MIN_FLOOR_RATIO`` (default
0.25) of the floor's on any scenario: the optional regression check (see bench/README.md).
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
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import RESULTS_DIR, log, machine_info, write_json
from bench.compare import load, scenarios, seed, servers
from bench.compare.peer_sql import POOL_SIZE

SETTINGS: dict[str, dict[str, Any]] = {
    "full": {
        "systems": list(scenarios.SYSTEMS),
        "connections": [1, 10, 50],
        "duration_s": 3,
        "warmup_s": 1,
        "rounds": 1,
    },
    "quick": {
        "systems": ["fraiseql", "floor"],
        "connections": [10],
        "duration_s": 3,
        "warmup_s": 1,
        "rounds": 1,
    },
}
MIN_RATIO_ENV = "FRAISEQL_BENCH_MIN_FLOOR_RATIO"
DEFAULT_MIN_RATIO = 0.25


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


def measure(
    system: str,
    server: servers.Server,
    p: scenarios.Parameters,
    settings: dict[str, Any],
    workdir: Path,
    dsn: str,
) -> list[dict[str, Any]]:
    """One warm-up and one timed wrk run per scenario and concurrency.

    wrk does not read the answers, so a create that failed inside GraphQL (HTTP 200 with
    ``errors``) would count as a request: the posts a run created are counted afterwards and
    must match the creates it sent (less those still in flight when wrk stopped).
    """
    points = []
    for name, bodies in scenarios.bodies(system, p).items():
        creates_per_cycle = sum(scenarios.IDENT in body for body in bodies)
        for connections in settings["connections"]:
            warmup, _ = load.write_script(workdir, f"{system}-{name}", bodies)
            load.run_wrk(server.url, warmup, connections, settings["warmup_s"])
            server.wait_idle()
            script, prefix = load.write_script(workdir, f"{system}-{name}", bodies)
            cpu_before = server.cpu_seconds()
            result = load.run_wrk(server.url, script, connections, settings["duration_s"])
            cpu = server.cpu_seconds() - cpu_before
            result["drain_s"] = server.wait_idle()
            if result["non_2xx"] or result["errors"]:
                raise SystemExit(f"{system} {name} c={connections}: failed requests {result}")
            if creates_per_cycle:
                expected = result["requests"] * creates_per_cycle // len(bodies)
                created = asyncio.run(count_created(dsn, prefix))
                result["created"] = created
                if created < expected - connections:
                    raise SystemExit(
                        f"{system} {name} c={connections}: {created} posts created for "
                        f"{expected} create requests (GraphQL errors?)"
                    )
            result.update(
                system=system,
                scenario=name,
                connections=connections,
                server_cpu_us_per_request=cpu / max(1, result["requests"]) * 1e6,
                load_average=os.getloadavg(),
            )
            points.append(result)
            log(
                f"{system:>12} {name:<17} c={connections:<3} {result['rps']:8.0f} req/s  "
                f"p95 {result['latency_ms']['p95']:7.2f} ms  "
                f"cpu {result['server_cpu_us_per_request']:7.0f} µs/req"
            )
    return points


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
        found[system] = json.loads(output([python, "-c", script, *packages]) or "{}")
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


def gate(points: list[dict[str, Any]], min_ratio: float) -> list[str]:
    """The scenarios where FraiseQL's req/s is below ``min_ratio`` of the floor's."""
    from bench.compare.report import best

    failures = []
    chosen = best(points)
    for (system, scenario, connections), point in chosen.items():
        if system != "fraiseql":
            continue
        floor = chosen[("floor", scenario, connections)]
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
    lacking = servers.missing() if set(settings["systems"]) - {"fraiseql", "floor"} else []
    if lacking:
        raise SystemExit(f"bench: not installed: {', '.join(lacking)} (run `make bench-compare`)")
    load.wrk_path()
    started = time.perf_counter()
    database = asyncio.run(seed.ensure_database(mode))
    dsn = database["dsn"]
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
        "settings": settings,
        "parameters": dataclasses.asdict(p),
        "documents": {s: scenarios.documents(s, p) for s in settings["systems"]},
        "mix": list(scenarios.MIX),
        "checks": {},
        "points": [],
    }
    expected: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="fraiseql-compare-") as tmp:
        workdir = Path(tmp)
        for round_ in range(settings["rounds"]):
            # Round 1 starts with FraiseQL (the reference of the check), round 2 ends with it:
            # a slow drift of the machine's other load then weighs on both ends.
            order = settings["systems"] if round_ % 2 == 0 else settings["systems"][::-1]
            for system in order:
                log(f"{system}: starting (round {round_ + 1})")
                try:
                    with servers.serve(system, dsn, workdir) as server:
                        result["checks"][system] = check(system, server, p, expected)
                        points = measure(system, server, p, settings, workdir, dsn)
                finally:
                    removed = asyncio.run(cleanup(dsn))
                    log(f"{system}: stopped; {removed} created posts removed")
                for point in points:
                    point["round"] = round_
                result["points"].extend(points)
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
        "--output", type=Path, help="the JSON results (full: bench/results/compare.json)"
    )
    parser.add_argument(
        "--report", action="store_true", help="write docs/benchmarks/RESULTS.md and plots"
    )
    arguments = parser.parse_args(argv)
    servers.exit_on_sigterm()
    result = run(arguments)
    output = arguments.output or (None if arguments.quick else RESULTS_DIR / "compare.json")
    if output is not None:
        write_json(output, result)
    if arguments.report:
        from bench.compare import report

        report.write(result)
    if arguments.quick:
        min_ratio = float(os.environ.get(MIN_RATIO_ENV, DEFAULT_MIN_RATIO))
        failures = gate(result["points"], min_ratio)
        from bench.compare.report import best

        chosen = best(result["points"])
        for (system, scenario, connections), point in chosen.items():
            if system != "fraiseql":
                continue
            floor = chosen[("floor", scenario, connections)]
            print(
                f"{scenario:<17} c={connections:<3} FraiseQL {point['rps']:7.0f} req/s, "
                f"floor {floor['rps']:7.0f} req/s: {point['rps'] / floor['rps']:.2f}"
            )
        if failures:
            print("FraiseQL below its floor ratio: " + "; ".join(failures))
            raise SystemExit(1)
        print(f"FraiseQL/floor throughput at least {min_ratio} on every scenario")


if __name__ == "__main__":
    main()
