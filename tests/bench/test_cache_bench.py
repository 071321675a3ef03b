"""bench/cache: the response-cache benchmark runs and measures something sane."""

from __future__ import annotations

import json
import math
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bench.cache.load import percentile, request_bytes
from bench.cache.run import redis_unavailable, summarise

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_requests_are_built_once_with_their_headers() -> None:
    host, port, payload = request_bytes(
        "http://127.0.0.1:8123/graphql", b'{"query":"{ a }"}', [("X-Tenant-Id", "t")]
    )
    assert (host, port) == ("127.0.0.1", 8123)
    head, body = payload.split(b"\r\n\r\n")
    assert head.startswith(b"POST /graphql HTTP/1.1\r\n")
    assert b"\r\nContent-Length: 17\r\n" in head + b"\r\n" and b"\r\nX-Tenant-Id: t" in head
    assert body == b'{"query":"{ a }"}'


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([1.0, 2.0, 3.0], 50) == 2.0
    assert percentile([1.0, 2.0], 50) == 1.5
    assert percentile([], 99) == 0.0


def test_summary_is_the_median_of_rounds_and_of_their_ratios() -> None:
    def point(round_: int, system: str, rps: float, failed: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = {
            "rps": rps,
            "latency_ms": {"p50": 1.0, "p99": 2.0},
            "server_cpu_us_per_request": 50.0,
        }
        if failed:
            result["failed"] = "socket errors"
        return {"round": round_, "connections": 10, "system": system, "result": result}

    points = [
        point(1, "memory", 900.0),
        point(1, "floor", 300.0),
        point(2, "memory", 1000.0),
        point(2, "floor", 500.0),
        point(3, "memory", 2000.0, failed=True),
        point(3, "floor", 400.0),
    ]
    summary = summarise(points, [10])["10"]
    assert summary["systems"]["memory"]["rps"] == 950.0
    assert summary["systems"]["memory"]["rounds"] == 2
    assert summary["systems"]["floor"]["rps"] == 400.0
    assert summary["ratios"]["hit_over_floor"] == 2.5  # median of 3.0 and 2.0; round 3 failed
    assert summary["ratios"]["redis_over_memory"] is None


def _run_bench(server_dsn: str, tmp_path: Path, *arguments: str) -> dict[str, Any]:
    output, report = tmp_path / "cache.json", tmp_path / "cache.md"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "bench.cache", *arguments),
            *("--rounds", "1", "--duration", "0.5", "--warmup", "0.2", "--concurrency", "4"),
            *("--rows", "50", "--database", f"fraiseql_t_cache_{secrets.token_hex(4)}"),
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
    assert "memory hit / floor" in done.stdout
    assert "| FraiseQL, cache hit (MemoryCache) |" in report.read_text()
    results: dict[str, Any] = json.loads(output.read_text())
    return results


def test_memory_hits_uncached_reads_and_the_floor_give_sane_numbers(
    server_dsn: str, tmp_path: Path
) -> None:
    results = _run_bench(server_dsn, tmp_path, "--systems", "memory", "uncached", "floor")
    assert results["check"]["cache_headers"] == {
        "memory": ["miss", "hit"],
        "uncached": [None, None],
        "floor": [None, None],
    }
    points = {p["system"]: p["result"] for p in results["points"]}
    assert sorted(points) == ["floor", "memory", "uncached"]
    for system, result in points.items():
        assert "failed" not in result, (system, result)
        assert result["requests"] > 0 and result["non_2xx"] == result["errors"] == 0
        assert result["rps"] > 0 and math.isfinite(result["rps"])
        latency = result["latency_ms"]
        assert 0 < latency["p50"] <= latency["p99"] <= latency["max"] < 10_000
        assert (
            result["server_cpu_us_per_request"] is None or result["server_cpu_us_per_request"] > 0
        )
    assert points["memory"]["hits"] == points["memory"]["requests"]
    assert points["uncached"]["hits"] == points["floor"]["hits"] == 0
    ratios = results["summary"]["4"]["ratios"]
    for key in ("hit_over_floor", "hit_over_uncached", "uncached_over_floor"):
        assert ratios[key] is not None and ratios[key] > 0
    assert ratios["redis_over_memory"] is None


@pytest.mark.bench
@pytest.mark.skipif(os.environ.get("FRAISEQL_BENCH") != "1", reason="set FRAISEQL_BENCH=1 to run")
def test_redis_hits_are_measured_too(server_dsn: str, tmp_path: Path) -> None:
    if (reason := redis_unavailable("redis://127.0.0.1:6379/0")) is not None:
        pytest.skip(reason)
    results = _run_bench(server_dsn, tmp_path)
    redis = next(p["result"] for p in results["points"] if p["system"] == "redis")
    assert redis["hits"] == redis["requests"] > 0
    assert results["summary"]["4"]["ratios"]["redis_over_memory"] > 0
