"""``fraiseql serve --server granian``: the app served by Granian (the ``serve-granian`` extra).

Granian is a Rust HTTP server: its main process spawns the worker processes, each loads the
app (ASGI, lifespan on) and shares the listening socket. On SIGTERM or SIGINT the workers stop
taking connections and finish what they hold; a worker still running after
``--graceful-timeout`` seconds is killed. With ``--proxy-headers`` each worker wraps the app
in Granian's own proxy-header middleware, trusting ``--forwarded-allow-ips``.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import typer

from fraiseql.cli.target import resolve

EXTRA_HINT = "pip install 'fraiseql[serve-granian]'"
TARGET_ENV = "FRAISEQL_SERVE_TARGET"
TRUSTED_ENV = "FRAISEQL_SERVE_FORWARDED_ALLOW_IPS"


class GranianUnavailableError(Exception):
    """Granian is not installed: the ``serve-granian`` extra names it."""


def _granian() -> Any:
    try:
        return importlib.import_module("granian")
    except ImportError as error:
        if (error.name or "").split(".")[0] != "granian":
            raise
        msg = f"--server granian needs Granian, the serve-granian extra: {EXTRA_HINT}"
        raise GranianUnavailableError(msg) from error


def proxied_app() -> Any:
    """A worker's app behind proxy headers: the target of ``$FRAISEQL_SERVE_TARGET``, wrapped."""
    proxies = importlib.import_module("granian.utils.proxies")
    found = resolve(os.environ[TARGET_ENV])
    app = found.value() if found.is_factory else found.value
    trusted = [host.strip() for host in os.environ.get(TRUSTED_ENV, "127.0.0.1").split(",")]
    return proxies.wrap_asgi_with_proxy_headers(app, trusted_hosts=trusted)


def serve_with_granian(
    target: str,
    *,
    host: str,
    port: int,
    workers: int,
    graceful_timeout: float,
    keep_alive: float,
    proxy_headers: bool,
    forwarded_allow_ips: str,
    log_level: str,
) -> None:
    """Serve ``target`` with Granian until SIGTERM/SIGINT; raises ``GranianUnavailableError``."""
    granian = _granian()
    constants = importlib.import_module("granian.constants")
    http = importlib.import_module("granian.http")
    log = importlib.import_module("granian.log")
    try:
        level = log.LogLevels(log_level)
    except ValueError:
        known = ", ".join(member.value for member in log.LogLevels)
        raise typer.BadParameter(f"--log-level {log_level!r}: Granian knows {known}") from None
    factory = resolve(target).is_factory  # fails here, clearly, when the target is wrong
    if proxy_headers:
        os.environ[TARGET_ENV] = target  # the workers inherit it
        os.environ[TRUSTED_ENV] = forwarded_allow_ips
        target, factory = f"{__name__}:proxied_app", True
    server = granian.Granian(
        target,
        address=host,
        port=port,
        interface=constants.Interfaces.ASGI,
        workers=workers,
        factory=factory,
        workers_kill_timeout=max(1, round(graceful_timeout)),
        http1_settings=http.HTTP1Settings(keep_alive=keep_alive > 0),
        log_level=level,
        log_access=False,
    )
    server.serve()
