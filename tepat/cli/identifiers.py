"""``tepat nik check`` and ``tepat kk check``: the identifier checks of docs/registry.md."""

from __future__ import annotations

from typing import Annotated

import typer

from tepat.cli.common import JsonOption, print_json
from tepat.domain.nik import IdentifierCheck, check_kk, check_nik
from tepat.files.reference import shipped_region_index

nik_app = typer.Typer(help="NIK (Nomor Induk Kependudukan) tools.", no_args_is_help=True)
kk_app = typer.Typer(help="KK (family card number) tools.", no_args_is_help=True)


def _report(result: IdentifierCheck, as_json: bool) -> None:
    if as_json:
        print_json(result.as_dict())
    else:
        if result.valid:
            details = [f"wilayah {result.region_code}"]
            if result.sex:
                details.insert(0, "laki-laki" if result.sex == "L" else "perempuan")
            if result.birth_date:
                details.insert(1, f"lahir {result.birth_date.isoformat()}")
            typer.echo(f"{result.kind} {result.value} sah: " + ", ".join(details))
        else:
            typer.echo(f"{result.kind} tidak sah:")
        for e in result.errors:
            typer.echo(f"  - {e}")
        for w in result.warnings:
            typer.echo(f"  ! {w}")
    if not result.valid:
        raise typer.Exit(1)


@nik_app.command("check")
def nik_check(
    nik: Annotated[str, typer.Argument(help="The 16-digit NIK.")], as_json: JsonOption = False
) -> None:
    """Check a NIK: length, birth date (women +40), serial, region. Exit 1 when invalid."""
    _report(check_nik(nik, known_regions=shipped_region_index().kecamatan_codes()), as_json)


@kk_app.command("check")
def kk_check(
    kk: Annotated[str, typer.Argument(help="The 16-digit KK number.")], as_json: JsonOption = False
) -> None:
    """Check a KK number: length, issue date, serial, region. Exit 1 when invalid."""
    _report(check_kk(kk, known_regions=shipped_region_index().kecamatan_codes()), as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(nik_app, name="nik")
    app.add_typer(kk_app, name="kk")
