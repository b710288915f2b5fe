"""``tepat import FILE``: load a registry file (CSV, XLSX, Parquet) with a progress bar."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tepat.cli.common import DatabaseOption, JsonOption, open_database, print_json
from tepat.domain.access import system_actor
from tepat.domain.formatting import number as _n
from tepat.errors import FieldError, ImportRejected
from tepat.services.imports import ImportResult, import_file
from tepat.services.imports import Progress as ProgressCallback

SHOWN_ERRORS = 20


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[ProgressCallback | None]:
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("Mengimpor"), BarColumn(), MofNCompleteColumn(), TextColumn("baris"), TimeElapsedColumn(),
        console=console, transient=True,
    ) as bar:
        task = bar.add_task("impor", total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _echo_errors(errors: list[FieldError], errors_file: Path | None) -> None:
    for e in errors[:SHOWN_ERRORS]:
        typer.echo(f"  - baris {e.row}, {e.field} = {e.value if e.value is not None else '(kosong)'}: {e.message}")
    if len(errors) > SHOWN_ERRORS:
        typer.echo(f"  … dan {_n(len(errors) - SHOWN_ERRORS)} masalah lain" + ("" if errors_file else " (tulis semuanya dengan --errors FILE)"))
    if errors_file is not None and errors:
        typer.echo(f"Daftar masalah ditulis ke {errors_file}.")


def _summary(result: ImportResult, errors_file: Path | None) -> None:
    typer.echo(
        f"Impor selesai: {_n(result.rows_read)} baris dibaca, {_n(result.rows_read - result.rows_rejected)} diterima, "
        f"{_n(result.rows_rejected)} ditolak."
    )
    typer.echo(f"Keluarga: {_n(result.families_created)} baru, {_n(result.families_updated)} diperbarui.")
    typer.echo(f"Anggota: {_n(result.members_created)} baru, {_n(result.members_updated)} diperbarui.")
    if result.errors:
        typer.echo("Baris yang ditolak:")
        _echo_errors(result.errors, errors_file)


def import_command(
    file: Annotated[Path, typer.Argument(help="The file to import: .csv, .xlsx or .parquet.", show_default=False)],
    mode: Annotated[str, typer.Option("--mode", help="strict: store nothing if any row is bad; valid-only: store the good rows.")] = "valid-only",
    mapping: Annotated[Path | None, typer.Option("--mapping", help="Column-mapping file (.toml, .json or .csv) for a non-canonical layout.", show_default=False)] = None,
    errors: Annotated[Path | None, typer.Option("--errors", help="Write every rejected cell to this .csv or .xlsx file.", show_default=False)] = None,
    as_json: JsonOption = False,
    db: DatabaseOption = None,
) -> None:
    """Import families and members from a registry file (upsert by KK and NIK; see docs/import-export.md)."""
    database = open_database(db)
    try:
        with _progress_bar(not as_json) as progress:
            result = import_file(
                database, system_actor(), file, mode=mode, mapping=mapping, errors_path=errors, progress=progress
            )
    except ImportRejected as exc:
        if as_json:
            print_json({"status": "rejected", "mode": mode, "message": exc.message, "errors": [e.as_dict() for e in exc.errors]})
        else:
            typer.echo(f"Impor ditolak (mode strict): {exc.message}.")
            _echo_errors(exc.errors, errors)
        raise typer.Exit(1) from None
    finally:
        database.dispose()
    if as_json:
        print_json(result.as_dict())
    else:
        _summary(result, errors)


def register(app: typer.Typer) -> None:
    """Add ``tepat import`` to ``app``."""
    app.command("import")(import_command)
