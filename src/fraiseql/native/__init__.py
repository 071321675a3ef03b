"""The response builder: a native C core (planned) and the pure-Python fallback.

``FRAISEQL_IMPL`` will choose between them the way psycopg chooses its implementation; until the
C core is built, the Python builder is the only one and :func:`native_info` says so.
"""

from __future__ import annotations

from fraiseql.native.builder import PYTHON_BUILDER, ResponseBuilder

IMPL_ENV = "FRAISEQL_IMPL"


def active_builder() -> ResponseBuilder:
    """The response builder this process uses."""
    return PYTHON_BUILDER


def native_info() -> dict[str, str]:
    """Which implementation of the response builder is active, and why."""
    return {
        "implementation": active_builder().name,
        "reason": "the C core is not built yet; the pure-Python builder is the only one",
    }


__all__ = ["IMPL_ENV", "active_builder", "native_info"]
