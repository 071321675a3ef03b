"""MkDocs hook: links from a page to repository files outside ``docs/``.

Pages link to files such as ``../../bench/README.md`` so that they work when read on a Git
host; the site holds only ``docs/``, so such a link is rendered as the file's path in code
(``bench/README.md``) instead of a dead link. ``tests/docs/test_links.py`` checks that the
file and its anchor exist.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

_LINK = re.compile(r"\[([^\]]+)\]\(((?:\.\./)+[^)#\s]+)(#[^)\s]*)?\)")


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """Replace links that leave the documentation directory by the file's path."""
    page_dir = posixpath.dirname(page.file.src_uri)

    def replace(match: re.Match[str]) -> str:
        target = posixpath.normpath(posixpath.join("docs", page_dir, match.group(2)))
        if target.startswith("docs/"):
            return match.group(0)
        return f"{match.group(1)} (`{target}`)"

    return _LINK.sub(replace, markdown)
