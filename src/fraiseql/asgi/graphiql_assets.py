"""The files of the GraphiQL page, served beside the GraphQL endpoint at ``<path>/_graphiql/``.

Only the names listed by :func:`fraiseql.asgi.graphiql.assets` exist: a request names a file,
it is looked up in that table and never joined to a filesystem path, so ``..``, encoded or
not, and absolute paths are plain unknown names (404). Every name carries a version or a
content hash, so the answers are cacheable for a year and ``immutable``; an ``ETag`` lets a
client revalidate anyway, and a client that accepts ``gzip`` gets the file compressed
(GraphiQL's script is 3.5 MB, 0.7 MB compressed), compressed once per process.
"""

from __future__ import annotations

import gzip
from functools import cache

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from fraiseql.asgi.graphiql import ASSETS_SEGMENT, Asset, assets

CACHE_CONTROL = "public, max-age=31536000, immutable"
ALLOWED_METHODS = "GET, HEAD"


def assets_path(path: str) -> str:
    """The path under which the files of the page at the GraphQL ``path`` are served."""
    return f"{path.rstrip('/')}/{ASSETS_SEGMENT}/"


def graphiql_assets_route(path: str) -> Route:
    """The route serving the GraphiQL page's files, for the GraphQL endpoint at ``path``.

    ``create_app``, ``build_asgi_app`` and the FastAPI router add it when the page is on; an
    application that mounts :class:`~fraiseql.asgi.http.GraphQLHTTPHandler` itself adds it
    beside the handler's route.
    """
    return Route(
        assets_path(path) + "{name}",
        GraphiQLAssets(),
        name="graphiql_assets",
        include_in_schema=False,
    )


@cache
def _gzipped(name: str) -> bytes:
    return gzip.compress(assets()[name].body, compresslevel=6, mtime=0)


def _etag(asset: Asset, encoding: str | None) -> str:
    digest = asset.integrity.removeprefix("sha384-")[:24].replace("/", "_").replace("+", "-")
    return f'"{digest}-{encoding}"' if encoding else f'"{digest}"'


def _accepts_gzip(headers: Headers) -> bool:
    for item in headers.get("accept-encoding", "").split(","):
        coding, _, params = item.partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        quality = params.strip().lower().removeprefix("q=")
        if params and quality.replace(".", "", 1).isdigit() and float(quality) == 0:
            continue
        return True
    return False


def _not_modified(headers: Headers, etag: str) -> bool:
    tags = [tag.strip().removeprefix("W/") for tag in headers.get("if-none-match", "").split(",")]
    return etag in tags or "*" in tags


class GraphiQLAssets:
    """ASGI application serving one of the page's files, named by its route's ``name``.

    It answers ``GET`` and ``HEAD``; any other method gets 405, an unknown name 404.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one HTTP request."""
        response = await self._respond(scope)
        await response(scope, receive, send)

    async def _respond(self, scope: Scope) -> Response:
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            return PlainTextResponse(
                "Method Not Allowed", status_code=405, headers={"Allow": ALLOWED_METHODS}
            )
        name = scope.get("path_params", {}).get("name")
        asset = assets().get(name) if isinstance(name, str) else None
        if asset is None:
            return PlainTextResponse("Not Found", status_code=404)
        headers = Headers(scope=scope)
        encoding = "gzip" if _accepts_gzip(headers) else None
        etag = _etag(asset, encoding)
        response_headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag, "Vary": "Accept-Encoding"}
        if _not_modified(headers, etag):
            return Response(status_code=304, headers=response_headers)
        body = asset.body
        if encoding is not None:
            body = await anyio.to_thread.run_sync(_gzipped, asset.name)
            response_headers["Content-Encoding"] = encoding
        response_headers["X-Content-Type-Options"] = "nosniff"
        response_headers["Content-Length"] = str(len(body))
        return Response(
            b"" if method == "HEAD" else body, media_type=asset.media_type, headers=response_headers
        )
