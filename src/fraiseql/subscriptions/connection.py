"""What a WebSocket client sent with ``connection_init``, for the app's context getter."""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection

CONNECTION_PARAMS_KEY = "fraiseql.connection_params"
"""Where the WebSocket transport keeps the ``connection_init`` payload in the ASGI scope."""


def connection_params(connection: HTTPConnection) -> dict[str, Any]:
    """The ``connection_init`` payload of a WebSocket connection (``{}`` over plain HTTP).

    Browsers cannot set headers on a WebSocket, so clients send their token or tenant there;
    a context getter reads ``connection.headers`` over HTTP and this over a WebSocket.
    """
    params = connection.scope.get(CONNECTION_PARAMS_KEY)
    return params if isinstance(params, dict) else {}
