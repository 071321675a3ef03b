"""``fraiseql serve TARGET``: serve an app in production, with several worker processes.

Uvicorn (the default, ``--server uvicorn``) or Granian (``--server granian``, the
``serve-granian`` extra, see :mod:`fraiseql.cli.serve_granian`) runs the workers: each is a
process with its own event loop, pool and listener. With uvicorn on Linux each worker has its
own ``SO_REUSEPORT`` socket and the kernel spreads new connections over them
(:mod:`fraiseql.cli.serve_workers`); ``--shared-socket`` keeps uvicorn's own supervisor, whose
workers accept from one socket. On SIGTERM or SIGINT every worker stops taking connections,
finishes the requests it holds (for at most ``--graceful-timeout`` seconds), closes its pool
and exits.
"""

from __future__ import annotations

import enum
import os
from typing import Annotated

import typer

from fraiseql.cli.serve_workers import REUSE_PORT_AVAILABLE, ServeSettings
from fraiseql.cli.target import resolve

TARGET_HELP = "The app as 'module:attribute' (an app, or a function making one)."
WORKERS_HELP = "How many worker processes: a number, or 'auto' (one per CPU)."
REUSE_PORT_HELP = (
    "With uvicorn and several workers: a SO_REUSEPORT socket per worker, so the kernel spreads"
    " connections over them (Linux, the default there), or one socket they all accept from."
)


class ServerName(enum.StrEnum):
    """The HTTP servers ``--server`` can run."""

    UVICORN = "uvicorn"
    GRANIAN = "granian"


def worker_count(value: str) -> int:
    """The number of workers ``--workers`` asks for (``auto``: one per CPU the process may use)."""
    if value == "auto":
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not on Linux
            return max(1, os.cpu_count() or 1)
    try:
        count = int(value)
    except ValueError:
        raise typer.BadParameter(f"--workers takes a number or 'auto', not {value!r}") from None
    if count < 1:
        raise typer.BadParameter("--workers must be at least 1")
    return count


def serve_command(
    target: Annotated[
        str,
        typer.Argument(help="The app as 'module:attribute' (an app, or a function making one)."),
    ],
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.")] = 8000,
    workers: Annotated[str, typer.Option(help=WORKERS_HELP)] = "1",
    graceful_timeout: Annotated[
        float, typer.Option(help="Seconds a stopping worker lets running requests finish.")
    ] = 30.0,
    keep_alive: Annotated[
        float, typer.Option(help="Seconds an idle keep-alive connection is kept open.")
    ] = 5.0,
    proxy_headers: Annotated[
        bool,
        typer.Option(help="Trust X-Forwarded-For/-Proto from --forwarded-allow-ips (a proxy)."),
    ] = False,
    forwarded_allow_ips: Annotated[
        str, typer.Option(help="The proxies trusted with --proxy-headers (comma separated).")
    ] = "127.0.0.1",
    log_level: Annotated[str, typer.Option(help="The server's log level.")] = "info",
    server: Annotated[
        ServerName,
        typer.Option(help="The HTTP server: uvicorn, or granian (the serve-granian extra)."),
    ] = ServerName.UVICORN,
    reuse_port: Annotated[
        bool, typer.Option("--reuse-port/--shared-socket", help=REUSE_PORT_HELP)
    ] = REUSE_PORT_AVAILABLE,
) -> None:
    """Serve TARGET with uvicorn or granian: several workers, graceful shutdown, no reload."""
    count = worker_count(workers)
    if server is ServerName.GRANIAN:
        from fraiseql.cli.serve_granian import GranianUnavailableError, serve_with_granian

        try:
            serve_with_granian(
                target,
                host=host,
                port=port,
                workers=count,
                graceful_timeout=graceful_timeout,
                keep_alive=keep_alive,
                proxy_headers=proxy_headers,
                forwarded_allow_ips=forwarded_allow_ips,
                log_level=log_level,
            )
        except GranianUnavailableError as error:
            typer.echo(f"Error: {error}", err=True)
            raise typer.Exit(2) from None
        return
    if reuse_port and count > 1 and not REUSE_PORT_AVAILABLE:
        raise typer.BadParameter("--reuse-port needs Linux's SO_REUSEPORT; use --shared-socket")
    factory = resolve(target).is_factory  # fails here, clearly, when the target is wrong
    settings = ServeSettings(
        target=target,
        host=host,
        port=port,
        factory=factory,
        graceful_timeout=graceful_timeout,
        keep_alive=keep_alive,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level=log_level,
    )
    if reuse_port and count > 1:
        from fraiseql.cli.serve_workers import supervise

        status = supervise(settings, count)
        if status:
            raise typer.Exit(status)
        return
    import uvicorn

    uvicorn.run(target, workers=count, **settings.uvicorn_options())
