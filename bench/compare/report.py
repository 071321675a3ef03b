"""The comparison's JSON results as tables and plots: ``python -m bench.compare.report [FILE]``.

Writes ``docs/benchmarks/RESULTS.md`` (only the part between its ``generated`` markers; the
analysis around them is kept) and three PNG plots beside it, from ``bench/results/compare.json``
by default. When ``bench/results/compare-workers2.json`` exists (a ``--workers 2`` run), its
points follow as a second set of tables, "Two worker processes". Every ratio compares numbers
of the same run.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from bench.common import PROJECT_ROOT, RESULTS_DIR, log

DOCS = PROJECT_ROOT / "docs" / "benchmarks"
RESULTS_MD = DOCS / "RESULTS.md"
COMPARE_JSON = RESULTS_DIR / "compare.json"
WORKERS_JSON = RESULTS_DIR / "compare-workers2.json"
START, END = "<!-- generated:start -->", "<!-- generated:end -->"
PEERS = ("floor", "strawberry", "graphene", "postgraphile")
NESTED = ("posts20_author", "posts100_nested")


def best(points: list[dict[str, Any]]) -> dict[tuple[str, str, int], dict[str, Any]]:
    """Per (system, scenario, connections), the round with the higher throughput.

    Its latencies and CPU are reported with it, so that one row is one measured point. A round
    with failed requests is chosen only when every round of the point failed.
    """
    chosen: dict[tuple[str, str, int], dict[str, Any]] = {}
    for point in points:
        key = (point["system"], point["scenario"], point["connections"])
        held = chosen.get(key)
        if held is None or (bool(held.get("failed")), -held["rps"]) > (
            bool(point.get("failed")),
            -point["rps"],
        ):
            chosen[key] = point
    return chosen


def index(result: dict[str, Any]) -> dict[tuple[str, str, int], dict[str, Any]]:
    return best(result["points"])


def round_spread(result: dict[str, Any]) -> tuple[float, float] | None:
    """Median and largest difference between the rounds' req/s of a point (share of the best)."""
    by_key: dict[tuple[str, str, int], list[float]] = {}
    for p in result["points"]:
        by_key.setdefault((p["system"], p["scenario"], p["connections"]), []).append(p["rps"])
    spreads = sorted(
        (max(v) - min(v)) / max(v) for v in by_key.values() if len(v) > 1 and max(v) > 0
    )
    if not spreads:
        return None
    return spreads[len(spreads) // 2], spreads[-1]


def _systems(result: dict[str, Any]) -> list[str]:
    return list(result["settings"]["systems"])


def _scenarios(result: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(p["scenario"] for p in result["points"]))


def _fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def throughput_table(result: dict[str, Any]) -> list[str]:
    points, levels = index(result), result["settings"]["connections"]
    lines = [
        "| scenario | system | " + " | ".join(f"c={c} req/s" for c in levels) + " |",
        "|---|---|" + "---:|" * len(levels),
    ]
    for scenario in _scenarios(result):
        for system in _systems(result):
            cells = []
            for c in levels:
                point = points.get((system, scenario, c), {})
                mark = " (failed)" if point.get("failed") else ""
                cells.append(_fmt(point.get("rps")) + mark)
            lines.append(f"| {scenario} | {system} | " + " | ".join(cells) + " |")
    return lines


def failures(result: dict[str, Any]) -> list[str]:
    """Every point of every round whose requests failed, with the reason recorded."""
    failed = [p for p in result["points"] if p.get("failed")]
    if not failed:
        return ["No point had a failed request."]
    return [
        f"- {p['system']} {p['scenario']} c={p['connections']} (round {p.get('round', 0) + 1}): "
        f"{p['failed']}"
        for p in failed
    ]


def ratio(points: dict[Any, Any], scenario: str, c: int, other: str) -> float | None:
    mine, theirs = points.get(("fraiseql", scenario, c)), points.get((other, scenario, c))
    if mine is None or theirs is None or not theirs["rps"]:
        return None
    return float(mine["rps"] / theirs["rps"])


def ratio_table(result: dict[str, Any]) -> list[str]:
    points, levels = index(result), result["settings"]["connections"]
    others = [s for s in PEERS if s in _systems(result)]
    lines = [
        "| scenario | c | " + " | ".join(f"FraiseQL ÷ {s}" for s in others) + " |",
        "|---|---:|" + "---:|" * len(others),
    ]
    for scenario in _scenarios(result):
        for c in levels:
            cells = [_fmt(ratio(points, scenario, c, s), 2) for s in others]
            lines.append(f"| {scenario} | {c} | " + " | ".join(cells) + " |")
    return lines


def cpu_ratio_table(result: dict[str, Any]) -> list[str]:
    """Each system's server CPU per request divided by FraiseQL's (above 1: FraiseQL cheaper)."""
    points, levels = index(result), result["settings"]["connections"]
    others = [s for s in PEERS if s in _systems(result)]
    lines = [
        "| scenario | c | " + " | ".join(f"{s} ÷ FraiseQL" for s in others) + " |",
        "|---|---:|" + "---:|" * len(others),
    ]
    for scenario in _scenarios(result):
        for c in levels:
            mine = points.get(("fraiseql", scenario, c))
            cells = []
            for other in others:
                theirs = points.get((other, scenario, c))
                if mine is None or theirs is None or not theirs["requests"]:
                    cells.append("-")
                else:
                    value = theirs["server_cpu_us_per_request"] / mine["server_cpu_us_per_request"]
                    cells.append(f"{value:.2f}")
            lines.append(f"| {scenario} | {c} | " + " | ".join(cells) + " |")
    return lines


def latency_table(result: dict[str, Any]) -> list[str]:
    points, levels = index(result), result["settings"]["connections"]
    lines = [
        "| scenario | system | " + " | ".join(f"c={c} P50 / P95 / P99 ms" for c in levels) + " |",
        "|---|---|" + "---:|" * len(levels),
    ]
    for scenario in _scenarios(result):
        for system in _systems(result):
            cells = []
            for c in levels:
                point = points.get((system, scenario, c))
                if point is None:
                    cells.append("-")
                    continue
                lat = point["latency_ms"]
                cells.append(f"{lat['p50']:.2f} / {lat['p95']:.2f} / {lat['p99']:.2f}")
            lines.append(f"| {scenario} | {system} | " + " | ".join(cells) + " |")
    return lines


def cpu_table(result: dict[str, Any]) -> list[str]:
    points, levels = index(result), result["settings"]["connections"]
    systems = _systems(result)
    lines = [
        "| scenario | c | " + " | ".join(systems) + " |",
        "|---|---:|" + "---:|" * len(systems),
    ]
    for scenario in _scenarios(result):
        for c in levels:
            cells = [
                _fmt(points.get((s, scenario, c), {}).get("server_cpu_us_per_request"))
                for s in systems
            ]
            lines.append(f"| {scenario} | {c} | " + " | ".join(cells) + " |")
    return lines


def targets(result: dict[str, Any]) -> list[str]:
    """The issue's targets, each with what this run measured."""
    points, levels = index(result), result["settings"]["connections"]
    systems = _systems(result)
    lines = ["| target | measured | met |", "|---|---|---|"]

    def row(target: str, values: list[float], ok: bool, unit: str = "x") -> None:
        shown = f"{min(values):.2f}{unit} … {max(values):.2f}{unit}" if values else "-"
        lines.append(f"| {target} | {shown} | {'yes' if ok else '**no**'} |")

    if "postgraphile" in systems:
        values = [
            r
            for s in _scenarios(result)
            for c in levels
            if (r := ratio(points, s, c, "postgraphile")) is not None
        ]
        row(
            "throughput ≥ PostGraphile's, every scenario and concurrency",
            values,
            bool(values) and min(values) >= 1,
        )
    for peer in ("strawberry", "graphene"):
        if peer in systems:
            values = [
                r for s in NESTED for c in levels if (r := ratio(points, s, c, peer)) is not None
            ]
            row(f"≥ 10x {peer} on the nested lists", values, bool(values) and min(values) >= 10)
    if "floor" in systems:
        values = [
            1 / r
            for s in _scenarios(result)
            for c in levels
            if (r := ratio(points, s, c, "floor")) is not None
        ]
        row(
            "within 1.3x of the floor (floor ÷ FraiseQL req/s)",
            values,
            bool(values) and max(values) <= 1.3,
        )
    low = min(levels)
    single = points.get(("fraiseql", "post_by_id", low))
    if single is not None:
        p95 = single["latency_ms"]["p95"]
        row(f"P95 < 1 ms, post by id, c={low}", [p95], p95 < 1, " ms")
    return lines


def conditions(result: dict[str, Any]) -> list[str]:
    machine, database = result["machine"], result["database"]
    versions = result["versions"]
    settings = result["settings"]
    seed = (
        "reused from an earlier run (fingerprint matched)"
        if database["reused"]
        else f"seeded in this run in {database['seed_s']:.0f} s"
    )
    counts = ", ".join(f"{k} {v:,}" for k, v in database["counts"].items())
    loads = [p["load_average"][0] for p in result["points"]]
    lines = [
        f"- Run: {machine['date']}, mode `{result['mode']}`, {result['duration_s']:.0f} s, "
        f"commit `{machine['git_commit']}`.",
        f"- Machine: {machine['nproc']} CPUs ({machine['cpu_model']}), {machine['platform']}; "
        "**shared with other jobs** (the load average below is theirs and ours).",
        f"- `uptime` at start: `{result['uptime_at_start']}`; at end: `{result['uptime_at_end']}`; "
        f"1-minute load average over the points: {min(loads):.2f} … {max(loads):.2f}.",
        f"- PostgreSQL {machine['postgresql']} on the same machine, settings "
        + ", ".join(f"`{k}={v}`" for k, v in database["settings"].items())
        + f"; database `{database['database']}`: {counts}; {seed}.",
        f"- Every server: one process, {result['pool_size']} pooled connections (FraiseQL's "
        "acquire timeout 30 s: the peers queue without limit), on 127.0.0.1, logging off; "
        "Python servers under uvicorn with uvloop and httptools.",
        f"- Load: wrk, one thread, in its own process on the same machine; per point a "
        f"{settings['warmup_s']} s warm-up then {settings['duration_s']} s timed, at "
        f"{', '.join(str(c) for c in settings['connections'])} connections, the server left "
        "to finish the requests wrk abandoned before the next point; every server running "
        "for the whole run and the systems taking turns at each point, who goes first "
        f"alternating from one point to the next; {settings.get('rounds', 1)} round(s), each "
        "after the write path was warmed by creating and deleting 300 posts, and for each "
        "point the round with the higher throughput (of those without failed requests) is "
        "shown.",
        "- Versions: "
        + "; ".join(
            f"{system}: " + ", ".join(f"{k} {v}" for k, v in found.items())
            for system, found in versions.items()
            if isinstance(found, dict)
        )
        + f"; {versions['wrk'].split(' Copyright')[0]}.",
    ]
    spread = round_spread(result)
    if spread is not None:
        lines.append(
            f"- Noise: the two rounds of a point differed by {100 * spread[0]:.0f} % of its "
            f"throughput at the median, {100 * spread[1]:.0f} % at most."
        )
    return lines


def load_workers(path: Path = WORKERS_JSON) -> dict[str, Any] | None:
    """The several-worker run's results, ``None`` when there is none."""
    return json.loads(path.read_text()) if path.exists() else None


def supervisor_share(result: dict[str, Any]) -> float | None:
    """The largest share of a point's server CPU that went to the supervisor process."""
    shares = [
        split["supervisor"] / total
        for p in result["points"]
        if (split := p.get("process_cpu_s"))
        and (total := split["supervisor"] + sum(split["others"])) > 0
    ]
    return max(shares) if shares else None


def busiest_worker_shares(result: dict[str, Any]) -> list[float]:
    """Per shown point, the busiest worker's share of its workers' CPU (1 / N: an even split)."""
    shares = []
    for point in index(result).values():
        others = point.get("process_cpu_s", {}).get("others", [])
        if sum(others) > 0:
            shares.append(max(others) / sum(others))
    return sorted(shares)


def workers_section(result: dict[str, Any]) -> list[str]:
    """The tables of a several-worker run, under their own heading."""
    machine, settings, count = result["machine"], result["settings"], result["workers"]
    loads = [p["load_average"][0] for p in result["points"]]
    title = "Two worker processes" if count == 2 else f"{count} worker processes"
    lines = [
        f"## {title}",
        "",
        f"- Run: {machine['date']}, mode `{result['mode']}`, {result['duration_s']:.0f} s, "
        f"commit `{machine['git_commit']}`; 1-minute load average over the points: "
        f"{min(loads):.2f} … {max(loads):.2f}; {settings.get('rounds', 1)} round(s), the same "
        "protocol as above.",
        f"- Every server: {count} worker processes, each with its own pool of "
        f"{result['pool_size']} connections ({count * result['pool_size']} per server, "
        f"{result['pool_connections']} for the run): FraiseQL `fraiseql serve --workers {count}`; "
        f"the floor, Strawberry and Graphene `uvicorn --workers {count}`; PostGraphile Node's "
        "cluster module (`bench/compare/postgraphile/cluster.mjs`).",
        "- Server CPU is the sum over each server's process tree: the supervisor and every worker.",
    ]
    share = supervisor_share(result)
    if share is not None:
        lines.append(f"- The supervisor's share of its server's CPU: {100 * share:.1f} % at most.")
    shares = busiest_worker_shares(result)
    if shares:
        lines.append(
            f"- Balance: the busiest worker did {100 * shares[len(shares) // 2]:.0f} % of its "
            f"server's worker CPU at the median point, {100 * shares[-1]:.0f} % at most "
            f"({100 / count:.0f} %: an even split)."
        )
    return [
        *lines,
        "",
        "### Throughput",
        "",
        *throughput_table(result),
        "",
        "### Failed points",
        *failures(result),
        "",
        "### FraiseQL's throughput divided by each system's (same run; above 1: FraiseQL faster)",
        *ratio_table(result),
        "",
        "### Each system's server CPU per request divided by FraiseQL's"
        " (above 1: FraiseQL cheaper)",
        *cpu_ratio_table(result),
        "",
        "### Latency (wrk's percentiles)",
        *latency_table(result),
        "",
        "### Server CPU per request (µs; supervisor and workers, not PostgreSQL's)",
        *cpu_table(result),
    ]


def plots(result: dict[str, Any]) -> list[str]:
    """Three PNGs beside RESULTS.md; returns their file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points, levels = index(result), result["settings"]["connections"]
    systems, scenarios = _systems(result), _scenarios(result)
    names = []
    for key, title, file_name, log_scale in (
        ("rps", "Throughput (req/s, higher is better)", "compare_throughput.png", True),
        ("p95", "P95 latency (ms, lower is better)", "compare_latency_p95.png", True),
        ("cpu", "Server CPU per request (µs, lower is better)", "compare_cpu.png", True),
    ):
        figure, axes = plt.subplots(
            1, len(scenarios), figsize=(3.2 * len(scenarios), 3.6), sharey=False
        )
        axes = axes if len(scenarios) > 1 else [axes]
        width = 0.8 / len(systems)
        for ax, scenario in zip(axes, scenarios, strict=True):
            for i, system in enumerate(systems):
                values = []
                for c in levels:
                    point = points.get((system, scenario, c))
                    if point is None:
                        values.append(math.nan)
                    elif key == "rps":
                        values.append(point["rps"])
                    elif key == "p95":
                        values.append(point["latency_ms"]["p95"])
                    else:
                        values.append(point["server_cpu_us_per_request"])
                ax.bar([x + i * width for x in range(len(levels))], values, width, label=system)
            ax.set_xticks([x + width * (len(systems) - 1) / 2 for x in range(len(levels))])
            ax.set_xticklabels([f"c={c}" for c in levels])
            ax.set_title(scenario, fontsize=9)
            if log_scale:
                ax.set_yscale("log")
        axes[0].legend(fontsize=7)
        figure.suptitle(title)
        figure.tight_layout()
        figure.savefig(DOCS / file_name, dpi=90)
        plt.close(figure)
        names.append(file_name)
    return names


def generated(
    result: dict[str, Any], images: list[str], workers: dict[str, Any] | None = None
) -> str:
    """The generated part of RESULTS.md: ``result``'s tables, then ``workers``'s when given."""
    sections = [
        "## Conditions",
        *conditions(result),
        "",
        "## Targets",
        *targets(result),
        "",
        "## Throughput",
        *[f"![{n}]({n})" for n in images[:1]],
        "",
        *throughput_table(result),
        "",
        "## Failed points",
        *failures(result),
        "",
        "## FraiseQL's throughput divided by each system's (same run; above 1: FraiseQL faster)",
        *ratio_table(result),
        "",
        "## Each system's server CPU per request divided by FraiseQL's (above 1: FraiseQL cheaper)",
        "",
        "Steadier than req/s on this shared machine (see the noise line above for the req/s).",
        "It leaves out PostgreSQL's own CPU, which differs by design (FraiseQL reads one stored",
        "document, the peers join the normalised tables).",
        "",
        *cpu_ratio_table(result),
        "",
        "## Latency (wrk's percentiles)",
        *[f"![{n}]({n})" for n in images[1:2]],
        "",
        *latency_table(result),
        "",
        "## Server CPU per request (µs; the server process only, not PostgreSQL's)",
        *[f"![{n}]({n})" for n in images[2:3]],
        "",
        *cpu_table(result),
        *(["", *workers_section(workers)] if workers is not None else []),
    ]
    return "\n".join(sections)


def write(result: dict[str, Any], workers: dict[str, Any] | None = None) -> None:
    """Write the generated part of RESULTS.md (with ``workers``'s tables) and the plots."""
    DOCS.mkdir(parents=True, exist_ok=True)
    text = f"{START}\n{generated(result, plots(result), workers)}\n{END}"
    if RESULTS_MD.exists():
        current = RESULTS_MD.read_text()
        if START in current and END in current:
            before, rest = current.split(START, 1)
            text = before + text + rest.split(END, 1)[1]
    else:
        text = "# FraiseQL side by side\n\n" + text + "\n"
    RESULTS_MD.write_text(text)
    log(f"wrote {RESULTS_MD.relative_to(PROJECT_ROOT)} and its plots")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, nargs="?", default=COMPARE_JSON)
    parser.add_argument(
        "--workers-results",
        type=Path,
        default=WORKERS_JSON,
        help="the several-worker run, rendered after the main tables when the file exists",
    )
    arguments = parser.parse_args(argv)
    write(json.loads(arguments.results.read_text()), load_workers(arguments.workers_results))


if __name__ == "__main__":
    main()
