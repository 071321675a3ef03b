"""Instructions per call of the C core, counted by callgrind: deterministic on a shared machine.

    python -m bench.instructions            # needs valgrind (apt-get install valgrind)

Seeds the example data (``bench.common``, the same documents as ``make bench``), writes the
100 rows of the nested selection (and the small one) as the executor fetches them (``bytes``),
then runs ``render_rows`` on them under ``valgrind --tool=callgrind``, counting only inside
``render_rows``, and prints the instructions per call. Wall-clock time on a shared machine
moves by tens of per cent between runs; this count moves by a few instructions, so it shows
what a change to the core does to the work itself. It is not a speed: compare counts of two
builds of the core, on the same data, with ``make bench`` for the time.
"""

from __future__ import annotations

import asyncio
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import asyncpg

from bench.common import bench_database, blog_schema, list_query, root_plan, root_statement

CALLS = 50

# Run by callgrind in a child process: the rows and the plan description from a pickle.
_CHILD = """
import pickle, sys
from fraiseql import _native
description, rows = pickle.load(open(sys.argv[1], "rb"))
plan = _native.compile_plan(description)
copies = [[bytes(bytearray(row)) for row in rows] for _ in range(int(sys.argv[2]))]
for copy in copies:
    _native.render_rows(plan, copy)
"""


async def dump_rows(directory: Path) -> dict[str, Path]:
    """Pickle (plan description, rows) of 100 rows per selection; their paths by selection."""
    from fraiseql.native import c_builder

    paths = {}
    async with bench_database() as dsn:
        schema = blog_schema()
        connection = await asyncpg.connect(dsn)
        try:
            for selection in ("nested", "small"):
                root = root_plan(schema, list_query(selection, 100), prune=False)
                statement = await root_statement(schema, root)
                rows = [r[0] for r in await connection.fetch(statement.sql, *statement.params)]
                path = directory / f"{selection}.pickle"
                description = c_builder._describe(root.field.shape)
                path.write_bytes(pickle.dumps((description, rows)))
                paths[selection] = path
        finally:
            await connection.close()
    return paths


def count(path: Path, calls: int, directory: Path) -> int:
    """Instructions callgrind counts inside render_rows over ``calls`` calls."""
    out = directory / f"callgrind.{path.stem}.{calls}"
    subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            "--toggle-collect=render_rows",
            sys.executable,
            "-c",
            _CHILD,
            str(path),
            str(calls),
        ],
        check=True,
        capture_output=True,
    )
    summary = re.search(r"^summary:\s+(\d+)", out.read_text(), re.MULTILINE)
    if summary is None:
        raise SystemExit(f"no summary in {out}")
    return int(summary.group(1))


def main() -> int:
    if shutil.which("valgrind") is None:
        print("bench.instructions needs valgrind: apt-get install valgrind", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        paths = asyncio.run(dump_rows(directory))
        for selection, path in paths.items():
            # the difference of two runs leaves out what one call in and out of Python costs once
            per_call = (count(path, 2 * CALLS, directory) - count(path, CALLS, directory)) / CALLS
            print(f"{selection} selection, 100 rows: {per_call:,.0f} instructions per render_rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
