"""``fraiseql serve TARGET``: serve an app in production, with several worker processes.

Uvicorn (the default, ``--server uvicorn``) or Granian (``--server granian``, the
``serve-granian`` extra, see :mod:`fraiseql.cli.serve_granian`) runs the workers: each is a
process with its own event loop, pool and listener, and they share the listening socket (the
kernel hands each new connection to one of them). On SIGTERM or SIGINT every worker stops
taking connections, finishes the requests it holds (for at most ``--graceful-timeout``
seconds), closes its pool and exits.
"""

from __future__ import annotations

import enum
import os
from typing import Annotated

import typer

from fraiseql.cli.target import resolve

TARGET_HELP = "The app as 'module:attribute' (an app, or a function making one)."
WORKERS_HELP = "How many worker processes: a number, or 'auto' (one per CPU)."


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
    import uvicorn

    factory = resolve(target).is_factory  # fails here, clearly, when the target is wrong
    uvicorn.run(
        target,
        host=host,
        port=port,
        workers=count,
        factory=factory,
        timeout_graceful_shutdown=int(graceful_timeout) or None,
        timeout_keep_alive=int(keep_alive),
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level=log_level,
        access_log=False,
        lifespan="on",
    )
