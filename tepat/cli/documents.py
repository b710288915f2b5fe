"""CLI commands: ``tepat dokumen nominatif|bast|semua|siklus|realisasi`` and ``tepat fasilitas add|list|revoke``.

Run on the server by its operator, they act as the system administrator of the
whole city (like the other commands); every document printed is audited under
that name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from tepat.cli import common
from tepat.cli.common import (
    DatabaseOption,
    JsonOption,
    fail,
    open_as_office,
    parse_day,
    print_json,
)
from tepat.domain.formatting import moment, number, rupiah
from tepat.services import coverage, documents
from tepat.services import realisation as realisation_report

documents_app = typer.Typer(
    help="Documents: Daftar Nominatif, BAST, realisation report.", no_args_is_help=True
)
facilities_app = typer.Typer(
    help="Health facilities and their API keys for the coverage check.", no_args_is_help=True
)

Kelurahan = Annotated[str, typer.Option("--kelurahan", help="Kelurahan code, e.g. 32.76.01.1006.")]
Out = Annotated[Path, typer.Option("--out", help="Output file.")]
SignedOn = Annotated[
    str | None, typer.Option("--tanggal", help="Date of signing (YYYY-MM-DD; default today).")
]


def _signed_on(raw: str | None) -> date | None:
    return None if raw is None else parse_day(raw, "--tanggal")


def _write(render: Callable[[], documents.Document], out: Path, as_json: bool) -> None:
    """Check the target folder first, then render and write."""
    if out.parent and not out.parent.exists():
        fail(f"Folder tidak ada: {out.parent}")
    if not as_json:
        typer.echo(f"Menyusun {out.name} …", err=True)
    doc = render()
    out.write_bytes(doc.content)
    common.tell(
        as_json,
        {**doc.summary(), "berkas": str(out)},
        f"{out} ditulis: {number(doc.rows)} baris, {rupiah(doc.total)}.",
    )


@documents_app.command("nominatif")
def nominatif(
    cycle: Annotated[int, typer.Argument(help="Cycle id.")],
    kelurahan: Kelurahan,
    out: Out,
    tanggal: SignedOn = None,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Daftar Nominatif (by-name list with full NIK) of one kelurahan as PDF; audited."""
    signed_on = _signed_on(tanggal)
    _write(
        lambda: documents.nominatif(*open_as_office(db_url), cycle, kelurahan, signed_on=signed_on),
        out,
        as_json,
    )


