"""Typed stubs of the C extension (see src/fraiseql/native/_native.c)."""

from collections.abc import Sequence
from typing import Any, final

MAX_DEPTH: int

@final
class Plan:
    """A compiled projection plan of one root field."""

def compile_plan(description: tuple[Any, ...], /) -> Plan: ...
def render_one(plan: Plan, text: str | bytes | None, /) -> bytes | None: ...
def render_rows(plan: Plan, rows: Sequence[str | bytes | None], /) -> bytes | None: ...
def render_edges(
    fields: tuple[tuple[bytes, int, Any], ...],
    texts: list[str | bytes],
    keys: list[list[str | None]],
    cursor_prefix: bytes,
    /,
) -> bytes | None: ...
