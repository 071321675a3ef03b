"""The GraphiQL page served to browsers at the GraphQL endpoint, and the files it loads.

GraphiQL, React and ReactDOM are pinned releases checked into ``static/vendor/`` (where
``README.md`` gives the origin and license of each file). In the default mode, ``"local"``
(``graphiql=True``), the page loads them from the endpoint itself, under
``<path>/_graphiql/`` (see :mod:`fraiseql.asgi.graphiql_assets`), so it works offline, behind
a proxy that blocks CDNs, and under a Content-Security-Policy that allows scripts and styles
from the page's own origin only (the page has no inline script or style). In the
``"cdn"`` mode it loads the same files from jsDelivr. Either way their tags carry the
Subresource Integrity hashes pinned here, so the browser refuses an altered file. The page's own
script and style sheet (``static/graphiql.js``, ``static/graphiql.css``) are always served by
the endpoint, under names that carry their content hash, with the hash of what is served.

The page refers to the files by URLs relative to the endpoint's path, so it works under any
prefix (a mounted app, a FastAPI router included with ``prefix=``). Until GraphiQL renders,
the page shows a message: if the files cannot be loaded, it stays, says so, and says that the
endpoint still answers POST requests.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from html import escape
from importlib.resources import files
from string import Template
from typing import Literal
from urllib.parse import quote

GRAPHIQL_VERSION = "3.8.3"
REACT_VERSION = "18.3.1"

GraphiQLMode = Literal["local", "cdn"]
"""Where the page loads GraphiQL, React and ReactDOM from: the endpoint itself, or jsDelivr."""

GraphiQLOption = bool | GraphiQLMode
"""The ``graphiql=`` option: ``True`` (the same as ``"local"``), ``"local"``, ``"cdn"`` or
``False`` (no page)."""

ASSETS_SEGMENT = "_graphiql"
"""The path segment, under the GraphQL path, of the page's files."""

CDN = "https://cdn.jsdelivr.net/npm"


@dataclass(frozen=True, slots=True)
class VendorFile:
    """One pinned file of an npm release, checked into ``static/vendor/``."""

    name: str
    """Its URL name under ``<path>/_graphiql/``; it carries the version, so it never changes."""
    package: str
    version: str
    path: str
    """Its path inside the npm package (and on jsDelivr)."""
    integrity: str
    """The Subresource Integrity hash, the same for the checked-in copy and jsDelivr's."""

    @property
    def resource(self) -> str:
        """Its path under ``fraiseql/asgi/static/``."""
        return f"vendor/{self.package}/{self.path.rsplit('/', 1)[-1]}"

    @property
    def cdn_url(self) -> str:
        """Where jsDelivr serves the same bytes."""
        return f"{CDN}/{self.package}@{self.version}/{self.path}"


VENDOR_FILES = (
    VendorFile(
        "graphiql-3.8.3.min.css",
        "graphiql",
        GRAPHIQL_VERSION,
        "graphiql.min.css",
        "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    ),
    VendorFile(
        "react-18.3.1.production.min.js",
        "react",
        REACT_VERSION,
        "umd/react.production.min.js",
        "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
    ),
    VendorFile(
        "react-dom-18.3.1.production.min.js",
        "react-dom",
        REACT_VERSION,
        "umd/react-dom.production.min.js",
        "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
    ),
    VendorFile(
        "graphiql-3.8.3.min.js",
        "graphiql",
        GRAPHIQL_VERSION,
        "graphiql.min.js",
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
)
"""The style sheet, then the scripts in the order they must run."""

OWN_FILES = ("graphiql.css", "graphiql.js")
"""FraiseQL's own style sheet and the script that renders GraphiQL, under ``static/``."""

MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class Asset:
    """A file the page loads, as the endpoint serves it."""

    name: str
    body: bytes
    media_type: str
    integrity: str


def sri_hash(body: bytes) -> str:
    """The ``sha384-…`` Subresource Integrity value of ``body``."""
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode("ascii")


def _read(resource: str) -> bytes:
    return files("fraiseql.asgi").joinpath("static", *resource.split("/")).read_bytes()


def _media_type(name: str) -> str:
    return MEDIA_TYPES["." + name.rsplit(".", 1)[-1]]


@cache
def own_assets() -> tuple[Asset, Asset]:
    """FraiseQL's style sheet and script, named by a hash of their content."""
    css, js = (_own_asset(resource) for resource in OWN_FILES)
    return css, js


def _own_asset(resource: str) -> Asset:
    body = _read(resource)
    stem, extension = resource.rsplit(".", 1)
    name = f"fraiseql-{stem}.{hashlib.sha256(body).hexdigest()[:16]}.{extension}"
    return Asset(name, body, _media_type(name), sri_hash(body))


@cache
def assets() -> Mapping[str, Asset]:
    """Every file served under ``<path>/_graphiql/``, by URL name; read once."""
    served = [
        Asset(vendor.name, _read(vendor.resource), _media_type(vendor.name), vendor.integrity)
        for vendor in VENDOR_FILES
    ]
    return {asset.name: asset for asset in (*served, *own_assets())}


def graphiql_mode(option: GraphiQLOption) -> GraphiQLMode | None:
    """The mode a ``graphiql=`` option asks for; ``None`` when the page is off."""
    if option is True or option == "local":
        return "local"
    if option == "cdn":
        return "cdn"
    if option is False:
        return None
    raise ValueError(f"graphiql must be True, False, 'local' or 'cdn', not {option!r}")


def assets_base(path: str) -> str:
    """The URL of the page's files relative to the page at ``path`` (the request's path).

    The page at ``/api/graphql`` loads ``./graphql/_graphiql/<name>``, which the browser
    resolves against its own address, whatever prefix a proxy or a mount added before it.
    """
    last = path.rsplit("/", 1)[-1]
    return f"./{quote(last, safe='')}/{ASSETS_SEGMENT}/" if last else f"./{ASSETS_SEGMENT}/"


def graphiql_page(mode: GraphiQLMode, path: str) -> bytes:
    """The GraphiQL page for a request to ``path``, in ``mode``."""
    return _page(mode, assets_base(path))


@lru_cache(maxsize=64)
def _page(mode: GraphiQLMode, base: str) -> bytes:
    css, js = own_assets()

    def url(name: str) -> str:
        return escape(base + name)

    def vendor_url(vendor: VendorFile) -> str:
        return vendor.cdn_url if mode == "cdn" else url(vendor.name)

    stylesheets = [(vendor_url(VENDOR_FILES[0]), VENDOR_FILES[0].integrity)]
    stylesheets.append((url(css.name), css.integrity))
    scripts = [(vendor_url(vendor), vendor.integrity) for vendor in VENDOR_FILES[1:]]
    scripts.append((url(js.name), js.integrity))
    tags = [
        f'<link rel="stylesheet" href="{href}" integrity="{sri}" crossorigin="anonymous" />'
        for href, sri in stylesheets
    ]
    tags.extend(
        f'<script defer src="{src}" integrity="{sri}" crossorigin="anonymous"></script>'
        for src, sri in scripts
    )
    source = "from cdn.jsdelivr.net" if mode == "cdn" else "from this server"
    template = Template(_read("graphiql.html").decode("utf-8"))
    html = template.substitute(tags="\n    ".join(tags), source=source)
    return html.encode("utf-8")
