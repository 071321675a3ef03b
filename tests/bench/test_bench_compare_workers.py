"""bench/compare with several workers: the process-tree CPU, the stop, the second table."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from bench.common import process_cpu_seconds
from bench.compare import proctree, report, servers

BURN = 0.3
"""CPU seconds each burning process spends (well above the 10 ms clock tick)."""

# A session leader whose first child burns and exits (reaped: it counts in the leader's
# cutime), whose second child burns and starts a grandchild that burns too, both left alive.
TREE = f"""
import os, sys, time

def burn():
    end = time.process_time() + {BURN}
    while time.process_time() < end:
        pass

first = os.fork()
if first == 0:
    burn()
    os._exit(0)
os.waitpid(first, 0)
second = os.fork()
if second == 0:
    burn()
    if os.fork() == 0:
        burn()
        print("grandchild", os.getpid(), flush=True)
        time.sleep(60)
        os._exit(0)
    time.sleep(60)
    os._exit(0)
print("leader", os.getpid(), flush=True)
time.sleep(60)
"""


def _lines(process: subprocess.Popen[bytes], count: int) -> list[str]:
    assert process.stdout is not None
    return [process.stdout.readline().decode().strip() for _ in range(count)]


def test_the_cpu_of_a_process_tree_is_summed_over_every_process() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", TREE], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert sorted(line.split()[0] for line in _lines(process, 2)) == ["grandchild", "leader"]
        by_pid = proctree.cpu_by_process(process.pid)
        assert len(by_pid) == 3  # the leader, its living child and the grandchild
        assert next(iter(by_pid)) == process.pid
        own = process_cpu_seconds(process.pid)
        assert own is not None
        # the exited child's burn is in the leader's figure (reaped), not in its own time
        assert by_pid[process.pid] >= own + BURN - 0.02
        assert sum(by_pid.values()) >= 3 * BURN - 0.05
        assert all(seconds >= BURN - 0.02 for seconds in by_pid.values())
    finally:
        servers.Server("tree", process, "", Path("/dev/null")).stop()
        assert process.stdout is not None
        process.stdout.close()
    assert proctree.cpu_by_process(process.pid) == {}


def test_only_a_session_leader_is_read() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with pytest.raises(ValueError, match="does not lead its session"):
            proctree.cpu_by_process(process.pid)
    finally:
        process.kill()
        process.wait()


def test_stop_kills_a_worker_its_supervisor_left_behind() -> None:
    # The supervisor exits on SIGTERM at once; its worker ignores SIGTERM.
    script = (
        "import os, signal, sys, time\n"
        "if os.fork() == 0:\n"
        "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "    print(os.getpid(), flush=True)\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, start_new_session=True
    )
    (worker,) = (int(line) for line in _lines(process, 1))
    server = servers.Server("tree", process, "", Path("/dev/null"))
    server.stop()
    assert process.stdout is not None
    process.stdout.close()
    assert process.returncode == -signal.SIGTERM
    deadline = time.monotonic() + 5
    while proctree.read_stat(worker) is not None and time.monotonic() < deadline:
        time.sleep(0.05)  # the orphan is reaped by init once killed
    assert proctree.read_stat(worker) is None


def test_the_commands_of_several_workers() -> None:
    fraiseql = servers.command("fraiseql", 8123, 2)
    assert fraiseql[1:5] == ["-m", "fraiseql", "serve", servers.APPS["fraiseql"]]
    assert fraiseql[fraiseql.index("--workers") + 1] == "2"
    floor = servers.command("floor", 8123, 2)
    assert floor[floor.index("--workers") + 1] == "2"
    assert "--workers" not in servers.command("floor", 8123)
    assert servers.command("postgraphile", 8123, 2)[1].endswith("cluster.mjs")
    assert servers.command("postgraphile", 8123)[1].endswith("server.mjs")


# --- the second table ------------------------------------------------------------------------------


def _point(system: str, rps: float, supervisor: float) -> dict[str, Any]:
    return {
        "system": system,
        "scenario": "post_by_id",
        "connections": 10,
        "rps": rps,
        "requests": int(rps * 3),
        "server_cpu_us_per_request": 1e6 / rps,
        "latency_ms": {"p50": 1.0, "p95": 2.0, "p99": 3.0, "max": 4.0},
        "load_average": (1.0, 1.0, 1.0),
        "process_cpu_s": {"supervisor": supervisor, "others": [1.0, 1.0 - supervisor]},
        "round": 0,
    }


def _result(workers: int) -> dict[str, Any]:
    return {
        "mode": "quick",
        "machine": {"date": "today", "git_commit": "abc1234"},
        "duration_s": 60.0,
        "workers": workers,
        "pool_size": 10,
        "pool_connections": 40,
        "settings": {"systems": ["fraiseql", "floor"], "connections": [10], "rounds": 1},
        "points": [_point("fraiseql", 500.0, 0.02), _point("floor", 1000.0, 0.0)],
    }


def test_the_two_worker_run_is_a_second_set_of_tables() -> None:
    lines = report.workers_section(_result(2))
    assert lines[0] == "## Two worker processes"
    assert "| post_by_id | fraiseql | 500 |" in lines
    assert "| post_by_id | 10 | 0.50 |" in lines  # FraiseQL ÷ floor
    assert "- The supervisor's share of its server's CPU: 1.0 % at most." in lines
    assert report.busiest_worker_shares(_result(2)) == [0.5, 1.0 / 1.98]
    assert "at the median point, 51 % at most (50 %: an even split)." in lines[6]
    assert report.workers_section(_result(3))[0] == "## 3 worker processes"


def test_the_report_is_unchanged_without_a_workers_run(tmp_path: Path) -> None:
    one = json.loads(report.COMPARE_JSON.read_text())  # the recorded one-worker run
    without = report.generated(one, [])
    assert "worker processes" not in without
    assert report.load_workers(tmp_path / "absent.json") is None
    both = report.generated(one, [], _result(2))
    assert both.startswith(without)
    assert "\n## Two worker processes\n" in both
