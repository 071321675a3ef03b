"""The site builds with ``mkdocs build --strict``, and every internal link resolves.

Links are checked in every page of docs/ and in README.md: the target file must exist, and an
anchor must name a heading (or an API entry) of the built page, or, for a Markdown file
outside docs/, one of its headings. Repository paths written as code (``examples/blog/...``)
must exist too.
"""

from __future__ import annotations

import html.parser
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from markdown.extensions.toc import slugify
from tests.docs.blocks import DOCS, ROOT, doc_pages

_LINK = re.compile(
    r"(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\((?P<target><[^>]+>|[^)\s]+)(?:\s+\"[^\"]*\")?\)"
)
_CODE_PATH = re.compile(r"`(?P<path>(?:src|examples|tests|bench|deploy|docs|scripts)/[^`\s]+)`")
_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$")


class _Ids(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once with --strict into a temporary directory."""
    target = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return target


def _prose(text: str) -> str:
    """The text without fenced code blocks (their links are not links)."""
    return re.sub(r"^( *)(`{3,}).*?^\1\2\s*$", "", text, flags=re.S | re.M)


def _built_page(site: Path, page: Path) -> Path:
    relative = page.relative_to(DOCS).with_suffix("")
    if relative.name in ("index", "README"):
        return site / relative.parent / "index.html"
    return site / relative / "index.html"


def _anchors(site: Path, page: Path) -> set[str]:
    if page.is_relative_to(DOCS) and page.suffix == ".md":
        parser = _Ids()
        parser.feed(_built_page(site, page).read_text(encoding="utf-8"))
        return parser.ids
    if page.suffix == ".md":
        titles = (
            _HEADING.match(line) for line in _prose(page.read_text(encoding="utf-8")).splitlines()
        )
        return {slugify(re.sub(r"[`*]", "", m.group("title")), "-") for m in titles if m}
    return set()


def _sources() -> list[Path]:
    return [*doc_pages(), ROOT / "README.md"]


def test_site_builds_strict(site: Path) -> None:
    assert (site / "index.html").is_file()
    assert (site / "api" / "CLI" / "index.html").read_text().count("fraiseql migrate") > 0


@pytest.mark.parametrize("source", _sources(), ids=[str(p.relative_to(ROOT)) for p in _sources()])
def test_links_resolve(source: Path, site: Path) -> None:
    problems = []
    for match in _LINK.finditer(_prose(source.read_text(encoding="utf-8"))):
        target = match.group("target").strip("<>")
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue
        path_part, _, anchor = target.partition("#")
        path = (source.parent / path_part).resolve() if path_part else source
        if not path.exists():
            problems.append(f"{target}: no such file")
            continue
        if anchor and anchor not in _anchors(site, path):
            problems.append(f"{target}: no anchor #{anchor} in {path.relative_to(ROOT)}")
    assert not problems, f"{source.relative_to(ROOT)}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("source", _sources(), ids=[str(p.relative_to(ROOT)) for p in _sources()])
def test_code_paths_exist(source: Path) -> None:
    missing = []
    for match in _CODE_PATH.finditer(_prose(source.read_text(encoding="utf-8"))):
        path = match.group("path").rstrip(".,:;)").split("#")[0].split("::")[0]
        if any(c in path for c in "*<>{}…") or "..." in path:
            continue
        if not (ROOT / path).exists():
            missing.append(path)
    assert not missing, f"{source.relative_to(ROOT)} names paths that do not exist: {missing}"
