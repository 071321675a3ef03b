"""The differential tests, run against a build of the extension with ASan and UBSan.

``setup.py`` adds ``-fsanitize=address,undefined`` when ``FRAISEQL_SANITIZE=1``. This test
builds the extension that way into a temporary directory (next to a copy of the package, so
that ``import fraiseql`` finds the instrumented module first), then runs
``test_differential.py`` in a subprocess with the ASan runtime preloaded and
``PYTHONMALLOC=malloc`` (so that the core's ``PyMem_*`` allocations are ASan's, not pymalloc's).
Leak detection is off: CPython itself leaks at exit; ``test_memory.py`` and the fuzz harness's
LeakSanitizer cover leaks. The subprocess runs ``FRAISEQL_SANITIZE_EXAMPLES`` examples per
property (default 60).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = os.environ.get("FRAISEQL_SANITIZE_EXAMPLES", "60")


def _asan_runtime() -> str | None:
    """The ASan runtime of the compiler that builds extensions (gcc's libasan), if any."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return None
    found = subprocess.run(
        [compiler, "-print-file-name=libasan.so"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return found if os.path.isabs(found) and os.path.exists(found) else None


ASAN = _asan_runtime()

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("FRAISEQL_IMPL") == "python",
        reason="checks the C core, whatever FRAISEQL_IMPL says: runs in the FRAISEQL_IMPL=c pass",
    ),
    pytest.mark.skipif(
        ASAN is None,
        reason="no C compiler with an ASan runtime (libasan) to build the sanitized extension",
    ),
    pytest.mark.skipif(sys.platform != "linux", reason="LD_PRELOAD of the ASan runtime: Linux"),
    pytest.mark.slow,
]


def _clean_env() -> dict[str, str]:
    """This process's environment without coverage's subprocess hooks."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COV_CORE_", "COVERAGE_")) and key != "LD_PRELOAD"
    }


def test_differential_tests_pass_under_asan_and_ubsan(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    shutil.copytree(
        ROOT / "src" / "fraiseql",
        lib / "fraiseql",
        ignore=shutil.ignore_patterns("*.so", "__pycache__"),
    )
    build = subprocess.run(
        [
            sys.executable,
            "setup.py",
            "--quiet",
            "build_ext",
            "--force",
            "--build-lib",
            str(lib),
            "--build-temp",
            str(tmp_path / "build"),
        ],
        cwd=ROOT,
        env={**_clean_env(), "FRAISEQL_SANITIZE": "1", "FRAISEQL_REQUIRE_NATIVE": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert build.returncode == 0, f"the sanitized build failed:\n{build.stdout}\n{build.stderr}"
    assert list((lib / "fraiseql").glob("_native*.so")), "the build wrote no extension"

    # reports go to files: pytest's output capture would swallow what a dying process prints
    logs = tmp_path / "sanitizer-logs"
    logs.mkdir()
    env = {
        **_clean_env(),
        "PYTHONPATH": os.pathsep.join([str(lib), os.environ.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        ),
        "LD_PRELOAD": str(ASAN),
        "PYTHONMALLOC": "malloc",
        "ASAN_OPTIONS": f"detect_leaks=0:print_summary=1:log_path={logs}/asan",
        "UBSAN_OPTIONS": f"halt_on_error=1:print_stacktrace=1:log_path={logs}/ubsan",
        "FRAISEQL_IMPL": "c",
        "FRAISEQL_DIFF_EXAMPLES": EXAMPLES,
        "FRAISEQL_EXPECT_NATIVE_DIR": str(lib),
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "tests/native/test_differential.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=900,
        check=False,
    )
    reports = "\n".join(path.read_text(errors="replace")[:6000] for path in sorted(logs.iterdir()))
    assert not reports, f"sanitizer reports:\n{reports}"
    output = run.stdout + run.stderr
    tail = "\n".join(output.splitlines()[-80:])
    assert "runtime error:" not in output, tail
    assert run.returncode == 0, tail
    assert " passed" in run.stdout and " skipped" not in run.stdout.splitlines()[-1], tail
