"""Opaque Relay cursors: the ordering keys of a row, tied to the ordering they came from."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence

import orjson

from fraiseql.execution.errors import FraiseQLError

_VERSION = "1"


class CursorError(FraiseQLError):
    """A cursor that was not made by this server for this ordering."""

    def __init__(self, message: str = "Invalid cursor") -> None:
        super().__init__(message, code="BAD_USER_INPUT")


def ordering_signature(labels: Sequence[str]) -> str:
    """A short fingerprint of an ordering, stored in its cursors."""
    digest = hashlib.blake2s("\x1f".join(labels).encode(), digest_size=6).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def encode_cursor(signature: str, values: Sequence[str | None]) -> str:
    """The cursor of a row whose ordering keys (as text) are ``values``."""
    payload = orjson.dumps([_VERSION, signature, list(values)])
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def cursor_prefix(signature: str) -> bytes:
    """The bytes every cursor payload of ``signature`` starts with: ``["1","<signature>",[``.

    The C core writes the rest (the key values as JSON, then ``]]``) and encodes the payload as
    :func:`encode_cursor` does.
    """
    return orjson.dumps([_VERSION, signature, []])[:-2]


def decode_cursor(cursor: str, signature: str, size: int) -> list[str | None]:
    """The key values in ``cursor``; :class:`CursorError` unless it matches the ordering."""
    if len(cursor) > 4096:
        raise CursorError("Invalid cursor: too long")
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise CursorError from None
    if not isinstance(payload, list) or len(payload) != 3 or payload[0] != _VERSION:
        raise CursorError
    if payload[1] != signature:
        raise CursorError("Invalid cursor: it belongs to another ordering")
    values = payload[2]
    if (
        not isinstance(values, list)
        or len(values) != size
        or not all(v is None or isinstance(v, str) for v in values)
    ):
        raise CursorError
    return list(payload[2])
