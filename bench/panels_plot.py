"""Plot what the Grafana dashboards' panels show, from a running Prometheus.

Every panel of deploy/grafana/dashboards is evaluated with Prometheus' range API over a time
window and drawn as one small chart (one line per series). The real-parts test calls
:func:`plot_panels` when ``FRAISEQL_OBS_PLOT`` names an output file; by hand::

    python -m bench.panels_plot http://127.0.0.1:9090 panels.png --minutes 5
"""

from __future__ import annotations

import argparse
import json
import math
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

DASHBOARDS = Path(__file__).resolve().parents[1] / "deploy" / "grafana" / "dashboards"


def query_range(base: str, expr: str, start: float, end: float, step: float) -> list[Any]:
    """The series of ``expr`` between ``start`` and ``end`` (Unix seconds)."""
    parameters = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(f"{base}/api/v1/query_range?{parameters}", timeout=10) as reply:
        body = json.load(reply)
    if body.get("status") != "success":
        raise RuntimeError(f"{expr}: {body}")
    return list(body["data"]["result"])


MAX_SERIES = 6


def _finite(value: str) -> float:
    number = float(value)
    return number if math.isfinite(number) else 0.0


def _label(metric: dict[str, str], legend: str) -> str:
    text = legend
    for key, value in metric.items():
        text = text.replace("{{" + key + "}}", value)
    return text or ",".join(f"{k}={v}" for k, v in metric.items() if k != "__name__") or "value"


def plot_panels(base: str, start: float, end: float, output: Path, step: float = 1.0) -> int:
    """Draw every panel into ``output`` (PNG); returns the number of panels drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        for panel in dashboard["panels"]:
            panels.append((dashboard["title"].split("·")[-1].strip(), panel))
    columns = 4
    rows = math.ceil(len(panels) / columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(columns * 4.6, rows * 2.7), squeeze=False, layout="constrained"
    )
    for axis, (dashboard_title, panel) in zip(axes.flat, panels, strict=False):
        for target in panel["targets"]:
            found = query_range(base, target["expr"], start, end, step)
            # The busiest series only, so that a panel stays readable.
            found.sort(key=lambda series: -max(_finite(v) for _, v in series["values"]))
            for series in found[:MAX_SERIES]:
                xs = [float(t) - start for t, _ in series["values"]]
                ys = [float(v) for _, v in series["values"]]
                axis.plot(xs, ys, label=_label(series["metric"], target["legendFormat"])[:28])
        axis.set_title(f"{dashboard_title}: {panel['title']}"[:60], fontsize=7.5)
        axis.tick_params(labelsize=6)
        axis.set_xlabel(f"s ({panel['fieldConfig']['defaults'].get('unit', '')})", fontsize=6)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=5, loc="upper left")
    for axis in list(axes.flat)[len(panels) :]:
        axis.axis("off")
    figure.savefig(output, dpi=90)
    plt.close(figure)
    return len(panels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("prometheus")
    parser.add_argument("output", type=Path)
    parser.add_argument("--minutes", type=float, default=5)
    arguments = parser.parse_args()
    end = time.time()
    plot_panels(
        arguments.prometheus.rstrip("/"), end - arguments.minutes * 60, end, arguments.output
    )


if __name__ == "__main__":
    main()
