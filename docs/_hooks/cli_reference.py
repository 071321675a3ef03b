"""MkDocs hook: render the ``fraiseql`` command line's reference from its Typer app.

A page that holds the line ``<!-- fraiseql-cli-reference -->`` gets, in its place, one section
per command (usage, help text, arguments and options) read from the commands that
``fraiseql.cli.main.app`` registers, so the reference cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

MARKER = "<!-- fraiseql-cli-reference -->"


def _cell(text: str) -> str:
    """Text for one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _default(parameter: Any) -> str:
    default = parameter.default
    if default is None or default == () or callable(default):
        return ""
    if getattr(parameter, "is_flag", False) and not default:
        return ""
    return f"`{getattr(default, 'value', default)}`"


def _type_name(parameter: Any) -> str:
    """The value's type as the command's help shows it (``TEXT``, ``INTEGER``, a choice...)."""
    if getattr(parameter, "is_flag", False):
        return "flag"
    try:
        return str(parameter.display_type(None)).strip("<>").lower() or "value"
    except (AttributeError, TypeError):
        return "value"


def _parameter_rows(parameter: Any) -> list[str]:
    kind = getattr(parameter, "param_type_name", "")
    if kind == "argument":
        name = f"`{parameter.name.upper()}`"
        required = "required" if parameter.required else "optional"
        return [
            f"| {name} | argument, {required} | {_default(parameter)} | "
            f"{_cell(parameter.help or '')} |"
        ]
    names = ", ".join(f"`{opt}`" for opt in [*parameter.opts, *parameter.secondary_opts])
    kind_text = _type_name(parameter)
    if parameter.required:
        kind_text += ", required"
    return [f"| {names} | {kind_text} | {_default(parameter)} | {_cell(parameter.help or '')} |"]


def _usage(command: Any, path: list[str]) -> str:
    pieces = []
    for parameter in command.params:
        if getattr(parameter, "param_type_name", "") == "argument":
            name = parameter.name.upper()
            pieces.append(name if parameter.required else f"[{name}]")
    if any(getattr(p, "param_type_name", "") == "option" for p in command.params):
        pieces.insert(0, "[OPTIONS]")
    if hasattr(command, "commands"):
        pieces.append("COMMAND [ARGS]...")
    return " ".join([*path, *pieces])


def _render(command: Any, path: list[str], level: int) -> list[str]:
    title = " ".join(path)
    lines = [f"{'#' * level} `{title}`", ""]
    help_text = (command.help or "").strip()
    if help_text:
        lines += [help_text, ""]
    lines += ["```text", _usage(command, path), "```", ""]
    parameters = [p for p in command.params if not getattr(p, "hidden", False)]
    if parameters:
        lines += ["| argument or option | kind | default | what it does |", "|---|---|---|---|"]
        for parameter in parameters:
            lines += _parameter_rows(parameter)
        lines.append("")
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not getattr(sub, "hidden", False):
            lines += _render(sub, [*path, name], min(level + 1, 4))
    return lines


def reference() -> str:
    """The Markdown reference of every ``fraiseql`` command."""
    import typer

    from fraiseql.cli.main import app

    root = typer.main.get_command(app)
    lines: list[str] = []
    for name, command in sorted(root.commands.items()):
        lines += _render(command, ["fraiseql", name], 2)
    return "\n".join(lines)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Replace the marker with the generated reference."""
    if MARKER in markdown:
        return markdown.replace(MARKER, reference())
    return markdown
