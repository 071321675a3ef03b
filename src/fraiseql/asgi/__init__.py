"""HTTP transport for FraiseQL: the GraphQL-over-HTTP handler, CORS and the Starlette app."""

from fraiseql.asgi.app import build_asgi_app
from fraiseql.asgi.cors import CORSConfig, with_cors
from fraiseql.asgi.http import GraphQLHTTPHandler

__all__ = ["CORSConfig", "GraphQLHTTPHandler", "build_asgi_app", "with_cors"]