@documents_app.command("bast")
def bast(
    cycle: Annotated[int, typer.Argument(help="Cycle id.")],
    kelurahan: Kelurahan,
    out: Out,
    tanggal: SignedOn = None,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Berita Acara Serah Terima of one kelurahan as PDF; audited."""
    signed_on = _signed_on(tanggal)
    _write(
        lambda: documents.bast(*open_as_office(db_url), cycle, kelurahan, signed_on=signed_on), out, as_json
    )


@documents_app.command("semua")
def every_kelurahan(
    cycle: Annotated[int, typer.Argument(help="Cycle id.")],
    folder: Annotated[Path, typer.Option("--folder", help="Folder for the files (made if missing).")],
    tanggal: SignedOn = None,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Daftar Nominatif and BAST of every kelurahan of a frozen cycle, two PDFs per kelurahan; each audited."""
    signed_on = _signed_on(tanggal)
    db, actor = open_as_office(db_url)
    found = documents.cycle_documents(db, actor, cycle)  # refuses a cycle that is not frozen, before any file
    folder.mkdir(parents=True, exist_ok=True)
    written: list[dict[str, object]] = []
    for i, k in enumerate(found.kelurahan, start=1):
        if not as_json:
            typer.echo(
                f"[{i}/{len(found.kelurahan)}] {k['kelurahan']} ({number(k['handed_over'])} penerima) …",
                err=True,
            )
        for make in (documents.nominatif, documents.bast):
            doc = make(db, actor, cycle, k["kelurahan_code"], signed_on=signed_on)
            (folder / doc.filename).write_bytes(doc.content)
            written.append(
                {**doc.summary(), "kelurahan": k["kelurahan_code"], "berkas": str(folder / doc.filename)}
            )
    common.tell(
        as_json,
        {"siklus": found.cycle["name"], "berkas": written},
        f"{len(written)} berkas ditulis di {folder} ({len(found.kelurahan)} kelurahan, {rupiah(found.total)}).",
    )


@documents_app.command("siklus")
def cycle_kelurahan(
    cycle: Annotated[int, typer.Argument(help="Cycle id.")],
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """The kelurahan of a frozen cycle, with recipients and amount (what to print)."""
    found = documents.cycle_documents(*open_as_office(db_url), cycle)
    if as_json:
        print_json(
            {
                "siklus": found.cycle["name"],
                "status": found.cycle["state"],
                "jumlah": found.total,
                "kelurahan": [
                    {
                        "kode": k["kelurahan_code"],
                        "nama": k["kelurahan"],
                        "kecamatan": k["kecamatan"],
                        "penerima": k["handed_over"],
                        "jumlah": k["amount"],
                        "dibayar": k["paid"],
                        "diblokir": k["blocked"],
                    }
                    for k in found.kelurahan
                ],
            }
        )
        return
    typer.echo(
        f"{found.cycle['name']} ({found.cycle['state']}): {len(found.kelurahan)} kelurahan, {rupiah(found.total)}"
    )
    for k in found.kelurahan:
        typer.echo(
            f"  {k['kelurahan_code']}  {k['kelurahan']:<22} {number(k['handed_over']):>8} penerima  {rupiah(k['amount'])}"
        )


@documents_app.command("realisasi")
def realisation(
    year: Annotated[int, typer.Option("--year", help="Budget year.")],
    out: Annotated[Path, typer.Option("--out", help="Output file: .pdf or .xlsx.")],
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Realisation report (budget vs planned vs paid by programme, kecamatan, month) as PDF or XLSX."""
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".xlsx"):
        fail("Berkas keluaran harus berakhiran .pdf atau .xlsx")
    make = realisation_report.realisation_pdf if suffix == ".pdf" else realisation_report.realisation_xlsx
    _write(lambda: make(*open_as_office(db_url), year), out, as_json)


@facilities_app.command("add")
def add(
    code: Annotated[str, typer.Option("--code", help="Short code, e.g. RSUD-CAM.")],
    name: Annotated[str, typer.Option("--name", help="Facility name.")],
    kind: Annotated[str, typer.Option("--kind", help="rsud, puskesmas or klinik.")] = "rsud",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a facility; its API key is printed once (only its hash is stored)."""
    issued = coverage.register_facility(*open_as_office(db_url), code=code, name=name, kind=kind)
    if as_json:
        print_json(issued.as_dict())
        return
    typer.echo(f"Fasilitas {issued.code} ({issued.name}) terdaftar.")
    typer.echo(f"Kunci API (simpan sekarang, tidak ditampilkan lagi): {issued.key}")


@facilities_app.command("list")
def list_(db_url: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """Facilities, their key prefix, state and checks in the last 30 days."""
    rows = coverage.list_facilities(*open_as_office(db_url))
    if as_json:
        print_json(
            [
                {
                    "kode": r["code"],
                    "nama": r["name"],
                    "jenis": r["kind"],
                    "awalan_kunci": r["key_prefix"],
                    "aktif": r["active"],
                    "cek_30_hari": r["checks"],
                    "tercakup_30_hari": r["covered"],
                    "cek_terakhir": r["last_check"],
                }
                for r in rows
            ]
        )
        return
    if not rows:
        typer.echo("Belum ada fasilitas terdaftar.")
    for r in rows:
        state = "aktif" if r["active"] else "dicabut"
        last = moment(r["last_check"]) if r["last_check"] else "–"
        typer.echo(
            f"{r['code']:<12} {r['name']:<36} {r['kind_label']:<10} {r['key_prefix']}…  {state:<8} "
            f"{number(r['checks'])} cek (30 hari), terakhir {last}"
        )


@facilities_app.command("revoke")
def revoke(
    code: Annotated[str, typer.Argument(help="Facility code.")],
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a facility's API key for good."""
    done = coverage.revoke_facility(*open_as_office(db_url), code)
    common.tell(as_json, {**done, "dicabut": True}, f"Kunci fasilitas {done['kode']} dicabut.")


def register(app: typer.Typer) -> None:
    """Add this module's command groups to the ``tepat`` command."""
    app.add_typer(documents_app, name="dokumen")
    app.add_typer(facilities_app, name="fasilitas")
