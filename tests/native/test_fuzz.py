"""The libFuzzer harness of the native core (fuzz/fuzz_render.c), built and run for a while.

The harness links the core (plan.c, render.c, skip.c, values.c, numbers.c, tokenizer.c) without
Python, under AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer. The test builds it
with ``fuzz/build.sh`` into a temporary directory, replays the committed seed corpus
(fuzz/corpus) and fuzzes a copy of it for ``FRAISEQL_FUZZ_SECONDS`` seconds (default 60; 0 only
replays the corpus). Any crash, sanitizer report, leak or failed check of the harness fails the
test, with the crashing input's path in the message.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"
SECONDS = int(os.environ.get("FRAISEQL_FUZZ_SECONDS", "60"))
CLANG = shutil.which("clang")


def _has_fuzzer_runtime() -> bool:
    """Whether clang can link ``-fsanitize=fuzzer`` (Debian ships it in libclang-rt-dev)."""
    if CLANG is None:
        return False
    name = f"libclang_rt.fuzzer-{platform.machine()}.a"
    found = subprocess.run(
        [CLANG, f"-print-file-name={name}"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return Path(found).is_absolute() and Path(found).exists()


pytestmark = [
    pytest.mark.skipif(
        os.environ.get("FRAISEQL_IMPL") == "python",
        reason="fuzzes the C core, whatever FRAISEQL_IMPL says: runs in the FRAISEQL_IMPL=c pass",
    ),
    pytest.mark.skipif(
        CLANG is None,
        reason="clang is not on PATH: the libFuzzer harness needs it (apt-get install clang)",
    ),
    pytest.mark.skipif(
        CLANG is not None and not _has_fuzzer_runtime(),
        reason="clang has no libFuzzer runtime (apt-get install libclang-rt-dev)",
    ),
    pytest.mark.slow,
]

# What a sanitizer, libFuzzer or the harness's own checks print when something is wrong.
REPORT_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "ERROR: libFuzzer",
    "fuzz_render: ",
    "SUMMARY: ",
    "deadly signal",
)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The harness binary, built for this run."""
    out = tmp_path_factory.mktemp("fuzz-build")
    env = {**os.environ, "CC": str(CLANG)}
    build = subprocess.run(
        ["sh", str(FUZZ / "build.sh"), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, f"building the harness failed:\n{build.stdout}\n{build.stderr}"
    binary = out / "fuzz_render"
    assert binary.exists()
    return binary


def run(
    binary: Path, work: Path, *arguments: str, timeout: float
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:symbolize=1",
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
    }
    return subprocess.run(
        [str(binary), f"-artifact_prefix={work}/", "-timeout=20", "-rss_limit_mb=2048", *arguments],
        capture_output=True,
        text=True,
        errors="replace",
        env=env,
        cwd=work,
        timeout=timeout,
        check=False,
    )


def assert_clean(result: subprocess.CompletedProcess[str], work: Path) -> None:
    kept = ("crash-", "leak-", "timeout-", "oom-", "slow-unit-")
    crashes = sorted(path.name for path in work.iterdir() if path.name.startswith(kept))
    lines = result.stderr.splitlines()
    reports = [line for line in lines if any(marker in line for marker in REPORT_MARKERS)]
    tail = "\n".join(lines[-60:])
    assert result.returncode == 0 and not crashes and not reports, (
        f"the fuzz harness failed (exit {result.returncode}); inputs kept in {work}: {crashes}\n"
        f"{tail}"
    )


def test_seed_corpus_replays_cleanly(harness: Path, tmp_path: Path) -> None:
    """Every committed seed input runs through every plan without a report."""
    seeds = sorted((FUZZ / "corpus").iterdir())
    assert 20 <= len(seeds) <= 60
    result = run(harness, tmp_path, "-runs=0", str(FUZZ / "corpus"), timeout=300)
    assert_clean(result, tmp_path)
    assert "INITED" in result.stderr


@pytest.mark.skipif(SECONDS <= 0, reason="FRAISEQL_FUZZ_SECONDS=0: the corpus replay only")
def test_fuzzing_finds_nothing(harness: Path, tmp_path: Path) -> None:
    """libFuzzer mutates a copy of the corpus for FRAISEQL_FUZZ_SECONDS seconds."""
    corpus = tmp_path / "corpus"
    shutil.copytree(FUZZ / "corpus", corpus)
    result = run(
        harness,
        tmp_path,
        f"-max_total_time={SECONDS}",
        f"-dict={FUZZ / 'json.dict'}",
        "-print_final_stats=1",
        str(corpus),
        timeout=SECONDS + 300,
    )
    assert_clean(result, tmp_path)
    assert "stat::number_of_executed_units" in result.stderr
