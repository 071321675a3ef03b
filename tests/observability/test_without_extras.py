"""The core imports and observes without the optional extras; asking for them says which."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import sys
    for name in ("prometheus_client", "opentelemetry"):
        sys.modules[name] = None  # any import of them now fails, as if not installed
    import fraiseql
    from fraiseql.observability import Observability
    from examples.blog.schema import printable_schema
    schema = printable_schema()
    installed = Observability(log_requests=True).install(schema)
    assert installed.instrumentation is not None
    for option in ("metrics", "tracing"):
        try:
            Observability(**{option: True}).install(schema)
        except RuntimeError as error:
            print(option, "->", error)
    assert "prometheus_client" not in {m for m in sys.modules if sys.modules[m] is not None}
    """
)


def test_core_works_without_prometheus_and_opentelemetry() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("metrics -> metrics needs the 'metrics' extra")
    assert lines[1].startswith("tracing -> tracing needs the 'otel' extra")
