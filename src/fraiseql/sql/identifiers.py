"""Quoting of names that come from schema metadata, and the bind-parameter collector.

User input never becomes SQL text: it is always added as a bind parameter through
:class:`Parameters`. Names (tables, columns, JSON keys) come from declarations and are quoted.
"""

from __future__ import annotations

from typing import Any


def quote_identifier(name: str) -> str:
    """Quote one SQL identifier (``tv_post`` → ``"tv_post"``)."""
    if not name or "\x00" in name:
        raise ValueError(f"invalid SQL identifier {name!r}")
    return '"' + name.replace('"', '""') + '"'


def quote_qualified(name: str) -> str:
    """Quote a possibly schema-qualified name (``blog.tv_post`` → ``"blog"."tv_post"``)."""
    return ".".join(quote_identifier(part) for part in name.split("."))


def quote_literal(text: str) -> str:
    """Quote a string constant from metadata (JSON keys); never used for user values."""
    if "\x00" in text:
        raise ValueError(f"invalid SQL literal {text!r}")
    return "'" + text.replace("'", "''") + "'"


class Parameters:
    """Collects bind parameters and hands out their ``$n`` placeholders."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, value: Any) -> str:
        """Add ``value`` and return its placeholder."""
        self.values.append(value)
        return f"${len(self.values)}"

    def text(self, value: str) -> str:
        """Add a text value: ``$n::text``, to be cast by the caller."""
        return f"{self.add(value)}::text"

    def text_array(self, values: list[str]) -> str:
        """Add a list of text values: ``$n::text[]``."""
        return f"{self.add(values)}::text[]"
