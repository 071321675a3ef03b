"""snake_case ↔ camelCase, decided once when a schema is built."""

from __future__ import annotations

import re

_WORD_BOUNDARY = re.compile(r"_+([a-z0-9])")


def to_camel_case(name: str) -> str:
    """Return the GraphQL name for a Python name: ``created_at`` → ``createdAt``.

    Leading underscores are kept (``_internal`` stays ``_internal``); names that are already
    camelCase pass through unchanged.
    """
    stripped = name.lstrip("_")
    prefix = name[: len(name) - len(stripped)]
    return prefix + _WORD_BOUNDARY.sub(lambda m: m.group(1).upper(), stripped)


def to_pascal_case(name: str) -> str:
    """Return a type-style name: ``blog_post`` → ``BlogPost``."""
    camel = to_camel_case(name)
    return camel[:1].upper() + camel[1:]
