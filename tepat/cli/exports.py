"""``tepat export OUT``: write the registry in the canonical layout (CSV, XLSX, Parquet)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tepat.cli.common import DatabaseOption, JsonOption, open_database, print_json, progress_bar
from tepat.domain.access import system_actor
from tepat.domain.formatting import number as _n
from tepat.services.exports import export_registry


def export_command(
    out: Annotated[
        Path, typer.Argument(help="The file to write: .csv, .xlsx or .parquet.", show_default=False)
    ],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help="csv, xlsx or parquet (default: from OUT's suffix).", show_default=False
        ),
    ] = None,
    area: Annotated[
        str | None,
        typer.Option(
            "--area", help="Only this kecamatan or kelurahan code (e.g. 32.76.01).", show_default=False
        ),
    ] = None,
    as_json: JsonOption = False,
    db: DatabaseOption = None,
) -> None:
    """Export families and members, one row per member, in the canonical import layout."""
    database = open_database(db)
    try:
        with progress_bar("Mengekspor", "baris", enabled=not as_json) as progress:
            result = export_registry(
                database, system_actor(), out, fmt=fmt, area_code=area, progress=progress
            )
        area_name = database.regions.name(result.area_code) if result.area_code else "semua wilayah"
    finally:
        database.dispose()
    if as_json:
        print_json(result.as_dict())
        return
    where = f"{area_name} ({result.area_code})" if result.area_code else area_name
    typer.echo(
        f"Ekspor selesai: {_n(result.rows)} anggota dari {_n(result.families)} keluarga, {where}, "
        f"ditulis ke {result.path} ({result.format.upper()})."
    )


def register(app: typer.Typer) -> None:
    """Add ``tepat export`` to ``app``."""
    app.command("export")(export_command)
