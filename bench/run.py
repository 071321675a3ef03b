"""Every benchmark of the native core in one run: ``make bench`` runs ``python -m bench.run``.

Creates and seeds one example database (``FRAISEQL_BENCH_DATABASE_URL``, else the local server),
runs ``bench.builder`` then ``bench.server`` on it, drops it, writes everything to one JSON file
(default ``bench/results/native.json``) and prints the tables of ``bench.report``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path
from typing import Any

from bench import builder, report, server
from bench.common import (
    DATA,
    RESULTS_DIR,
    bench_database,
    git_commit,
    log,
    machine_info,
    write_json,
)


async def main_async(quick: bool) -> dict[str, Any]:
    started = time.perf_counter()
    async with bench_database() as dsn:
        machine = await machine_info(dsn)
        builder_result = await builder.run(dsn, quick=quick)
        server_result = await server.run(dsn, quick=quick)
    elapsed = time.perf_counter() - started
    machine["load_average_at_end"] = os.getloadavg()
    machine["git_commit_at_end"] = git_commit()  # differs from git_commit: the tree changed
    machine["duration_s"] = round(elapsed)
    log(f"done in {elapsed:.0f}s")
    return {
        "machine": machine,
        "data": DATA,
        "quick": quick,
        "builder": builder_result,
        "server": server_result,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer, shorter rounds")
    parser.add_argument(
        "--output",
        type=Path,
        help="the JSON file to write (default: bench/results/native.json, none with --quick)",
    )
    arguments = parser.parse_args(argv)
    server.exit_on_sigterm()
    result = asyncio.run(main_async(arguments.quick))
    output = arguments.output
    if output is None and not arguments.quick:
        output = RESULTS_DIR / "native.json"
    if output is not None:
        write_json(output, result)
    print()
    print(report.render(result))


if __name__ == "__main__":
    main()
