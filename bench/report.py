"""Markdown tables of a results file: ``python -m bench.report bench/results/native.json``.

docs/benchmarks/NATIVE.md quotes these tables; regenerate them from the JSON of a run rather
than typing numbers by hand.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def us(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def noise(spread: dict[str, float], *names: str) -> str:
    """The half interquartile ranges of ``names`` over their medians, as ±%."""
    return ", ".join(f"±{spread[n] * 100:.0f}%" for n in names)


def x(value: float) -> str:
    return f"{value:.2f}x"


def _load(values: list[float] | None) -> str:
    return "n/a" if not values else "/".join(f"{v:.2f}" for v in values)


def machine(result: dict[str, Any]) -> str:
    m = result["machine"]
    data = result.get("data", {})
    return (
        f"- date: {m['date']}; commit: {m.get('git_commit')}"
        + (
            f" (at the end: {m['git_commit_at_end']})"
            if m.get("git_commit_at_end") not in (None, m.get("git_commit"))
            else ""
        )
        + "; duration: "
        + (f"{m['duration_s']} s" if "duration_s" in m else "n/a")
        + "\n"
        f"- machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['platform']}; "
        f"load average (1, 5, 15 min) at start: {_load(m.get('load_average_at_start'))}, "
        f"at end: {_load(m.get('load_average_at_end'))}\n"
        f"- Python {m['python']}, PostgreSQL {m['postgresql']}, orjson {m['orjson']}\n"
        f"- data: {data}"
    )


def builder_tables(builder: dict[str, Any]) -> str:
    cases = builder["cases"]
    out = [
        "Builder alone, µs per call (median of "
        f"{builder['settings']['rounds']} interleaved rounds); speedup = Python time / time "
        "(median of per-round ratios):",
        "",
        table(
            [
                "selection",
                "rows",
                "documents, bytes",
                "response, bytes",
                "Python",
                "C",
                "C speedup",
                "C, bytes rows",
                "speedup",
                "C, pruned docs",
                "speedup",
                "SQL-side: join only",
                "noise (Py, C)",
            ],
            [
                [
                    c["selection"],
                    str(c["rows"]),
                    str(c["builder"]["sizes"]["document_bytes_fetched"]),
                    str(c["builder"]["sizes"]["response_bytes"]),
                    us(c["builder"]["median_us"]["python"]),
                    us(c["builder"]["median_us"]["c"]),
                    x(c["builder"]["speedup_over_python"]["c"]),
                    us(c["builder"]["median_us"]["c_bytes"]),
                    x(c["builder"]["speedup_over_python"]["c_bytes"]),
                    us(c["builder"]["median_us"]["c_pruned"]),
                    x(c["builder"]["speedup_over_python"]["c_pruned"]),
                    us(c["builder"]["median_us"]["concat_jsonb"]),
                    noise(c["builder"]["spread"], "python", "c"),
                ]
                for c in cases
            ],
        ),
        "",
        "Both builders fed `bytes` rows, and the C core against the parsing step of the Python "
        "builder alone (`orjson.loads` of each `str` row), µs per call (median) and paired ratios "
        "from the same rounds:",
        "",
        table(
            [
                "selection",
                "rows",
                "Python, bytes rows",
                "C, bytes rows",
                "speedup",
                "orjson.loads alone",
                "its share of Python",
                "C / orjson.loads",
                "C bytes / orjson.loads",
            ],
            [
                [
                    c["selection"],
                    str(c["rows"]),
                    us(c["builder"]["median_us"]["python_bytes"]),
                    us(c["builder"]["median_us"]["c_bytes"]),
                    x(c["builder"]["speedup_bytes_over_python_bytes"]),
                    us(c["builder"]["median_us"]["orjson_loads"]),
                    f"{c['builder']['time_vs_python']['orjson_loads'] * 100:.0f}%",
                    f"{c['builder']['c_vs_orjson_loads']['c']:.2f}",
                    f"{c['builder']['c_vs_orjson_loads']['c_bytes']:.2f}",
                ]
                for c in cases
                if "python_bytes" in c["builder"]["median_us"]
            ],
        ),
        "",
        "Database, client-side µs per fetch (median), and server-side execution ms "
        "(EXPLAIN ANALYZE, median):",
        "",
        table(
            [
                "selection",
                "rows",
                "plain (data::text)",
                "plain, textsend (bytes)",
                "pruned",
                "picked",
                "SQL jsonb",
                "SQL json",
                "EXPLAIN plain",
                "EXPLAIN pruned",
                "EXPLAIN picked",
                "EXPLAIN jsonb",
                "EXPLAIN json",
            ],
            [
                [
                    c["selection"],
                    str(c["rows"]),
                    *(
                        us(c["database"]["median_us"][k])
                        for k in (
                            "plain",
                            "plain_bytes",
                            "pruned",
                            "picked",
                            "sql_jsonb",
                            "sql_json",
                        )
                    ),
                    *(
                        f"{c['database']['explain_execution_ms']['median_ms'][k]:.3f}"
                        for k in ("plain", "pruned", "picked", "sql_jsonb", "sql_json")
                    ),
                ]
                for c in cases
            ],
        ),
        "",
        "Fetch + build, µs per call (median); in brackets the time relative to today's C path "
        "(plain+c; median of per-round ratios, below 1 is faster):",
        "",
    ]
    names = [
        "plain+python",
        "plain+c",
        "plain_bytes+c",
        "pruned+c",
        "picked+c",
        "sql_jsonb+concat",
        "sql_json+concat",
    ]
    rows = []
    for c in cases:
        f = c["fetch_and_build"]
        best = min(names, key=lambda n: f["median_us"][n])
        rows.append(
            [
                c["selection"],
                str(c["rows"]),
                *(f"{us(f['median_us'][n])} ({f['time_vs_plain+c'][n]:.2f})" for n in names),
                best,
            ]
        )
    out.append(table(["selection", "rows", *names, "fastest"], rows))
    out.append("")
    out.append(
        "Noise (half interquartile range over the median), fetch + build: "
        + "; ".join(
            f"{c['selection']}/{c['rows']} "
            f"±{max(c['fetch_and_build']['spread'].values()) * 100:.0f}% at most"
            for c in cases
        )
        + "."
    )
    out.append("")
    checks = {k for c in cases for k, v in c["builder"]["checks"].items() if not v}
    out.append(
        "Checks before timing: C output byte-identical to Python in every case (str, bytes, "
        "pruned and picked rows); SQL-side outputs equal to Python's once parsed; "
        "keys in selection order: "
        + (
            "not kept by " + ", ".join(sorted(k.split("_keeps")[0] for k in checks))
            if checks
            else "kept by all"
        )
        + "."
    )
    return "\n".join(out)


def server_table(server: dict[str, Any]) -> str:
    s = server["settings"]
    rows = [
        [
            c["query"],
            str(c["connections"]),
            f"{c['rps']['c']:.0f}",
            f"{c['rps']['python']:.0f}",
            x(c["rps_ratio_c_over_python"]),
            f"{c['latency_p50_ms']['c']:.2f} / {c['latency_p50_ms']['python']:.2f}",
            f"{c['server_cpu_us_per_request']['c']:.0f}",
            f"{c['server_cpu_us_per_request']['python']:.0f}",
            x(c["cpu_ratio_python_over_c"]),
        ]
        for c in server["cases"]
    ]
    header = (
        f"Whole server (uvicorn, 1 worker, {server['load_generator']}; "
        f"{s['rounds']} rounds of {s['duration_s']:.0f} s per side after {s['warmup_s']:.0f} s "
        "of warm-up, C and Python alternating); "
        "medians over rounds, ratios = median of per-round ratios:"
    )
    return "\n".join(
        [
            header,
            "",
            table(
                [
                    "query",
                    "connections",
                    "C req/s",
                    "Python req/s",
                    "C / Python",
                    "p50 ms C / Py",
                    "server CPU µs/req C",
                    "Py",
                    "Py / C CPU",
                ],
                rows,
            ),
        ]
    )


def render(result: dict[str, Any]) -> str:
    parts = [machine(result)]
    if "builder" in result:
        parts.append(builder_tables(result["builder"]))
    if "server" in result:
        parts.append(server_table(result["server"]))
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, nargs="?", default=RESULTS_DIR / "native.json")
    arguments = parser.parse_args(argv)
    print(render(json.loads(arguments.path.read_text())))


if __name__ == "__main__":
    main()
