"""``tepat import FILE``: load a registry file (CSV, XLSX, Parquet) with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tepat.cli import common
from tepat.cli.common import DatabaseOption, JsonOption, open_database, print_json, progress_bar
from tepat.domain.access import system_actor
from tepat.domain.formatting import number as _n
from tepat.errors import FieldError, ImportRejected
from tepat.services.imports import ImportResult, import_file

SHOWN_ERRORS = 20


def _echo_errors(errors: list[FieldError], errors_file: Path | None) -> None:
    for e in errors[:SHOWN_ERRORS]:
        typer.echo(
            f"  - baris {e.row}, {e.field} = {e.value if e.value is not None else '(kosong)'}: {e.message}"
        )
    if len(errors) > SHOWN_ERRORS:
        typer.echo(
            f"  … dan {_n(len(errors) - SHOWN_ERRORS)} masalah lain"
            + ("" if errors_file else " (tulis semuanya dengan --errors FILE)")
        )
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
    if result.warnings:
        typer.echo(f"Perlu diperiksa ({_n(len(result.warnings))} baris tersimpan):")
        for w in result.warnings[:SHOWN_ERRORS]:
            typer.echo(f"  - baris {w.row if w.row is not None else '?'}, {w.field} = {w.value}: {w.message}")


def import_command(
    file: Annotated[
        Path, typer.Argument(help="The file to import: .csv, .xlsx or .parquet.", show_default=False)
    ],
    mode: Annotated[
        str,
        typer.Option(
            "--mode", help="strict: store nothing if any row is bad; valid-only: store the good rows."
        ),
    ] = "valid-only",
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help="Column-mapping file (.toml, .json or .csv) for a non-canonical layout.",
            show_default=False,
        ),
    ] = None,
    errors: Annotated[
        Path | None,
        typer.Option(
            "--errors", help="Write every rejected cell to this .csv or .xlsx file.", show_default=False
        ),
    ] = None,
    as_json: JsonOption = False,
    db: DatabaseOption = None,
    user: Annotated[
        str,
        typer.Option(
            "--as",
            help="Import as this account: only rows of its area, matched inside it "
            "(default: the system, every area).",
        ),
    ] = "",
) -> None:
    """Import families and members from a registry file (upsert by KK and NIK; see docs/import-export.md)."""
    database = open_database(db)
    actor = common.acting(database, user) if user.strip() else system_actor()
    try:
        with progress_bar("Mengimpor", "baris", enabled=not as_json) as progress:
            result = import_file(
                database, actor, file, mode=mode, mapping=mapping, errors_path=errors, progress=progress
            )
    except ImportRejected as exc:
        if as_json:
            print_json(
                {
                    **exc.counts,
                    "status": "rejected",
                    "mode": mode,
                    "message": exc.message,
                    "errors": [e.as_dict() for e in exc.errors],
                }
            )
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
