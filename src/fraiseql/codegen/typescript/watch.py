"""``--watch``: regenerate when the schema's Python modules or the documents change.

:class:`WatchPlan` knows what to watch (the directories of the modules that declare the
schema, and of the documents) and decides, from a batch of changes, whether to regenerate and
whether the schema must be imported again (:meth:`WatchPlan.decide`). :func:`watch_loop` runs
``regenerate`` for each batch that matters until ``stop_event`` is set (the command line:
until Ctrl-C); watchfiles debounces the changes into batches.
"""

from __future__ import annotations

import fnmatch
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import watchfiles

from fraiseql.codegen.typescript.documents import DOCUMENT_SUFFIXES

DEBOUNCE_MS = 300


@dataclass(frozen=True, slots=True)
class WatchDecision:
    """What a batch of changes means: the schema files and the document files that changed."""

    schema_files: tuple[Path, ...]
    document_files: tuple[Path, ...]

    def __bool__(self) -> bool:
        return bool(self.schema_files or self.document_files)

    def describe(self) -> str:
        """``schema: a.py; documents: q.graphql`` for the console."""
        parts = []
        if self.schema_files:
            parts.append("schema: " + ", ".join(str(p) for p in self.schema_files))
        if self.document_files:
            parts.append("documents: " + ", ".join(str(p) for p in self.document_files))
        return "; ".join(parts)


def _module_file(module: ModuleType | None) -> Path | None:
    file = getattr(module, "__file__", None)
    return Path(file).resolve() if file else None


def _is_project_module(name: str, path: Path) -> bool:
    if name == "fraiseql" or name.startswith("fraiseql."):
        return False
    return not any(part in ("site-packages", "dist-packages") for part in path.parts)


def schema_modules(objects: Iterable[Any], extra: Iterable[str] = ()) -> dict[str, Path]:
    """The project modules (not FraiseQL's, not installed packages) defining ``objects``."""
    names = {getattr(obj, "__module__", None) for obj in objects} | set(extra)
    found: dict[str, Path] = {}
    for name in sorted(n for n in names if n):
        path = _module_file(sys.modules.get(name))
        if path is not None and _is_project_module(name, path):
            found[name] = path
    return found


@dataclass(frozen=True, slots=True)
class WatchPlan:
    """What to watch: the schema's module files and the document specs (files, dirs, globs)."""

    schema_files: frozenset[Path]
    document_specs: tuple[str, ...]

    @property
    def roots(self) -> list[Path]:
        """The directories to watch, without one inside another."""
        candidates = {p.parent for p in self.schema_files}
        for spec in self.document_specs:
            path = Path(spec)
            if path.is_dir():
                candidates.add(path.resolve())
            else:
                base = Path(*[p for p in path.parts if not any(c in p for c in "*?[")])
                candidates.add((base if base.is_dir() else base.parent).resolve())
        ordered = sorted(candidates, key=lambda p: len(p.parts))
        roots: list[Path] = []
        for path in ordered:
            if not any(path.is_relative_to(root) for root in roots):
                roots.append(path)
        return sorted(roots)

    def _is_document(self, path: Path) -> bool:
        for spec in self.document_specs:
            spec_path = Path(spec)
            resolved = spec_path.resolve()
            if path == resolved:
                return True
            if spec_path.is_dir() and path.is_relative_to(resolved):
                return path.suffix in DOCUMENT_SUFFIXES
            if fnmatch.fnmatch(str(path), str(Path.cwd() / spec)) or fnmatch.fnmatch(
                str(path), spec
            ):
                return True
        return False

    def decide(self, changes: Iterable[tuple[Any, str]]) -> WatchDecision:
        """Which of ``changes`` (watchfiles' ``(Change, path)``) call for regenerating."""
        schema: set[Path] = set()
        documents: set[Path] = set()
        for _change, name in changes:
            path = Path(name).resolve()
            if path in self.schema_files:
                schema.add(path)
            elif self._is_document(path):
                documents.add(path)
        return WatchDecision(tuple(sorted(schema)), tuple(sorted(documents)))


def forget_modules(paths: Iterable[Path]) -> list[str]:
    """Drop from ``sys.modules`` the modules loaded from ``paths``, so importing reads them."""
    wanted = {p.resolve() for p in paths}
    dropped = [name for name, module in list(sys.modules.items()) if _module_file(module) in wanted]
    for name in dropped:
        del sys.modules[name]
    return sorted(dropped)


def watch_loop(
    plan: Callable[[], WatchPlan],
    regenerate: Callable[[WatchDecision], None],
    *,
    stop_event: threading.Event | None = None,
    debounce_ms: int = DEBOUNCE_MS,
    echo: Callable[[str], None] = print,
) -> None:
    """Call ``regenerate`` for every batch of changes that matters, until ``stop_event``.

    ``plan`` is asked again after each regeneration: a schema module may import new ones.
    """
    current = plan()
    while stop_event is None or not stop_event.is_set():
        restart = False
        for changes in watchfiles.watch(
            *current.roots,
            debounce=debounce_ms,
            stop_event=stop_event,
            raise_interrupt=False,
        ):
            decision = current.decide(changes)
            if not decision:
                continue
            echo(f"changed: {decision.describe()}")
            regenerate(decision)
            fresh = plan()
            if fresh.roots != current.roots:
                current, restart = fresh, True
                break
            current = fresh
        if not restart:
            return


__all__: Sequence[str] = [
    "WatchDecision",
    "WatchPlan",
    "forget_modules",
    "schema_modules",
    "watch_loop",
]
