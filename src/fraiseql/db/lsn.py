"""PostgreSQL write-ahead log positions (``pg_lsn``) as integers, parsed strictly.

An LSN is written ``X/Y``: two hexadecimal numbers of at most 32 bits each, the high and low
halves of a 64-bit position in the log. Read-your-writes tokens carry one (see
:mod:`fraiseql.db.replicas`); they come from clients, so parsing accepts nothing else.
"""

from __future__ import annotations

import re

_LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")


class LsnError(ValueError):
    """A text that is not a PostgreSQL LSN."""


def parse_lsn(text: str) -> int:
    """The position ``text`` (``16/B374D848``) names, as an integer; ``LsnError`` otherwise."""
    match = _LSN.fullmatch(text.strip()) if len(text) <= 40 else None
    if match is None:
        raise LsnError(
            "expected a PostgreSQL log position such as 0/16B3748 (two hexadecimal numbers)"
        )
    return (int(match[1], 16) << 32) | int(match[2], 16)


def format_lsn(position: int) -> str:
    """``position`` written as PostgreSQL writes a ``pg_lsn`` (upper-case hexadecimal)."""
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"
