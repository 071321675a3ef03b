"""Lay out generated Python the way ``ruff format`` does, so generated projects stay lint clean.

Only the shapes the generators write: a call or signature that fits on one line stays on it;
else its items go on one indented line; else one per line with a trailing comma (which keeps
``ruff format`` from joining them again).
"""

from __future__ import annotations

from collections.abc import Sequence

LINE_LENGTH = 100
"""The line length of a generated project (its ``[tool.ruff]``)."""


def bracketed(
    head: str, items: Sequence[str], tail: str, indent: str = "", *, hug: bool = True
) -> str:
    """``head`` + items joined by commas + ``tail``, split over lines when too long.

    ``head`` ends with the opening bracket and ``tail`` starts with the closing one
    (``"def f("``, ``") -> int:"``). The result has no final newline. ``hug`` (calls and
    signatures) first tries the items together on one indented line; collection literals and
    imports go one per line straight away.
    """
    one_line = f"{indent}{head}{', '.join(items)}{tail}"
    if len(one_line) <= LINE_LENGTH:
        return one_line
    inner = indent + "    "
    hugged = f"{inner}{', '.join(items)}"
    if hug and len(hugged) <= LINE_LENGTH:
        return f"{indent}{head}\n{hugged}\n{indent}{tail}"
    lines = "".join(f"{inner}{item},\n" for item in items)
    return f"{indent}{head}\n{lines}{indent}{tail}"


def exploded(head: str, items: Sequence[str], tail: str, indent: str = "") -> str:
    """One item per line with a trailing comma, whatever the length (stable under ruff)."""
    inner = indent + "    "
    lines = "".join(f"{inner}{item},\n" for item in items)
    return f"{indent}{head}\n{lines}{indent}{tail}"


def literal(value: object, indent: str = "") -> str:
    """A Python literal of JSON-like ``value``: dicts exploded one key per line."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{literal(key)}: {literal(item, indent + '    ')}" for key, item in value.items()]
        return exploded("{", items, "}", indent).removeprefix(indent)
    if isinstance(value, list):
        return "[" + ", ".join(literal(item, indent) for item in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def docstring(text: str, indent: str = "") -> str:
    """A docstring of ``text`` (paragraphs split by blank lines), wrapped to the line length."""
    import textwrap

    one_line = f'{indent}"""{text}"""'
    if "\n" not in text and len(one_line) <= LINE_LENGTH:
        return one_line
    paragraphs = [
        textwrap.fill(
            " ".join(paragraph.split()),
            LINE_LENGTH - 6,  # room for both quotes, should it come out as one line
            initial_indent=indent,
            subsequent_indent=indent,
            break_on_hyphens=False,
            break_long_words=False,
        )
        for paragraph in text.split("\n\n")
    ]
    body = "\n\n".join(paragraphs)
    return f'{indent}"""{body.removeprefix(indent)}\n{indent}"""'


def import_names(names: set[str]) -> list[str]:
    """Names sorted as ruff's isort sorts them: constants, then classes, then the others."""
    return sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[:1].isupper() else 2, n))


def import_line(module: str, names: set[str]) -> str:
    """``from module import names``, one name per line in parentheses when too long."""
    ordered = import_names(names)
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= LINE_LENGTH:
        return line
    return exploded(f"from {module} import (", ordered, ")")
