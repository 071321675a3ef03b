"""Compare a live database with the declared schema: Confiture's ``SchemaDriftDetector``.

The declared schema is a ``db/schema/`` tree, or the DDL generator's output for a FraiseQL
``Schema`` (:func:`fraiseql.codegen.generate_ddl`, written to a temporary tree). The report
lists tables, columns, indexes, constraints, views, functions and triggers that are missing,
extra or different. Bringing the database to the declared schema would drop whatever is extra:
those items are :attr:`DiffItem.destructive`, and :func:`refuse_destructive` refuses them.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fraiseql.migrations import _confiture
from fraiseql.migrations.errors import DestructiveChangeError, MigrationsError

__all__ = ["DESTRUCTIVE_KINDS", "DiffItem", "DiffReport", "diff", "refuse_destructive"]

DESTRUCTIVE_KINDS = frozenset(
    {"extra_table", "extra_column", "extra_matview", "extra_routine", "extra_view", "extra_trigger"}
)
"""Drift whose repair drops something: a table or column with its data, a function or view."""


@dataclass(frozen=True, slots=True)
class DiffItem:
    """One difference: ``kind`` is Confiture's drift type (``extra_column``, ...)."""

    kind: str
    severity: str
    object: str
    message: str

    @property
    def destructive(self) -> bool:
        """Whether converging to the declared schema drops this (and its data)."""
        return self.kind in DESTRUCTIVE_KINDS


@dataclass(frozen=True, slots=True)
class DiffReport:
    """The differences between a live database and the declared schema."""

    source: str
    items: tuple[DiffItem, ...]
    tables_checked: int
    objects_checked: int

    @property
    def in_sync(self) -> bool:
        """No difference at all."""
        return not self.items

    @property
    def destructive(self) -> tuple[DiffItem, ...]:
        """The differences whose repair would drop something."""
        return tuple(item for item in self.items if item.destructive)


def _report(detector: Any, directory: Path, source: str) -> DiffReport:
    report = detector.compare_with_schema_file(str(directory))
    return DiffReport(
        source=source,
        items=tuple(
            DiffItem(
                kind=item.drift_type.value,
                severity=item.severity.value,
                object=item.object_name,
                message=item.message,
            )
            for item in report.drift_items
        ),
        tables_checked=report.tables_checked,
        objects_checked=report.objects_checked,
    )


def diff(
    database_url: str,
    *,
    schema_dir: str | Path | None = None,
    schema: Any = None,
    **ddl_options: Any,
) -> DiffReport:
    """Compare the database at ``database_url`` with ``schema_dir`` or ``schema``'s DDL.

    ``ddl_options`` (``tenant=``, ``indexes=``...) go to :func:`fraiseql.codegen.generate_ddl`
    with ``schema``. Raises :class:`MigrationsError` when neither or both are given.
    """
    if (schema_dir is None) == (schema is None):
        msg = "diff needs the declared schema: schema_dir or schema, not both"
        raise MigrationsError(msg)
    drift = _confiture.module("confiture.core.drift")
    connection_module = _confiture.module("confiture.core.connection")
    _confiture.environment(database_url)  # validates the URL
    try:
        connection = connection_module.create_connection(database_url)
    except Exception as error:
        raise _confiture.wrap_errors(error) from error
    try:
        detector = drift.SchemaDriftDetector(connection)
        if schema_dir is not None:
            directory = Path(schema_dir)
            if not directory.is_dir():
                msg = f"no schema directory at {schema_dir}"
                raise MigrationsError(msg)
            return _report(detector, directory, str(schema_dir))
        from fraiseql.codegen import generate_ddl

        files = generate_ddl(schema, **ddl_options)
        with tempfile.TemporaryDirectory(prefix="fraiseql-declared-") as temporary:
            for relative, text in files.items():
                path = Path(temporary, relative)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
            return _report(detector, Path(temporary), "the schema's generated DDL")
    except MigrationsError:
        raise
    except Exception as error:  # SchemaError (DDL it cannot read), psycopg errors
        raise _confiture.wrap_errors(error) from error
    finally:
        connection.close()


def refuse_destructive(report: DiffReport, *, allow_destructive: bool = False) -> None:
    """Raise :class:`DestructiveChangeError` when converging would drop something."""
    losing = report.destructive
    if losing and not allow_destructive:
        lines = [f"{item.kind}: {item.object}" for item in losing]
        msg = (
            "converging to the declared schema would drop "
            + "; ".join(lines)
            + " (allow it explicitly: --allow-destructive)"
        )
        raise DestructiveChangeError(msg, lines)
