"""A capacity model from measured CPU per request: ``python -m bench.capacity RESULTS.json``.

The input is a ``bench.compare.run`` result (``make bench-compare``, or ``--quick --output
FILE``) in which every point carries FraiseQL's server CPU and PostgreSQL's backend CPU per
request, and ``bench/results/cache.json`` for the CPU of a response-cache hit. For a workload of
cheap reads (the post by id) and writes (``createPost``) at a given share, the model says how
many CPU cores the app processes, the primary and the read replicas need for a target rate at a
target utilization, and how many database connections the app processes would open.

What is measured: the CPU per request (the median over the run's rounds; CPU time is steadier
than throughput on a shared machine). What is modelled: everything else — that CPU per request
stays flat as cores are added (no lock or network limit), that replicas take reads as the
primary does, that the load balancer, PgBouncer and the network cost nothing. Writes the table
to ``bench/results/capacity.md`` (``--output``).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR

READ, WRITE = "post_by_id", "create_post"
RATES = (10_000, 100_000, 1_000_000)
WRITE_SHARES = (0.01, 0.1)
HIT_RATES = (0.0, 0.8)
POOL_PER_PROCESS = 10
REPLICA_CORES = 16


@dataclass(frozen=True)
class Costs:
    """CPU microseconds per request, measured."""

    app_read: float
    db_read: float
    app_write: float
    db_write: float
    app_hit: float


def _median(points: list[dict[str, Any]], scenario: str, key: str) -> float:
    values = [
        p[key]
        for p in points
        if p["system"] == "fraiseql" and p["scenario"] == scenario and not p.get("failed")
    ]
    if not values:
        raise SystemExit(f"bench.capacity: no FraiseQL point of {scenario} with {key}")
    return float(statistics.median(values))


def costs(compare: dict[str, Any], cache: dict[str, Any]) -> Costs:
    """The per-request costs of the two runs' results."""
    points = compare["points"]
    hit = statistics.median(
        entry["systems"]["memory"]["server_cpu_us_per_request"]
        for entry in cache["summary"].values()
    )
    return Costs(
        app_read=_median(points, READ, "server_cpu_us_per_request"),
        db_read=_median(points, READ, "database_cpu_us_per_request"),
        app_write=_median(points, WRITE, "server_cpu_us_per_request"),
        db_write=_median(points, WRITE, "database_cpu_us_per_request"),
        app_hit=float(hit),
    )


def plan(
    c: Costs, rate: float, write_share: float, hit_rate: float, utilization: float
) -> dict[str, float]:
    """Cores and connections for ``rate`` requests per second."""
    reads, writes = rate * (1 - write_share), rate * write_share
    app_us = reads * ((1 - hit_rate) * c.app_read + hit_rate * c.app_hit) + writes * c.app_write
    read_db_us = reads * (1 - hit_rate) * c.db_read
    write_db_us = writes * c.db_write
    app_cores = app_us / 1e6 / utilization
    replica_cores = read_db_us / 1e6 / utilization
    primary_cores = write_db_us / 1e6 / utilization
    processes = math.ceil(app_cores)
    return {
        "app_cores": app_cores,
        "primary_cores": primary_cores,
        "replica_cores": replica_cores,
        "replicas": math.ceil(replica_cores / REPLICA_CORES),
        "connections": processes * POOL_PER_PROCESS,
    }


def table(c: Costs, utilization: float) -> str:
    """The model's table in Markdown."""
    lines = [
        f"Measured CPU per request (µs): read {c.app_read:.0f} app + {c.db_read:.0f} database; "
        f"write {c.app_write:.0f} app + {c.db_write:.0f} database; response-cache hit "
        f"{c.app_hit:.0f} app. Cores at {utilization:.0%} utilization; replicas of "
        f"{REPLICA_CORES} cores; {POOL_PER_PROCESS} connections per app process (one process "
        "per core).",
        "",
        "| req/s | writes | cache hits | app cores | primary cores (writes) "
        "| replica cores (reads) | replicas | app connections |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for rate in RATES:
        for write_share in WRITE_SHARES:
            for hit_rate in HIT_RATES:
                p = plan(c, rate, write_share, hit_rate, utilization)
                lines.append(
                    f"| {rate:,} | {write_share:.0%} | {hit_rate:.0%} | {p['app_cores']:,.0f} "
                    f"| {p['primary_cores']:,.1f} | {p['replica_cores']:,.1f} "
                    f"| {p['replicas']} | {p['connections']:,} |"
                )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__)
    parser.add_argument("compare", type=Path, help="a bench.compare.run result (JSON)")
    parser.add_argument("--cache", type=Path, default=RESULTS_DIR / "cache.json")
    parser.add_argument("--utilization", type=float, default=0.6)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "capacity.md")
    arguments = parser.parse_args(argv)
    measured = costs(
        json.loads(arguments.compare.read_text()), json.loads(arguments.cache.read_text())
    )
    text = f"Input: {arguments.compare.name}, {arguments.cache.name}.\n\n" + table(
        measured, arguments.utilization
    )
    arguments.output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
