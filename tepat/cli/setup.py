"""``tepat init``: create or upgrade the database and load the region codes."""

from __future__ import annotations

from typing import Annotated

import typer

from tepat.cli.common import DatabaseOption, JsonOption, open_database, print_json
from tepat.domain.formatting import number
from tepat.domain.office import Office
from tepat.services.setup import init_database


def init(
    office: Annotated[
        str | None,
        typer.Option(
            "--office",
            help="Kabupaten/kota code the database serves, e.g. 32.76 (needed once; again with another code to add an office to a province's database; see docs/scaling.md).",
        ),
    ] = None,
    agency: Annotated[
        str, typer.Option("--agency", help="The office's name (default: Dinas Sosial <kab/kota>).")
    ] = "",
    short_agency: Annotated[
        str, typer.Option("--short-agency", help="Its short name (default: Dinsos <kab/kota>).")
    ] = "",
    address: Annotated[str, typer.Option("--address", help="The letterhead's address line.")] = "",
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create or upgrade the schema, load the 91,599 Kepmendagri 2025 region codes, choose the office (the
    kabupaten/kota served) and add the seed's programmes.

    Programmes already in the catalogue (by code) are left as the admin edited them.
    """
    database = open_database(db)
    result = init_database(
        database,
        office=office,
        seed_programmes=True,
        agency=agency,
        short_agency=short_agency,
        address=address,
        progress=lambda line: typer.echo(line, err=as_json),  # with --json, stdout holds the JSON alone
    )
    chosen = result.office

    def described(office: Office) -> dict[str, str]:
        return {
            "code": office.code,
            "name": office.name,
            "agency": office.agency,
            "province": office.province_name,
        }

    if as_json:
        print_json(
            {
                "regions_loaded": result.regions_loaded,
                "regions_total": result.regions_total,
                "office": None if chosen is None else described(chosen),
                "offices": [described(o) for o in result.offices],
                "programmes_added": list(result.programmes_added),
                "citus_tables": list(result.distributed),
            }
        )
        return
    typer.echo(
        f"Basis data siap: {number(result.regions_total)} kode wilayah ({number(result.regions_loaded)} baru/berubah)."
    )
    if chosen is None:
        typer.echo(
            "Kantor belum dipilih: jalankan lagi dengan --office KODE (kode kabupaten/kota yang dilayani)."
        )
        return
    for served in result.offices:
        typer.echo(f"Kantor: {served.agency} ({served.code}, {served.province_name}).")
    if result.programmes_added:
        typer.echo("Program ditambahkan ke katalog: " + ", ".join(result.programmes_added) + ".")
    if result.distributed:
        typer.echo(f"Citus: {len(result.distributed)} tabel dibagi ke klaster menurut kantor.")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
