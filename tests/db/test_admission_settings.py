"""Admission settings from the environment, and its counters in the metrics."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from fraiseql.db.admission import AdmissionController
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.execution.document_cache import DocumentCache
from fraiseql.observability.metrics import RuntimeCollector


def test_admission_is_off_by_default_and_the_environment_turns_it_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Database(PoolSettings(dsn="postgresql://x")).admission is None
    monkeypatch.setenv("FRAISEQL_POOL_ADMISSION", "true")
    monkeypatch.setenv("FRAISEQL_POOL_QUEUE_TARGET", "0.005")
    monkeypatch.setenv("FRAISEQL_POOL_QUEUE_INTERVAL", "0.25")
    settings = PoolSettings.from_env("postgresql://x")
    assert (settings.admission, settings.queue_target, settings.queue_interval) == (
        True,
        0.005,
        0.25,
    )
    admission = Database(settings).admission
    assert isinstance(admission, AdmissionController)
    assert (admission.target, admission.interval) == (0.005, 0.25)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FRAISEQL_POOL_ADMISSION", "maybe"),
        ("FRAISEQL_POOL_QUEUE_TARGET", "-0.02"),
        ("FRAISEQL_POOL_QUEUE_TARGET", "0"),
        ("FRAISEQL_POOL_QUEUE_INTERVAL", "soon"),
    ],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=variable):
        PoolSettings.from_env("postgresql://x")


def test_a_bad_explicit_setting_fails_when_the_database_is_made() -> None:
    with pytest.raises(ValueError, match="target"):
        Database(PoolSettings(dsn="postgresql://x", admission=True, queue_target=0))


def test_the_metrics_export_refusals_state_and_queue_delay() -> None:
    database = Database(PoolSettings(dsn="postgresql://x", admission=True))
    admission = database.admission
    assert admission is not None
    admission.refused = 7
    admission.overloaded_intervals = 3
    admission.overloaded = True
    admission.queue_delay = 0.042
    registry = CollectorRegistry()
    registry.register(RuntimeCollector(database, DocumentCache(16)))
    text = generate_latest(registry).decode()
    assert "fraiseql_admission_refused_total 7.0" in text
    assert "fraiseql_admission_overloaded_intervals_total 3.0" in text
    assert "fraiseql_admission_overloaded 1.0" in text
    assert "fraiseql_pool_queue_delay_seconds 0.042" in text
