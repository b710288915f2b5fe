"""The ``tepat`` command line: thin commands over the services.

Each command group lives in its own module and adds itself with ``register(app)``.
Errors a user can cause print one plain line (in Bahasa Indonesia) and exit 1;
an unexpected error prints one line too and exits 2 (``TEPAT_DEBUG=1`` shows the traceback);
a closed pipe (``tepat … | head``) ends quietly with exit 1.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from tepat.errors import TepatError


def _quiet_closed_pipe() -> None:
    """The reader went away (``tepat … | head``): end quietly, as other command-line tools do.

    Standard output is pointed at /dev/null so the interpreter's final flush does not fail a second time.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


class _Commands(TyperGroup):
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except TepatError as exc:
            typer.echo(f"Galat: {exc.message}", err=True)
            for problem in getattr(exc, "errors", [])[:20]:
                where = f"baris {problem.row}, " if problem.row is not None else ""
                typer.echo(f"  - {where}{problem.field}: {problem.message}", err=True)
            raise typer.Exit(1) from None
        except BrokenPipeError:
            _quiet_closed_pipe()
            raise typer.Exit(1) from None
        except Exception as exc:
            if type(exc).__module__.startswith(("typer", "click")) or os.environ.get("TEPAT_DEBUG"):
                raise  # Typer's own exits and usage errors, or a developer asking for the traceback
            typer.echo(
                "Galat tak terduga: perintah dihentikan. Jalankan lagi dengan TEPAT_DEBUG=1 untuk rinciannya.",
                err=True,
            )
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=_Commands,
    name="tepat",
    help="tepat: social welfare registry and targeted aid for Dinas Sosial.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register_all() -> None:
    from tepat.cli import (
        cases,
        cycles,
        dci,
        demo,
        documents,
        duplicates,
        exports,
        identifiers,
        imports,
        linkage,
        moves,
        national,
        payments,
        poverty,
        programmes,
        setup,
        synth,
        targeting,
        training,
        users,
    )

    for module in (
        setup,
        identifiers,
        imports,
        exports,
        synth,
        users,
        demo,
        poverty,
        targeting,
        national,
        cases,
        programmes,
        cycles,
        payments,
        documents,
        moves,
        duplicates,
        linkage,
        training,
        dci,
    ):
        module.register(app)


_register_all()


def main() -> None:
    """Entry point of the ``tepat`` script."""
    try:
        app(prog_name="tepat")
    except BrokenPipeError:  # raised outside a command, e.g. while printing help
        _quiet_closed_pipe()
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
