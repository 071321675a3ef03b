"""FraiseQL: a GraphQL framework for PostgreSQL read models, database-first and CQRS.

Declare types with decorators, hand them to :func:`create_app` (or :class:`Schema`), and each
root query field is answered by one SQL statement against a ``tv_*`` read model.
"""

from fraiseql.app import create_app
from fraiseql.cache.policy import CachePolicy
from fraiseql.db.repository import QueryRepository
from fraiseql.execution.errors import FraiseQLError
from fraiseql.execution.idempotency import Idempotency
from fraiseql.execution.info import Info
from fraiseql.native import native_info
from fraiseql.schema.schema import Schema
from fraiseql.security.auth import AuthError, AuthInfo, auth_info
from fraiseql.security.claims import SessionSettings
from fraiseql.security.jwt_auth import JWTAuth
from fraiseql.security.limits import QueryLimits
from fraiseql.security.persisted import PersistedQueries
from fraiseql.subscriptions.connection import connection_params
from fraiseql.types.decorators import (
    enum,
    field,
    interface,
    mutation,
    query,
    subscription,
    union,
)
from fraiseql.types.decorators import input_ as input
from fraiseql.types.decorators import type_ as type
from fraiseql.types.generics import Aggregate, Connection, Edge, OrderBy, PageInfo, Where
from fraiseql.types.scalars import ScalarError, Upload, scalar
from fraiseql.types.search import Search, SearchInput
from fraiseql.uploads import UploadedFile, Uploads

__all__ = [
    "Aggregate",
    "AuthError",
    "AuthInfo",
    "CachePolicy",
    "Connection",
    "Edge",
    "FraiseQLError",
    "Idempotency",
    "Info",
    "JWTAuth",
    "OrderBy",
    "PageInfo",
    "PersistedQueries",
    "QueryLimits",
    "QueryRepository",
    "ScalarError",
    "Schema",
    "Search",
    "SearchInput",
    "SessionSettings",
    "Upload",
    "UploadedFile",
    "Uploads",
    "Where",
    "auth_info",
    "connection_params",
    "create_app",
    "enum",
    "field",
    "input",
    "interface",
    "mutation",
    "native_info",
    "query",
    "scalar",
    "subscription",
    "type",
    "union",
]
__version__ = "0.1.0"
