"""Reading the JSON a client sent: a 400 that says what is wrong, and repeated keys refused.

:func:`loads` decodes with orjson and turns a failure into a short, stable sentence: the kind of
problem (invalid UTF-8, ``NaN`` or ``Infinity``, a number out of range, nesting deeper than
orjson's limit of 1024 levels, an empty document) and where it is, or for the other syntax errors
orjson's own description, which is a fixed text. The input itself is never echoed.

:func:`repeated_key` finds a key repeated by a request object. orjson, like most decoders, keeps
the last of two equal keys, while a proxy or firewall in front of the server may read the first:
two readers of the same body would then see two different requests. The check only has to run
when :func:`may_repeat`, a few substring counts, says that a repetition is possible.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any

import orjson

from fraiseql.asgi.errors import TransportError, bad_request

NESTING_LIMIT = 1024
"""orjson's limit on nested arrays and objects (it refuses the 1025th level)."""

_MAX_REASON_LENGTH = 120
_NON_NUMBERS = ("NaN", "Infinity", "-Infinity", "-NaN")


def loads(data: bytes | str, subject: str) -> Any:
    """``orjson.loads(data)``; a 400 naming ``subject`` ("The request body") when it fails."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise decode_error(error, data, subject) from None


def decode_error(error: orjson.JSONDecodeError, data: bytes | str, subject: str) -> TransportError:
    """The 400 for ``error``, raised by orjson while decoding ``data`` (``subject``)."""
    return bad_request(f"{subject} {describe(error, data)}.")


def describe(error: orjson.JSONDecodeError, data: bytes | str) -> str:
    """What is wrong with ``data``, as the end of a sentence that starts with its subject.

    orjson's positions count characters; its line and column are 1-based.
    """
    message = error.msg
    if "not valid UTF-8" in message:
        return _describe_utf8(data)
    if message.startswith(("Input is a zero-length", "input data is empty")):
        return "is empty: it holds no JSON value"
    if "failed to allocate memory" in message:  # orjson's word for some unbalanced inputs
        return "is not valid JSON: its arrays or objects are not properly closed"
    at = f"(line {error.lineno}, column {error.colno})"
    if "infinity when parsed as double" in message:
        return f"is not valid JSON: a number is out of range {at}"
    if "depth limit" in message or "recursion limit" in message:
        return f"is not valid JSON: nesting is too deep, the limit is {NESTING_LIMIT} levels {at}"
    if message.startswith(("unexpected character", "no digit after sign")) and _non_number_at(
        data, error.pos
    ):
        return f"is not valid JSON: NaN and Infinity are not JSON numbers {at}"
    reason = message[:_MAX_REASON_LENGTH].rstrip(" .")
    return f"is not valid JSON: {reason} {at}"


def _describe_utf8(data: bytes | str) -> str:
    if isinstance(data, bytes):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            return f"is not valid UTF-8 (at byte offset {error.start})"
    return "is not valid UTF-8"


def _non_number_at(data: bytes | str, pos: int) -> bool:
    """Whether ``NaN`` or ``Infinity`` (maybe signed) starts at or just before ``pos``."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    start = max(pos - 1, 0)
    window = text[start : pos + len("Infinity")]
    return window.startswith(_NON_NUMBERS) or window[1:].startswith(_NON_NUMBERS)


def quoted(keys: Collection[str]) -> tuple[bytes, ...]:
    """``keys`` as JSON strings, the argument of :func:`may_repeat`."""
    return tuple(b'"%s"' % key.encode() for key in keys)


def may_repeat(body: bytes, quoted_keys: tuple[bytes, ...]) -> bool:
    r"""Whether an object of ``body``, valid JSON, may hold one of the ``quoted_keys`` twice.

    False is sound when the keys are made of ASCII letters, digits and underscores: a key
    written twice without escapes puts ``"key"`` twice in the bytes, and a key written with
    escapes needs a ``\u00XX`` escape, the only kind that stands for such a character. True
    means "look closer" (:func:`repeated_key`): ``"key"`` may also be a string value or the key
    of a nested object. Costs a substring search and one ``bytes.count`` per key.
    """
    if b"\\u00" in body:
        return True
    for key in quoted_keys:  # noqa: SIM110 - a third faster than any() on the hot path
        if body.count(key) > 1:
            return True
    return False


def repeated_key(body: bytes, keys: Collection[str], *, batch: bool) -> tuple[int, str] | None:
    r"""The first of ``keys`` that a request object of ``body`` repeats, with the object's index.

    ``body`` is valid JSON (orjson decoded it): one object, or with ``batch`` an array of objects
    (the members). Only the keys of those objects count: the same key in a nested object (inside
    ``variables``) or as a string value is no repetition. Keys are compared once decoded, so
    ``"qu\u0065ry"`` is ``"query"``. "First" is in the order of the body.

    The standard library's C decoder, which can hand over an object's pairs before they become a
    dict, does the work. It recurses, so a body nested deeper than the interpreter's recursion
    limit (which orjson's 1024 levels can pass) is scanned by :func:`_scan_repeated_key` instead.
    """
    try:
        decoded = _PAIRS.decode(body.decode())
    except (RecursionError, ValueError):
        return _scan_repeated_key(body, keys, batch=batch)
    members: list[list[tuple[str, Any]]] = decoded if batch else [decoded]
    for index, pairs in enumerate(members):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in keys:
                if name in seen:
                    return index, name
                seen.add(name)
    return None


_PAIRS = json.JSONDecoder(object_pairs_hook=list)
"""Decodes every JSON object as the list of its ``(key, value)`` pairs, repeats included."""

# A JSON string, with the colon that makes it a key (group 2), or an opening or closing bracket,
# after what is neither. The input is valid JSON, so a string is a quote, bytes other than quotes
# and backslashes or escape sequences, and a quote.
_TOKEN = re.compile(
    rb'[^"\[\]{}]*+(?:("[^"\\]*+(?:\\.[^"\\]*+)*+")(\s*+:)?|([\[{])|[\]}])', re.DOTALL
)
_STRING, _KEY, _OPEN = 1, 2, 3


def _scan_repeated_key(
    body: bytes, keys: Collection[str], *, batch: bool
) -> tuple[int, str] | None:
    """:func:`repeated_key` by an iterative scan of the tokens, for any nesting."""
    member_depth = 2 if batch else 1
    depth = 0
    member = -1
    seen: set[str] = set()
    for match in _TOKEN.finditer(body):
        kind = match.lastindex
        if kind == _KEY:
            if depth != member_depth:
                continue
            raw = match.group(_STRING)
            name: str = json.loads(raw) if b"\\" in raw else raw[1:-1].decode()
            if name in keys:
                if name in seen:
                    return member, name
                seen.add(name)
        elif kind == _OPEN:
            depth += 1
            if depth == member_depth:
                member += 1
                seen.clear()
        elif kind != _STRING:
            depth -= 1
    return None
