"""The fenced code blocks of the documentation, with the test marker written before each.

A block is tested the way the HTML comment on the line before its fence says (blank lines
between them are allowed)::

    <!-- docs-test: check -->
    ```python

Python blocks: ``execute`` (the default: the page's blocks run in order in one module, so a
block may use what an earlier one defined) or ``check`` (for fragments that need a server or
names the page leaves out: the block compiles, its imports import, every attribute it reads
from an imported module exists, and every call of an imported callable passes only keywords
its signature accepts). ``execute output`` also compares what the block prints with the next
block of the page.

SQL blocks are run against PostgreSQL (``tests/docs/test_sql_blocks.py`` lists the options:
``db=blog``, ``setup=...``, ``wrap=plpgsql``, ``expect=SQLSTATE``, ``excerpt=PATH``...).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,})(?P<info>[^`]*)$")
_MARKER = re.compile(r"^\s*<!--\s*docs-test:(?P<body>.*?)-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its text and its marker."""

    path: Path
    line: int
    language: str
    text: str
    mode: str | None
    options: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """``docs/page.md:LINE``, for messages and test ids."""
        path = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path
        return f"{path}:{self.line}"


def _marker(lines: list[str], fence_index: int) -> tuple[str | None, dict[str, str]]:
    index = fence_index - 1
    while index >= 0 and not lines[index].strip():
        index -= 1
    if index < 0:
        return None, {}
    match = _MARKER.match(lines[index])
    if match is None:
        return None, {}
    words = shlex.split(match.group("body"))
    if not words:
        raise ValueError(f"empty docs-test marker before line {fence_index + 1}")
    options: dict[str, str] = {}
    for word in words[1:]:
        key, _, value = word.partition("=")
        options[key] = value
    return words[0], options


def page_blocks(path: Path) -> list[Block]:
    """The fenced blocks of one Markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        fence, indent = match.group("fence"), len(match.group("indent"))
        language = match.group("info").strip().split(" ")[0]
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        if end == len(lines):
            raise ValueError(f"{path}:{index + 1}: unclosed code block")
        text = "\n".join(line[indent:] for line in lines[index + 1 : end])
        mode, options = _marker(lines, index)
        blocks.append(Block(path, index + 1, language, text + "\n", mode, options))
        index = end + 1
    return blocks


def doc_pages() -> list[Path]:
    """Every Markdown page of the site, sorted."""
    return sorted(p for p in DOCS.rglob("*.md") if "_hooks" not in p.parts)


def blocks(language: str) -> list[Block]:
    """Every block of ``language`` in the documentation."""
    return [b for page in doc_pages() for b in page_blocks(page) if b.language == language]
