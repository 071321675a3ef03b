"""Fixtures of the deployment tests: the pgbouncer binary, when installed."""

from __future__ import annotations

import pytest

from . import pgbouncer


@pytest.fixture(scope="session")
def pgbouncer_binary() -> str:
    """The pgbouncer executable; the tests that need it skip when it is not installed."""
    found = pgbouncer.binary()
    if found is None:
        pytest.skip("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    return found
