"""Where a server spends its CPU in one scenario: ``python -m bench.compare.profile``.

Starts one system (``--system``, default FraiseQL) on the quick mode's database, drives one
scenario with wrk, records the server with py-spy (``--format raw``: one line per distinct
stack with its sample count) and prints the share of samples under each of a few groups of
frames (what the report's analysis quotes), then the functions with the most own samples.

    python -m bench.compare.profile --scenario post_by_id [--connections 10] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from bench.compare import load, scenarios, seed, servers

# py-spy names a frame `function (package/module.py:line)`: the share of samples whose stack
# holds a frame of each group (the groups overlap: a stack can be under several).
GROUPS = {
    "uvicorn / httptools (HTTP)": "(uvicorn/",
    "starlette": "(starlette/",
    "anyio": "(anyio/",
    "fraiseql.asgi (transport)": "(fraiseql/asgi/",
    "fraiseql.execution (cache, plan, executor)": "(fraiseql/execution/",
    "fraiseql.sql (statements, cursors)": "(fraiseql/sql/",
    "fraiseql.db (session, repository)": "(fraiseql/db/",
    "fraiseql.native (response builder)": "(fraiseql/native/",
    "graphql-core": "(graphql/",
    "asyncpg": "(asyncpg/",
    "asyncio timeouts": "(asyncio/timeouts.py",
}

OURS = ("fraiseql/", "anyio/")


def summarize(raw: Path, top: int) -> str:
    total = 0
    grouped: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        for name, key in GROUPS.items():
            if any(key in frame for frame in frames):
                grouped[name] += count
        own[frames[-1]] += count
        # A function counts once per stack (recursion and several lines of it alike).
        for function in {f.rsplit(":", 1)[0] for f in frames if f.split(" (")[-1].startswith(OURS)}:
            inclusive[function + ")"] += count
    lines = [f"{total} samples"]
    lines += [f"{100 * n / total:5.1f}%  under {name}" for name, n in grouped.most_common()]
    lines.append("FraiseQL and anyio functions, share of the samples under each:")
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    lines.append("most own samples:")
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--system", default="fraiseql", choices=scenarios.SYSTEMS)
    parser.add_argument("--scenario", default="post_by_id", choices=scenarios.SCENARIOS)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--top", type=int, default=15)
    arguments = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    database = asyncio.run(seed.ensure_database("quick"))
    p = asyncio.run(scenarios.parameters(database["dsn"]))
    with tempfile.TemporaryDirectory(prefix="fraiseql-profile-") as tmp:
        workdir = Path(tmp)
        bodies = scenarios.bodies(arguments.system, p)[arguments.scenario]
        try:
            with servers.serve(arguments.system, database["dsn"], workdir) as server:
                warmup, _ = load.write_script(workdir, "warmup", bodies)
                load.run_wrk(server.url, warmup, arguments.connections, 2)
                script, _ = load.write_script(workdir, "profile", bodies)
                raw = workdir / "profile.txt"
                record = subprocess.Popen(
                    [
                        py_spy,
                        "record",
                        "--pid",
                        str(server.process.pid),
                        "--format",
                        "raw",
                        "--duration",
                        str(arguments.seconds),
                        "--rate",
                        "250",
                        "-o",
                        str(raw),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                result: dict[str, object] = {}
                loader = threading.Thread(
                    target=lambda: result.update(
                        load.run_wrk(server.url, script, arguments.connections, arguments.seconds)
                    )
                )
                loader.start()
                loader.join()
                record.wait(timeout=arguments.seconds + 60)
        finally:
            asyncio.run(_cleanup(database["dsn"]))
        print(
            f"{arguments.system} {arguments.scenario} c={arguments.connections}: "
            f"{result.get('rps', 0):.0f} req/s under py-spy"
        )
        print(summarize(raw, arguments.top))


async def _cleanup(dsn: str) -> None:
    from bench.compare.run import cleanup

    await cleanup(dsn)


if __name__ == "__main__":
    main()
