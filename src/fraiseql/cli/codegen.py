"""``fraiseql codegen typescript TARGET``: TypeScript types, typed documents and hooks.

The output comes from :func:`fraiseql.codegen.typescript.generate_typescript` (the schema
model and the ``.graphql`` documents, no database). Invalid documents are reported as
``file:line:col: message`` with exit status 1. ``--check`` writes nothing and exits 1 when
the file differs from what would be generated; ``--watch`` regenerates on every change of
the schema's modules or of the documents, until Ctrl-C.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from fraiseql.cli.target import load_schema
from fraiseql.codegen.typescript import (
    DocumentError,
    ScalarOptionError,
    TypeScriptOptions,
    generate_typescript,
    parse_scalar_options,
)
from fraiseql.codegen.typescript.watch import (
    WatchDecision,
    WatchPlan,
    forget_modules,
    schema_modules,
    watch_loop,
)
from fraiseql.schema.schema import Schema

codegen_app = typer.Typer(help="Generate client code for a schema.", no_args_is_help=True)


@dataclass
class TypeScriptJob:
    """One ``codegen typescript`` invocation: generates, writes, and knows what to watch."""

    target: str
    documents: list[str]
    out: Path | None
    options: TypeScriptOptions
    schema: Schema | None = field(default=None, repr=False)

    def load(self, *, again: bool = False) -> Schema:
        """The target's schema (imported again, from fresh modules, when ``again``)."""
        if again and self.schema is not None:
            forget_modules(self.plan().schema_files)
        if again or self.schema is None:
            self.schema = load_schema(self.target)
        return self.schema

    def render(self, *, again: bool = False) -> str:
        """The generated module's text (raises ``DocumentError``, ``ValueError``)."""
        return generate_typescript(self.load(again=again), self.documents, self.options)

    def write(self, *, again: bool = False) -> bool:
        """Generate and write :attr:`out` when its text changes; whether it did."""
        assert self.out is not None
        text = self.render(again=again)
        if self.out.exists() and self.out.read_text(encoding="utf-8") == text:
            return False
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.write_text(text, encoding="utf-8")
        return True

    def plan(self) -> WatchPlan:
        """The files whose changes call for regenerating."""
        schema = self.load()
        model = schema.model
        objects: list[object] = [t.cls for t in model.types.values()]
        objects.extend(e.cls for e in model.enums.values())
        for roots in (model.queries, model.mutations, model.subscriptions):
            objects.extend(root.definition.function for root in roots.values())
        modules = schema_modules(objects, extra=[self.target.partition(":")[0]])
        return WatchPlan(frozenset(modules.values()), tuple(self.documents))

    def regenerate(self, decision: WatchDecision) -> None:
        """Regenerate after ``decision``'s changes; report problems without stopping."""
        try:
            changed = self.write(again=bool(decision.schema_files))
        except DocumentError as error:
            typer.echo("\n".join(error.problems), err=True)
            return
        except (ValueError, typer.BadParameter) as error:
            typer.echo(f"Error: {error}", err=True)
            return
        except Exception as error:  # the schema module failed to import: keep watching
            typer.echo(f"Error: {type(error).__name__}: {error}", err=True)
            return
        typer.echo(f"wrote {self.out}" if changed else f"{self.out} is unchanged")

    def watch(self, stop_event: threading.Event | None = None) -> None:
        """Regenerate on changes until ``stop_event`` is set (or Ctrl-C)."""
        plan = self.plan()
        typer.echo("watching " + ", ".join(str(p) for p in plan.roots) + " (Ctrl-C stops)")
        watch_loop(self.plan, self.regenerate, stop_event=stop_event)


@codegen_app.command("typescript")
def typescript_command(
    target: Annotated[str, typer.Argument(help="The schema as 'module:attribute'.")],
    documents: Annotated[
        list[str] | None,
        typer.Option(
            "--documents",
            "-d",
            help="A .graphql file, a directory or a glob such as 'src/**/*.graphql' (repeatable).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="The .ts file to write (default: stdout)."),
    ] = None,
    scalar: Annotated[
        list[str] | None,
        typer.Option(help="A scalar's TypeScript type, as Name=Type (repeatable)."),
    ] = None,
    react_query: Annotated[
        bool, typer.Option("--react-query", help="Add TanStack Query v5 hooks per operation.")
    ] = False,
    fetcher: Annotated[
        str | None,
        typer.Option(help="The module the hooks import `request` from (such as ./fetcher)."),
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Regenerate when the schema or documents change.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if --out differs.")
    ] = False,
) -> None:
    """Write TypeScript types for the schema and typed documents for the operations."""
    try:
        scalars = parse_scalar_options(scalar or [])
    except ScalarOptionError as error:
        raise typer.BadParameter(str(error), param_hint="--scalar") from None
    if react_query and not fetcher:
        raise typer.BadParameter("--react-query needs --fetcher (the module exporting `request`)")
    if (watch or check) and out is None:
        raise typer.BadParameter("--watch and --check need --out")
    options = TypeScriptOptions(
        scalars=scalars, react_query=react_query, fetcher=fetcher, source=target
    )
    job = TypeScriptJob(target, list(documents or []), out, options)
    try:
        text = job.render()
    except DocumentError as error:
        typer.echo("\n".join(error.problems), err=True)
        raise typer.Exit(1) from None
    except ValueError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from None
    if out is None:
        typer.echo(text, nl=False)
        return
    if check:
        current = out.read_text(encoding="utf-8") if out.exists() else None
        if current != text:
            typer.echo(f"{out} is out of date: run 'fraiseql codegen typescript' again", err=True)
            raise typer.Exit(1)
        typer.echo(f"{out} is up to date")
        return
    typer.echo(f"wrote {out}" if job.write() else f"{out} is unchanged")
    if watch:
        job.watch()
