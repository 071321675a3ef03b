"""The generated TypeScript is the golden file, byte for byte (FRAISEQL_UPDATE_GOLDEN=1 rewrites).

Run from the repository root (document paths in the output are relative to it).
"""

from __future__ import annotations

import os

import pytest
from tests.codegen.typescript.support import CASES, GOLDEN

pytestmark = pytest.mark.filterwarnings("error")


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_matches_golden(name: str) -> None:
    text = CASES[name].generate()
    golden = GOLDEN / f"{name}.ts"
    if os.environ.get("FRAISEQL_UPDATE_GOLDEN") == "1":
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no {golden}: run with FRAISEQL_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8"), (
        f"{name}.ts differs from {golden}; if the change is intended, "
        "regenerate with FRAISEQL_UPDATE_GOLDEN=1 and review the diff"
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_is_deterministic(name: str) -> None:
    assert CASES[name].generate() == CASES[name].generate()
