"""PoolSettings.from_env: the DSN, sizes and timeouts from the environment."""

from __future__ import annotations

import pytest

from fraiseql.db.pool import PoolSettings

DSN = "postgresql://app@127.0.0.1/blog"


def test_defaults_without_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MIN_SIZE", "MAX_SIZE", "ACQUIRE_TIMEOUT"):
        monkeypatch.delenv(f"FRAISEQL_POOL_{name}", raising=False)
    monkeypatch.delenv("FRAISEQL_STATEMENT_TIMEOUT_MS", raising=False)
    assert PoolSettings.from_env(DSN) == PoolSettings(dsn=DSN)


def test_variables_replace_defaults_and_arguments_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRAISEQL_POOL_MIN_SIZE", "0")
    monkeypatch.setenv("FRAISEQL_POOL_MAX_SIZE", "25")
    monkeypatch.setenv("FRAISEQL_POOL_ACQUIRE_TIMEOUT", "2.5")
    monkeypatch.setenv("FRAISEQL_STATEMENT_TIMEOUT_MS", "5000")
    settings = PoolSettings.from_env(DSN, max_size=12)
    assert (settings.min_size, settings.max_size) == (0, 12)
    assert settings.acquire_timeout == 2.5
    assert settings.statement_timeout_ms == 5000


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FRAISEQL_POOL_MAX_SIZE", "ten"),
        ("FRAISEQL_POOL_MAX_SIZE", "0"),
        ("FRAISEQL_POOL_MAX_SIZE", "1.5"),
        ("FRAISEQL_POOL_MIN_SIZE", "-1"),
        ("FRAISEQL_POOL_ACQUIRE_TIMEOUT", "-2"),
        ("FRAISEQL_STATEMENT_TIMEOUT_MS", "soon"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=variable):
        PoolSettings.from_env(DSN)


def test_the_url_comes_from_the_environment_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRAISEQL_DATABASE_URL", DSN)
    assert PoolSettings.from_env().dsn == DSN
    monkeypatch.delenv("FRAISEQL_DATABASE_URL")
    with pytest.raises(RuntimeError, match="FRAISEQL_DATABASE_URL"):
        PoolSettings.from_env()
