"""Read-your-writes tokens: the log position a mutation hands out and later reads send back.

With read replicas (see :mod:`fraiseql.db.replicas`), a mutation's response carries the
primary's log position after its commit in the ``X-FraiseQL-LSN`` header, and in the
``fraiseql_lsn`` cookie when the schema asks for it (browsers then send it back by themselves).
A query that sends the header (or the cookie) runs on a replica only once that replica has
replayed the position. A malformed header is the client's mistake and gets a 400-shaped request
error; a malformed cookie is ignored (the read goes to the primary), as a cookie may outlive the
format it was written in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fraiseql.db.lsn import LsnError, parse_lsn
from fraiseql.execution.outcome import ExecutionResponse, RequestError

LSN_HEADER = "X-FraiseQL-LSN"
"""The response header of a mutation, and the request header of a read that must see it."""

LSN_COOKIE = "fraiseql_lsn"
"""The cookie carrying the same position, with ``ReadYourWrites(cookie=True)``."""

PRIMARY = -1
"""A position no replica can be trusted with: a malformed cookie sends its read to the primary."""


@dataclass(frozen=True, slots=True)
class ReadYourWrites:
    """How the token travels: always the header; the cookie too with ``cookie=True``.

    ``cookie_max_age`` (seconds) should exceed the replicas' worst lag: after it the browser
    stops sending the position and a lagging replica may serve the read.
    """

    cookie: bool = False
    cookie_max_age: int = 300

    def min_position(self, context: Mapping[str, Any]) -> int | None:
        """The position the request's reads must see, ``None`` when it carries none.

        Returns :data:`PRIMARY` for a cookie that is not a position; raises ``RequestError`` for
        such a header.
        """
        request = context.get("request")
        headers = getattr(request, "headers", None)
        if headers is None:
            return None
        text = headers.get(LSN_HEADER)
        if text is not None:
            try:
                return parse_lsn(text)
            except LsnError as error:
                raise RequestError(
                    [
                        {
                            "message": f"Invalid {LSN_HEADER} header: {error}.",
                            "extensions": {"code": "BAD_REQUEST"},
                        }
                    ]
                ) from None
        if not self.cookie:
            return None
        cookies = getattr(request, "cookies", None) or {}
        value = cookies.get(LSN_COOKIE)
        if value is None:
            return None
        try:
            return parse_lsn(value)
        except LsnError:
            return PRIMARY

    def stamp(self, response: ExecutionResponse, lsn: str, context: Mapping[str, Any]) -> None:
        """Put the mutation's commit position on its response (header, and cookie if asked)."""
        response.headers[LSN_HEADER] = lsn
        if not self.cookie:
            return
        request = context.get("request")
        url = getattr(request, "url", None)
        secure = "; Secure" if getattr(url, "scheme", "") in ("https", "wss") else ""
        response.headers["Set-Cookie"] = (
            f"{LSN_COOKIE}={lsn}; Max-Age={self.cookie_max_age}; Path=/; HttpOnly; "
            f"SameSite=Lax{secure}"
        )
