"""The command-line reference (docs/cli.md), generated from the commands themselves.

Every command's usage line, help text and options are read from the command
objects Typer builds (Click's, which Typer now carries inside itself: they are
read by their attributes, not their classes), so the page cannot drift from the code:
``tests/test_reference_docs.py`` regenerates it and compares. Rewrite the page
with ``python tools/reference_docs.py``.
"""

from __future__ import annotations

from typing import Any

import typer

HEADER = """# Command-line reference

Generated from the commands' own help by `python tools/reference_docs.py`; a test checks that this page matches
the code. Every command that changes data takes `--as USERNAME` where it acts for an account, and every command
that prints a result takes `--json`. The database is `TEPAT_DATABASE_URL` (docs/settings.md) unless `--db` says
otherwise.
"""


def _option_row(param: Any) -> str:
    names = ", ".join(f"`{n}`" for n in (*param.opts, *param.secondary_opts))
    text = (getattr(param, "help", None) or "").replace("\n", " ").replace("|", "\\|")
    if param.required:
        text = f"(required) {text}".strip()
    return f"| {names} | {text} |"


def _section(path: list[str], command: Any) -> list[str]:
    ctx = command.context_class(command, info_name=" ".join(path))
    options = [p for p in command.params if p.param_type_name == "option" and not p.hidden]
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    group = hasattr(command, "list_commands")
    usage = [
        *path,
        "[OPTIONS]" if options or group else "",
        *((a.name or "").upper() if a.required else f"[{(a.name or '').upper()}]" for a in arguments),
        "COMMAND [ARGS]..." if group else "",
    ]
    lines = [
        f"{'#' * min(len(path) + 1, 4)} `{' '.join(path)}`",
        "",
        f"```\n{' '.join(u for u in usage if u)}\n```",
        "",
    ]
    if command.help:
        lines += [" ".join(command.help.split("\b")).strip(), ""]
    for argument in arguments:
        text = (getattr(argument, "help", None) or "").replace("\n", " ")
        lines.append(f"- `{(argument.name or '').upper()}`{': ' + text if text else ''}")
    if arguments:
        lines.append("")
    if options:
        lines += ["| Option | Meaning |", "|---|---|", *(_option_row(p) for p in options), ""]
    if group:
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                lines += _section([*path, name], sub)
    return lines


def markdown(app: typer.Typer) -> str:
    """The whole reference page for ``app``."""
    root = typer.main.get_command(app)
    return "\n".join([HEADER, *_section(["tepat"], root)]).rstrip() + "\n"
