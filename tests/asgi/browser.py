"""Headless Chromium driven over the Chrome DevTools Protocol, with the network off.

A small CDP client on the ``websockets`` package (no Node, no downloaded browser): it starts
Debian's ``chromium`` with a fresh profile, opens pages, and intercepts every request a page
makes (``Fetch`` domain). Requests to the allowed origins (the local test servers) go on; any
other is failed on the spot and recorded in :attr:`Page.refused`, so a test can assert that
nothing would have left the machine. Three more layers keep the browser offline: DNS resolves
nothing but 127.0.0.1, any remaining traffic goes to a dead proxy, and background networking
(updates, sync, metrics) is off.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TIMEOUT = 30.0
"""The bound of every wait: the browser's start, a page's load, a condition."""

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

OFFLINE_FLAGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",  # nothing listens there; loopback bypasses proxies
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-pings",
)


def find_chromium() -> str | None:
    """The Chromium executable: ``$FRAISEQL_CHROMIUM``, else the first on ``PATH``."""
    configured = os.environ.get("FRAISEQL_CHROMIUM")
    if configured:
        return configured
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


class CDPError(RuntimeError):
    """A CDP command answered with an error."""


class Connection:
    """One websocket to the browser; commands by id, events to handlers, sessions flattened."""

    def __init__(self, websocket: ClientConnection) -> None:
        self.websocket = websocket
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.handlers: dict[tuple[str | None, str], Callable[[dict[str, Any]], None]] = {}
        self.reader = asyncio.create_task(self._read())

    async def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        """Run one command and return its result."""
        message: dict[str, Any] = {"id": next(self.ids), "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[message["id"]] = future
        await self.websocket.send(orjson.dumps(message).decode())
        async with asyncio.timeout(TIMEOUT):
            return await future

    def on(
        self, session: str | None, method: str, handler: Callable[[dict[str, Any]], None]
    ) -> None:
        """Call ``handler(params)`` for each ``method`` event of ``session``."""
        self.handlers[(session, method)] = handler

    async def _read(self) -> None:
        try:
            async for raw in self.websocket:
                message = orjson.loads(raw)
                if "id" in message:
                    future = self.pending.pop(message["id"], None)
                    if future is None or future.done():
                        continue
                    if "error" in message:
                        future.set_exception(CDPError(str(message["error"])))
                    else:
                        future.set_result(message.get("result", {}))
                    continue
                handler = self.handlers.get((message.get("sessionId"), message["method"]))
                if handler is not None:
                    handler(message.get("params", {}))
        finally:
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(CDPError("the browser closed the connection"))

    async def close(self) -> None:
        """Close the websocket and stop reading."""
        await self.websocket.close()
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader


class Page:
    """A tab whose every request is intercepted: allowed origins pass, the rest fail."""

    def __init__(
        self,
        connection: Connection,
        session: str,
        allowed: Iterable[str],
        block: Callable[[str], bool],
        target: str | None = None,
    ) -> None:
        self.connection = connection
        self.session = session
        self.target = target
        self.allowed = tuple(allowed)
        self.block = block
        self.requested: list[str] = []
        """Every URL the page asked for, in order."""
        self.refused: list[str] = []
        """The URLs failed because they were not on an allowed origin (they would leave)."""
        self.blocked: list[str] = []
        """The local URLs failed on purpose (``block``)."""
        self.problems: list[str] = []
        """Uncaught exceptions and console errors of the page."""
        self.sockets: dict[str, dict[str, Any]] = {}
        """The page's WebSockets by request id: ``url`` and, once answered, handshake ``status``.

        The ``Fetch`` interception does not see WebSocket handshakes; the ``Network`` domain does.
        """
        self.tasks: set[asyncio.Task[Any]] = set()
        connection.on(session, "Fetch.requestPaused", self._paused)
        connection.on(session, "Runtime.exceptionThrown", self._exception)
        connection.on(session, "Runtime.consoleAPICalled", self._console)
        connection.on(session, "Log.entryAdded", self._log)
        connection.on(session, "Network.webSocketCreated", self._socket_created)
        connection.on(session, "Network.webSocketHandshakeResponseReceived", self._socket_answered)
        connection.on(session, "Network.webSocketClosed", self._socket_closed)

    async def command(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run a CDP command in this tab."""
        return await self.connection.send(method, params, self.session)

    def _paused(self, params: dict[str, Any]) -> None:
        url = params["request"]["url"]
        self.requested.append(url)
        if not url.startswith(self.allowed):
            self.refused.append(url)
            reply = ("Fetch.failRequest", {"errorReason": "InternetDisconnected"})
        elif self.block(url):
            self.blocked.append(url)
            reply = ("Fetch.failRequest", {"errorReason": "BlockedByClient"})
        else:
            reply = ("Fetch.continueRequest", {})
        task = asyncio.create_task(
            self._reply(reply[0], {"requestId": params["requestId"], **reply[1]})
        )
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _reply(self, method: str, params: dict[str, Any]) -> None:
        # A request can still be paused when the test ends and the browser goes away.
        with contextlib.suppress(CDPError, ConnectionClosed):
            await self.command(method, params)

    def _exception(self, params: dict[str, Any]) -> None:
        details = params["exceptionDetails"]
        self.problems.append(str(details.get("exception", {}).get("description") or details))

    def _console(self, params: dict[str, Any]) -> None:
        if params["type"] in ("error", "assert"):
            self.problems.append(
                " ".join(str(arg.get("value", arg.get("description"))) for arg in params["args"])
            )

    def _log(self, params: dict[str, Any]) -> None:
        # The browser's own messages: refused by a Content-Security-Policy, failed loads, ...
        entry = params["entry"]
        if entry["level"] in ("error", "warning"):
            self.problems.append(f"{entry['source']}: {entry['text']} {entry.get('url', '')}")

    def _socket_created(self, params: dict[str, Any]) -> None:
        self.sockets[params["requestId"]] = {"url": params["url"], "status": None}

    def _socket_answered(self, params: dict[str, Any]) -> None:
        socket = self.sockets.setdefault(params["requestId"], {"url": None, "status": None})
        socket["status"] = params["response"]["status"]

    def _socket_closed(self, params: dict[str, Any]) -> None:
        self.sockets.setdefault(params["requestId"], {"url": None, "status": None})["closed"] = True

    async def goto(self, url: str) -> None:
        """Load ``url`` and wait for its ``load`` event (scripts run, styles applied)."""
        loaded = asyncio.get_running_loop().create_future()
        self.connection.on(
            self.session, "Page.loadEventFired", lambda _: loaded.done() or loaded.set_result(None)
        )
        result = await self.command("Page.navigate", {"url": url})
        assert "errorText" not in result, result
        async with asyncio.timeout(TIMEOUT):
            await loaded

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited if it is a promise)."""
        result = await self.command(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise CDPError(str(result["exceptionDetails"]))
        return result["result"].get("value")

    async def wait_for(self, expression: str, what: str) -> Any:
        """Poll until the expression is truthy; return its value."""
        try:
            async with asyncio.timeout(TIMEOUT):
                while True:
                    value = await self.evaluate(expression)
                    if value:
                        return value
                    await asyncio.sleep(0.1)
        except TimeoutError:
            text = await self.evaluate("document.body ? document.body.innerText : ''")
            raise AssertionError(
                f"timed out waiting for {what}; the page shows: {text[:1000]!r}; problems: {self.problems}"
            ) from None

    async def click(self, selector: str) -> None:
        """A real mouse click (pressed and released) in the middle of the element."""
        box = await self.evaluate(
            f"(() => {{ const r = document.querySelector({orjson.dumps(selector).decode()})"
            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            await self.command(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1},
            )

    async def type(self, selector: str, text: str) -> None:
        """Focus the element and type ``text`` into it, one character at a time.

        Each character is inserted the way a keyboard would (an ``input`` event each).
        """
        await self.evaluate(f"document.querySelector({orjson.dumps(selector).decode()}).focus()")
        for character in text:
            await self.command("Input.insertText", {"text": character})

    async def close(self) -> None:
        """Close the tab (its sockets with it)."""
        if self.target is not None:
            with contextlib.suppress(CDPError, ConnectionClosed):
                await self.connection.send("Target.closeTarget", {"targetId": self.target})

    async def screenshot(self, path: Path) -> None:
        """Save a PNG of the viewport."""
        result = await self.command("Page.captureScreenshot", {"format": "png"})
        await asyncio.to_thread(path.write_bytes, base64.b64decode(result["data"]))


class Browser:
    """A running headless Chromium and the connection to it."""

    def __init__(self, process: asyncio.subprocess.Process, connection: Connection) -> None:
        self.process = process
        self.connection = connection

    async def new_page(
        self, allowed: Iterable[str], block: Callable[[str], bool] = lambda url: False
    ) -> Page:
        """A new tab, offline except for the ``allowed`` URL prefixes."""
        target = await self.connection.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.connection.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        page = Page(self.connection, attached["sessionId"], allowed, block, target["targetId"])
        await page.command("Fetch.enable", {"patterns": [{"urlPattern": "*"}]})
        await page.command("Network.enable")
        await page.command("Page.enable")
        await page.command("Runtime.enable")
        await page.command("Log.enable")
        await page.command(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False},
        )
        return page


@contextlib.asynccontextmanager
async def chromium(executable: str) -> AsyncIterator[Browser]:
    """Start headless Chromium with a fresh profile; always stop it (and its children)."""
    with tempfile.TemporaryDirectory(prefix="fraiseql-chromium-") as profile:
        log = Path(profile) / "chromium.log"
        command = [
            executable,
            "--headless",
            "--no-sandbox",  # needed as root, as in CI containers
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            f"--user-data-dir={profile}/data",
            "--remote-debugging-port=0",
            *OFFLINE_FLAGS,
            "about:blank",
        ]
        output = await asyncio.to_thread(log.open, "wb")
        with output:
            process = await asyncio.create_subprocess_exec(
                *command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            url = await _devtools_url(Path(profile) / "data" / "DevToolsActivePort", process, log)
            websocket = await connect(url, max_size=None, open_timeout=TIMEOUT)
            connection = Connection(websocket)
            try:
                yield Browser(process, connection)
            finally:
                await connection.close()
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                os.killpg(process.pid, signal.SIGKILL)
                await process.wait()


async def _devtools_url(port_file: Path, process: asyncio.subprocess.Process, log: Path) -> str:
    """Chromium writes its DevTools port and browser path to the profile once it listens."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            if process.returncode is not None:
                output = await asyncio.to_thread(log.read_text, errors="replace")
                raise RuntimeError(f"chromium exited with {process.returncode}:\n{output[-3000:]}")
            with contextlib.suppress(FileNotFoundError):
                lines = (await asyncio.to_thread(port_file.read_text)).split()
                if len(lines) == 2:
                    return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            await asyncio.sleep(0.05)
