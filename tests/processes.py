"""An ASGI app served by uvicorn in a process of its own, for tests of several app processes.

Each :class:`AppProcess` runs ``uvicorn --factory TARGET`` on a free port of 127.0.0.1 with its
output in a log file (shown when it fails to start), answers through an ``httpx`` client, and
is stopped with SIGTERM (then killed) by :meth:`AppProcess.close`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class AppProcess:
    """One uvicorn process serving the app factory ``target`` (``module:function``)."""

    def __init__(self, name: str, target: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.env = env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"process-{name}.log"
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "uvicorn", "--factory", target),
                    *("--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"),
                    *("--log-level", "warning"),
                ],
                cwd=PROJECT_ROOT,
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.client = httpx.AsyncClient(base_url=self.base, timeout=10)

    async def ready(self, path: str = "/ready", within: float = 20.0) -> None:
        """Wait until ``path`` answers 200 (the process died or never did: fail with its log)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text(errors="replace")[-3000:]
            with contextlib.suppress(httpx.HTTPError):
                if (await self.client.get(path)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
        raise AssertionError(f"process {self.name} not ready: {self.log.read_text()[-3000:]}")

    async def close(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 10 s) and its client."""
        await self.client.aclose()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, 10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait, 10)
