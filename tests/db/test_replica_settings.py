"""How a schema gets its read replicas: URLs, pools, the environment; and what is refused."""

from __future__ import annotations

import pytest

import fraiseql
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.db.replicas import ReadReplicas, describe_dsn
from fraiseql.schema.schema import READ_DATABASE_URL_ENV


@fraiseql.type(sql_source="tv_thing")
class Thing:
    """A thing."""

    name: str


@fraiseql.query
async def things(info: object) -> list[Thing]:
    """All things."""
    ...


PRIMARY = "postgresql://app:secret@10.0.0.1:5432/app"


def _schema(**options: object) -> fraiseql.Schema:
    return fraiseql.Schema(types=[Thing], queries=[things], **options)  # type: ignore[arg-type]


def test_no_replica_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(READ_DATABASE_URL_ENV, raising=False)
    schema = _schema(database_url=PRIMARY)
    assert schema.replicas is None
    assert schema.executor.replicas is None


def test_urls_from_the_argument_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = _schema(
        database_url=PRIMARY,
        read_database_url=["postgresql://r1/app", "postgresql://r2/app"],
        replica_wait=0.25,
    )
    assert schema.replicas is not None
    assert [r.database.settings.dsn for r in schema.replicas.replicas] == [
        "postgresql://r1/app",
        "postgresql://r2/app",
    ]
    assert schema.replicas.wait == 0.25
    assert schema.executor.replicas is schema.replicas
    monkeypatch.setenv(READ_DATABASE_URL_ENV, " postgresql://r3/app , postgresql://r4/app ,")
    from_env = _schema(database_url=PRIMARY)
    assert from_env.replicas is not None
    assert [r.name for r in from_env.replicas.replicas] == ["r3/app", "r4/app"]


def test_ready_pools_are_taken_as_they_are() -> None:
    replica = Database(PoolSettings(dsn="postgresql://r1/app", max_size=3))
    schema = _schema(database_url=PRIMARY, read_databases=[replica])
    assert schema.replicas is not None
    assert schema.replicas.replicas[0].database is replica


def test_replicas_without_a_primary_are_refused() -> None:
    with pytest.raises(ValueError, match="primary"):
        _schema(read_database_url="postgresql://r1/app")


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ReadReplicas([])
    database = Database(PoolSettings(dsn="postgresql://r1/app"))
    with pytest.raises(ValueError, match="wait"):
        ReadReplicas([database], wait=-1)


def test_logs_never_name_the_password() -> None:
    assert describe_dsn(PRIMARY) == "10.0.0.1:5432/app"
    assert "secret" not in describe_dsn("postgresql://u:secret@[::1]:6432/db")
