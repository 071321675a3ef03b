"""Small helpers that write TypeScript text: TSDoc comments, string literals, indentation."""

from __future__ import annotations

import json

INDENT = "  "


def string_literal(value: str) -> str:
    """A TypeScript string literal (JSON's escaping is valid TypeScript)."""
    return json.dumps(value, ensure_ascii=False)


def tsdoc(description: str | None, deprecation: str | None = None, indent: str = "") -> list[str]:
    """The lines of a ``/** ... */`` comment (none when there is nothing to say).

    ``deprecation`` becomes an ``@deprecated`` tag, which editors show struck through.
    """
    body: list[str] = []
    if description:
        body.extend(description.replace("*/", "*\\/").splitlines())
    if deprecation is not None:
        reason = deprecation.replace("*/", "*\\/").strip() or "No longer supported."
        body.append(f"@deprecated {reason}")
    while body and not body[-1].strip():
        body.pop()
    if not body:
        return []
    if len(body) == 1:
        return [f"{indent}/** {body[0]} */"]
    lines = [f"{indent}/**"]
    lines.extend(f"{indent} * {line}".rstrip() for line in body)
    lines.append(f"{indent} */")
    return lines


def nullable(ts_type: str) -> str:
    """``T | null``, with parentheses where precedence needs them."""
    return f"{ts_type} | null"


def pascal_case(name: str) -> str:
    """``postsByAuthor`` -> ``PostsByAuthor`` (the rest of the name is kept)."""
    return name[:1].upper() + name[1:]
