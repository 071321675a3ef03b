"""No figure in docs/benchmarks/ that a benchmark of the repository did not produce.

Every number in the prose and tables of ``docs/benchmarks/*.md`` (code, link targets and commit
hashes aside) must appear in what the benchmarks recorded: the files under ``bench/results/``
(a JSON value counts at any rounding from 0 to 3 decimals, as the reports round them) or the
reports the bench scripts render from those files (``bench.report`` for NATIVE.md,
``bench.compare.report`` for the generated part of RESULTS.md). A paragraph that quotes a run
whose output is not committed starts with ``<!-- figures: unrecorded SCRIPT -->``: its numbers
are listed by ``test_unrecorded_figures_are_declared`` rather than silently accepted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.docs.blocks import DOCS, ROOT

RESULTS = ROOT / "bench" / "results"
PAGES = sorted((DOCS / "benchmarks").glob("*.md"))
_NUMBER = re.compile(
    r"(?<![\w.,])\d{1,3}(?:(?: |,)\d{3})+(?:\.\d+)?(?!\d)|(?<![\w.,])\d+(?:\.\d+)?(?![\d\w])"
)
_UNRECORDED = re.compile(
    r"<!-- figures: unrecorded (?P<script>[\w.]+) -->\n(?P<text>.*?)(?:\n\n|\Z)", re.S
)


def _normal(token: str) -> str:
    return token.replace(",", "").replace(" ", "")


def _numbers(text: str) -> set[str]:
    found = set()
    for match in _NUMBER.finditer(text):
        token = _normal(match.group())
        found.add(token)
        value = float(token)
        found.update(f"{value:.{digits}f}" for digits in range(4))
    return found


def _recorded() -> set[str]:
    from bench.compare import report as compare_report

    from bench import report

    texts = [path.read_text(encoding="utf-8") for path in sorted(RESULTS.iterdir())]
    texts.append(report.render(json.loads((RESULTS / "native.json").read_text())))
    compare = json.loads((RESULTS / "compare.json").read_text())
    texts.append(compare_report.generated(compare, [], compare_report.load_workers()))
    return set().union(*(_numbers(text) for text in texts))


def _figures(text: str) -> list[tuple[int, str]]:
    text = re.sub(r"```.*?```", lambda m: "\n" * m.group().count("\n"), text, flags=re.S)
    text = _UNRECORDED.sub(lambda m: "\n" * m.group().count("\n"), text)
    text = re.sub(r"`[^`\n]*`", "", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\b", "", text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}(?:T[\d:+]+)?", "", text)
    return [
        (number, match.group())
        for number, line in enumerate(text.splitlines(), 1)
        for match in _NUMBER.finditer(line)
    ]


@pytest.fixture(scope="module")
def recorded() -> set[str]:
    return _recorded()


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_figure_was_recorded(page: Path, recorded: set[str]) -> None:
    missing = [
        f"line {line}: {token}"
        for line, token in _figures(page.read_text(encoding="utf-8"))
        if _normal(token) not in recorded
    ]
    assert not missing, f"{page.name} quotes figures no benchmark recorded:\n  " + "\n  ".join(
        missing
    )


def test_unrecorded_figures_are_declared() -> None:
    """Paragraphs quoting uncommitted runs name a bench script that exists."""
    for page in PAGES:
        for match in _UNRECORDED.finditer(page.read_text(encoding="utf-8")):
            module = match.group("script").replace(".", "/")
            assert (ROOT / f"{module}.py").is_file() or (ROOT / module).is_dir(), (
                f"{page.name}: no bench script {match.group('script')}"
            )


def test_an_invented_figure_is_found(recorded: set[str]) -> None:
    """The check can fail: a number no result holds is reported."""
    assert [t for _, t in _figures("FraiseQL serves 987654.321 requests") if t not in recorded]
