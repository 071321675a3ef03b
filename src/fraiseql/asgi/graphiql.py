"""The GraphiQL page served to browsers at the GraphQL endpoint.

The page is a static file (``static/graphiql.html``) that loads pinned GraphiQL, React and
ReactDOM releases from a CDN with Subresource Integrity hashes, and talks to the endpoint it was
served from. It embeds no server data, so there is nothing to escape.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

GRAPHIQL_VERSION = "3.8.3"
REACT_VERSION = "18.3.1"


@cache
def graphiql_html() -> bytes:
    """The GraphiQL page, read once from the package data."""
    return files("fraiseql.asgi").joinpath("static", "graphiql.html").read_bytes()
