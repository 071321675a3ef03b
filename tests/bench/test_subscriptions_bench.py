"""bench/subscriptions: the fan-out benchmark's floor side runs and measures something sane."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from bench.subscriptions.run import percentile, summarise

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0], 50) == 1.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 100) == 5.0
    assert percentile([7.0], 99) == 7.0


def test_summary_is_the_median_of_rounds_and_of_their_ratios() -> None:
    def outcome(p50: float) -> dict[str, object]:
        return {
            "latency": {
                "p50_ms": p50,
                "p99_ms": p50,
                "max_ms": p50,
                "server_cpu_us_per_frame": 1.0,
                "client_cpu_share": 0.5,
            },
            "sustained": {
                "events_per_s": 10.0,
                "frames_per_s": 100.0,
                "server_cpu_share": 0.5,
                "client_cpu_share": 0.5,
            },
            "memory": {"bytes_per_idle_connection": 2048},
            "connect_s": 1.0,
        }

    rounds = [
        {"systems": {"floor": outcome(1.0), "fraiseql": outcome(3.0)}},
        {"systems": {"floor": outcome(2.0), "fraiseql": outcome(2.0)}},
        {"systems": {"floor": outcome(4.0), "fraiseql": {"failed": "lost events"}}},
    ]
    summary = summarise(rounds)
    assert summary["fanout_p50_ms"] == {"floor": 2.0, "fraiseql": 2.5, "fraiseql_over_floor": 2.0}
    assert summary["kib_per_idle_connection"]["floor"] == 2.0


def test_floor_fans_every_event_out_to_every_subscriber(server_dsn: str, tmp_path: Path) -> None:
    subscribers, events = 5, 3
    output, report = tmp_path / "subscriptions.json", tmp_path / "subscriptions.md"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "bench.subscriptions", "--systems", "floor"),
            *("--subscribers", str(subscribers), "--events", str(events)),
            *("--duration", "1", "--rounds", "1"),
            *("--database", f"fraiseql_t_subs_{secrets.token_hex(4)}"),
            *("--output", str(output), "--markdown", str(report)),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "FRAISEQL_BENCH_DATABASE_URL": server_dsn},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fan-out P50 (ms)" in done.stdout
    results = json.loads(output.read_text())
    (round_,) = results["rounds"]
    floor = round_["systems"]["floor"]
    latency, sustained = floor["latency"], floor["sustained"]
    assert latency["count"] == events and latency["lost_events"] == 0
    assert all(value > 0 for value in latency["latencies_ms"])
    assert 0 < latency["p50_ms"] <= latency["p99_ms"] <= latency["max_ms"] < 10_000
    assert sustained["delivered"] == sustained["fired"] > 0
    assert sustained["events_per_s"] > 0
    assert floor["memory"]["rss_idle_bytes"] > 0
    # every measured event reached every subscriber (a subscriber may have missed the first
    # warm-up events, sent while its subscription was not live yet)
    measured = events + sustained["fired"]
    warm_up = floor["warm_up_events"]
    assert subscribers * measured <= floor["frames_received"] <= subscribers * (measured + warm_up)
    assert results["summary"]["fanout_p50_ms"]["floor"] == latency["p50_ms"]
    assert "| fan-out P50 (ms) |" in report.read_text()


@pytest.mark.bench
@pytest.mark.skipif(os.environ.get("FRAISEQL_BENCH") != "1", reason="set FRAISEQL_BENCH=1 to run")
def test_fraiseql_side_runs_when_subscriptions_exist(server_dsn: str, tmp_path: Path) -> None:
    from bench.subscriptions.fraiseql_server import available

    if (reason := available()) is not None:
        pytest.skip(reason)
    output = tmp_path / "subscriptions.json"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "bench.subscriptions", "--subscribers", "50"),
            *("--events", "20", "--duration", "2", "--rounds", "1"),
            *("--database", f"fraiseql_t_subs_{secrets.token_hex(4)}"),
            *("--output", str(output), "--markdown", str(tmp_path / "subscriptions.md")),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "FRAISEQL_BENCH_DATABASE_URL": server_dsn},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ratio = json.loads(output.read_text())["summary"]["fanout_p50_ms"]["fraiseql_over_floor"]
    assert ratio is not None and ratio > 0
