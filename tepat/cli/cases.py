"""CLI commands: ``tepat civil-registry import FILE`` and ``tepat cases overdue|list``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tepat.cli.common import (
    DatabaseOption,
    JsonOption,
    fail,
    open_as_office,
    open_database,
    print_json,
)
from tepat.domain.access import system_actor
from tepat.services import cases, civil_registry

civil_app = typer.Typer(
    help="Civil-registry (Dukcapil) change files: deaths and moves.", no_args_is_help=True
)
cases_app = typer.Typer(help="Citizen cases: usul, sanggah, pengaduan.", no_args_is_help=True)


@civil_app.command("import")
def import_changes(
    file: Annotated[
        Path, typer.Argument(help="CSV with columns nik, peristiwa (meninggal|pindah_keluar), tanggal.")
    ],
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deactivate the members named in a change file and report what changed."""
    if not file.is_file():
        fail(f"Berkas tidak ditemukan: {file}")
    report = civil_registry.import_change_file(open_database(db_url), system_actor(), file)
    if as_json:
        print_json(report.as_dict())
        return
    typer.echo(f"{report.rows_read} baris dibaca.")
    typer.echo(
        f"{len(report.members_deactivated)} anggota dinonaktifkan, "
        f"{len(report.families_deactivated)} keluarga dinonaktifkan (tidak ada anggota aktif lagi)."
    )
    typer.echo(f"{report.payments_blocked} hak bantuan yang belum dibayar diblokir.")
    if report.heads_gone:
        typer.echo(
            f"{len(report.heads_gone)} keluarga kehilangan kepala keluarga (perlu KK baru): "
            + ", ".join(str(f) for f in report.heads_gone)
        )
    if report.already_inactive:
        typer.echo(f"{len(report.already_inactive)} NIK sudah nonaktif sebelumnya.")
    for row, nik in report.not_found:
        typer.echo(f"  baris {row}: NIK {nik} tidak ada di registri")
    for problem in report.invalid:
        typer.echo(f"  baris {problem.row}: {problem.field}: {problem.message}")


@cases_app.command("overdue")
def overdue(db_url: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """Open sanggah past their 14-day deadline."""
    rows = cases.overdue_sanggah(*open_as_office(db_url))
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("Tidak ada sanggah yang melewati batas 14 hari.")
        return
    typer.echo(f"{len(rows)} sanggah melewati batas 14 hari:")
    for r in rows:
        typer.echo(
            f"  {r.tracking_number}  {r.kelurahan_name:<20} {r.state_label:<20} batas {r.deadline:%d-%m-%Y}"
        )


@cases_app.command("list")
def list_(
    kind: Annotated[str, typer.Option("--kind", help="usul, sanggah or pengaduan.")] = "",
    open_only: Annotated[bool, typer.Option("--open", help="Only cases not closed yet.")] = False,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List cases, newest first."""
    rows = cases.list_cases(*open_as_office(db_url), kind=kind or None, open_only=open_only)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        late = " TERLAMBAT" if r.overdue else ""
        typer.echo(f"{r.tracking_number}  {r.kind:<9} {r.kelurahan_name:<20} {r.state_label}{late}")


def register(app: typer.Typer) -> None:
    app.add_typer(civil_app, name="civil-registry")
    app.add_typer(cases_app, name="cases")
