"""Reading the Grafana dashboards of deploy/grafana: their panels' queries and the metrics
those queries name."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))

PROMQL_WORDS = frozenset(
    {
        "sum", "avg", "min", "max", "count", "topk", "bottomk", "rate", "irate", "increase",
        "histogram_quantile", "by", "without", "on", "ignoring", "group_left", "group_right",
        "or", "and", "unless", "vector", "offset", "bool", "clamp_min", "clamp_max", "abs",
    }
)  # fmt: skip
"""Functions, aggregations and keywords: everything in an expression that is not a metric."""

SYNTHETIC = frozenset({"up"})
"""Series Prometheus makes itself for each target, not exported by the app."""


@dataclass(frozen=True)
class PanelQuery:
    """One target of one panel."""

    dashboard: str
    panel: str
    expr: str


def panel_queries() -> list[PanelQuery]:
    """Every query of every panel of every dashboard."""
    queries = []
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                queries.append(PanelQuery(path.name, panel["title"], target["expr"]))
    return queries


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (label matchers, groupings, ranges removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        name = match.group()
        following = text[match.end() :].lstrip()
        if name in PROMQL_WORDS or following.startswith("("):
            continue
        names.add(name)
    return names
