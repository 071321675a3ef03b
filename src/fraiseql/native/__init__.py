"""The response builder: the native C core, or the pure-Python fallback.

The implementation is chosen once, at import, the way psycopg chooses its own:
``FRAISEQL_IMPL=c`` requires the C extension (and fails with the reason when it cannot load),
``FRAISEQL_IMPL=python`` uses the fallback, and by default the C core is used when it loads,
else the fallback with one warning. Both produce the same bytes.
"""

from __future__ import annotations

import os
import warnings

from fraiseql.native.builder import PYTHON_BUILDER, ResponseBuilder

IMPL_ENV = "FRAISEQL_IMPL"


def _select() -> tuple[ResponseBuilder, str]:
    requested = os.environ.get(IMPL_ENV, "").strip().lower()
    if requested not in ("", "c", "python"):
        raise ImportError(f"{IMPL_ENV} must be 'c' or 'python', not {requested!r}")
    if requested == "python":
        return PYTHON_BUILDER, f"{IMPL_ENV}=python"
    try:
        from fraiseql import _native
    except ImportError as exc:
        if requested == "c":
            raise ImportError(
                f"{IMPL_ENV}=c, but the C extension fraiseql._native cannot be loaded: {exc}"
            ) from exc
        reason = f"the C extension could not be loaded ({exc})"
        warnings.warn(
            f"fraiseql: {reason}; using the pure-Python response builder",
            RuntimeWarning,
            stacklevel=2,
        )
        return PYTHON_BUILDER, reason
    from fraiseql.native.c_builder import CResponseBuilder

    reason = f"{IMPL_ENV}=c" if requested == "c" else "the C extension loaded"
    return CResponseBuilder(_native), reason


_BUILDER, _REASON = _select()


def active_builder() -> ResponseBuilder:
    """The response builder this process uses."""
    return _BUILDER


def native_info() -> dict[str, str]:
    """Which implementation of the response builder is active, and why."""
    return {"implementation": _BUILDER.name, "reason": _REASON}


__all__ = ["IMPL_ENV", "active_builder", "native_info"]
