"""The load: wrk in its own process, one thread, a Lua script sending the scenario's bodies.

The bodies of a scenario are sent round-robin (one body but for ``mix``); ``__IDENT__`` in a
body becomes a fresh post identifier per request, so creates never collide. The script's
``done`` hook prints the counts and the latency percentiles wrk measured.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

from bench.compare.scenarios import CREATED_PREFIX, IDENT

WRK_SCRIPT = """\
local bodies = {{ {bodies} }}
local prefix = "{prefix}"
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local body = bodies[(counter - 1) % #bodies + 1]
  body = string.gsub(body, "{ident}", prefix .. counter)
  return wrk.format(nil, nil, nil, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d\\n", summary.requests,
    summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit(
            "bench: wrk is not installed (apt-get install wrk; `make bench-compare` installs it "
            "when run as root)"
        )
    return path


def write_script(workdir: Path, name: str, bodies: list[str]) -> tuple[Path, str]:
    """A wrk script sending ``bodies`` round-robin, and the prefix of the posts it creates.

    Every script gets its own prefix: two runs of one script would create the same identifiers.
    """
    quoted = ", ".join(f"[==[{body}]==]" for body in bodies)
    prefix = f"{CREATED_PREFIX}{secrets.token_hex(4)}-{name.replace('_', '-')}-"
    path = workdir / f"{name}.lua"
    path.write_text(WRK_SCRIPT.format(bodies=quoted, prefix=prefix, ident=IDENT))
    return path, prefix


def run_wrk(url: str, script: Path, connections: int, duration_s: int) -> dict[str, Any]:
    """One wrk run: requests, errors, req/s and latency percentiles (ms)."""
    done = subprocess.run(
        [
            wrk_path(),
            "-t1",
            f"-c{connections}",
            f"-d{duration_s}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=duration_s + 60,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    requests, micros, non_2xx, errors, p50, p95, p99, worst = (int(x) for x in line.split()[1:])
    return {
        "requests": requests,
        "duration_s": micros / 1e6,
        "rps": requests / (micros / 1e6) if micros else 0.0,
        "non_2xx": non_2xx,
        "errors": errors,
        "latency_ms": {"p50": p50 / 1e3, "p95": p95 / 1e3, "p99": p99 / 1e3, "max": worst / 1e3},
    }
