"""The canonical JSON output of values whose format both builders must agree on.

orjson writes strings, integers and containers in the one compact form the C core copies; for
floats FraiseQL writes Python's ``repr`` (shortest round-trip digits) on its own, so the output
does not depend on how an orjson version formats them. Both functions return
``orjson.Fragment`` objects: pre-serialized JSON that ``orjson.dumps`` inserts as is.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from fraiseql.types.scalars import ScalarError, _serialize_float


def float_output(value: Any) -> orjson.Fragment:
    """A ``Float`` field: the scalar's value written as ``repr(float)``."""
    return orjson.Fragment(repr(_serialize_float(value)).encode())


def _encode(value: Any) -> bytes:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ScalarError(f"JSON cannot represent a non-finite number: {value!r}")
        return repr(value).encode()
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise ScalarError(f"JSON object keys must be strings, got {key!r}")
            parts.append(orjson.dumps(key) + b":" + _encode(item))
        return b"{" + b",".join(parts) + b"}"
    if isinstance(value, list | tuple):
        return b"[" + b",".join(_encode(item) for item in value) + b"]"
    try:
        return orjson.dumps(value)
    except TypeError as exc:
        raise ScalarError(f"JSON cannot represent value: {exc}") from None


def json_output(value: Any) -> orjson.Fragment:
    """A ``JSON`` field: the value re-written canonically (floats as ``repr``)."""
    return orjson.Fragment(_encode(value))


OUTPUT_FORMATS = {"Float": float_output, "JSON": json_output}
"""Scalars whose response bytes FraiseQL writes itself, by GraphQL name."""
