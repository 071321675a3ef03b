"""The errors of a response, bounded in length, number and size.

Error messages echo what the client sent (field, argument, type, fragment, variable, operation and
directive names, literal and variable values), so the errors of a response are bounded before they
are serialized (:func:`bound_errors`, applied by ``RequestError`` and by the executor to the
field errors of a response; transport errors shorten their message with :func:`shorten_message`):

- every run of more than :data:`MAX_NAME_LENGTH` characters without a space or a quote in a message
  keeps its first :data:`MAX_NAME_LENGTH` characters, followed by ``…``; then a message longer than
  :data:`MAX_MESSAGE_LENGTH` characters keeps its first :data:`MAX_MESSAGE_LENGTH`, followed by
  ``…``. Shorter messages are unchanged, byte for byte;
- a response carries at most :data:`MAX_ERRORS` errors, whose JSON array is at most
  :data:`MAX_ERRORS_BYTES` bytes. When more would be sent, the ones that fit are kept (in order)
  and a last error with the code ``TOO_MANY_ERRORS`` tells how many were left out. graphql-core's
  validation is asked to stop one error short (``max_errors=MAX_ERRORS - 1``): its own "Validation
  aborted" error is then the last one.

This module imports nothing of FraiseQL, so every layer (transports, outcome) can use it.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

MAX_NAME_LENGTH = 100
"""Longest run of characters without a space or a quote kept in an error message."""

MAX_MESSAGE_LENGTH = 1000
"""Longest error message, in characters (after long runs are shortened), ``…`` not counted."""

MAX_ERRORS = 100
"""Most errors in one response, the ``TOO_MANY_ERRORS`` entry included."""

MAX_ERRORS_BYTES = 64 * 1024
"""Largest serialized ``errors`` array of one response, in bytes, the last entry included."""

ELLIPSIS = "\u2026"
"""Appended where a message was shortened."""

TOO_MANY_ERRORS = "TOO_MANY_ERRORS"
"""The code of the last error of a response whose other errors did not all fit."""

# A run starts after a separator (the lookbehind), so matching is linear in the message length.
_LONG_RUN = re.compile(rf"(?<![^\s'\"`])[^\s'\"`]{{{MAX_NAME_LENGTH + 1},}}")

_OMITTED_RESERVE = 256
"""Bytes kept free for the ``TOO_MANY_ERRORS`` entry (it serializes to less than 200)."""


def _cut_run(match: re.Match[str]) -> str:
    return match.group()[:MAX_NAME_LENGTH] + ELLIPSIS


def shorten_message(message: str) -> str:
    """``message`` with its long runs and its length bounded (see the module docstring)."""
    if len(message) <= MAX_NAME_LENGTH:
        return message
    if _LONG_RUN.search(message) is not None:
        message = _LONG_RUN.sub(_cut_run, message)
    if len(message) > MAX_MESSAGE_LENGTH:
        return message[:MAX_MESSAGE_LENGTH] + ELLIPSIS
    return message


def _shortened(error: dict[str, Any]) -> dict[str, Any]:
    message = error.get("message")
    if not isinstance(message, str):
        return error
    shortened = shorten_message(message)
    if shortened is message:
        return error
    return {**error, "message": shortened}


def _omitted(count: int) -> dict[str, Any]:
    more = "1 more error was" if count == 1 else f"{count} more errors were"
    return {
        "message": f"{more} left out: a response carries at most {MAX_ERRORS} errors "
        f"in {MAX_ERRORS_BYTES // 1024} KiB.",
        "extensions": {"code": TOO_MANY_ERRORS, "omitted": count},
    }


def bound_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``errors`` with their messages shortened, their number and serialized size bounded.

    The rule is the module docstring's. It is idempotent, and returns ``errors`` itself when
    nothing had to change (the common case: one ``orjson.dumps`` of the list to measure it).
    """
    if not errors:
        return errors
    shortened = [_shortened(error) for error in errors[:MAX_ERRORS]]
    if len(errors) <= MAX_ERRORS and len(orjson.dumps(shortened)) <= MAX_ERRORS_BYTES:
        changed = any(new is not old for new, old in zip(shortened, errors, strict=False))
        return shortened if changed else errors
    kept: list[dict[str, Any]] = []
    size = 1  # the opening bracket; each entry adds its length and a comma or closing bracket
    budget = MAX_ERRORS_BYTES - _OMITTED_RESERVE
    for error in shortened[: MAX_ERRORS - 1]:
        size += len(orjson.dumps(error)) + 1
        if size > budget:
            break
        kept.append(error)
    kept.append(_omitted(len(errors) - len(kept)))
    return kept
