"""CLI commands: ``tepat pelatihan list|enrol|decline|attend|finish|sheet`` (training seats of a cycle).

People are named by NIK; every change acts as the account given with ``--as`` (its role and area apply) and is
audited under its name.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from tepat.cli import common
from tepat.cli.common import AsOption, AsReader, DatabaseOption, JsonOption, fail, open_database, print_json
from tepat.domain.formatting import number
from tepat.services import documents, training

training_app = typer.Typer(
    help="Training seats: enrolment, attendance, completion, attendance sheet.", no_args_is_help=True
)

Cycle = Annotated[int, typer.Argument(help="Cycle id of the training batch.")]
Niks = Annotated[list[str], typer.Argument(help="NIK of each person concerned.")]


def _day(raw: str) -> date:
    return common.parse_day(raw, "--date")


@training_app.command("list")
def list_seats(
    cycle: Cycle, acting: AsReader = "", db_url: DatabaseOption = None, as_json: JsonOption = False
) -> None:
    """The seats of a training batch: state, days attended of days recorded (NIK masked)."""
    db = open_database(db_url)
    found = training.roster(db, common.reader(db, acting), cycle)
    if as_json:
        print_json(
            {
                "siklus": cycle,
                "hari": [d.isoformat() for d in found.days],
                "kursi": [
                    {
                        "id": s.id,
                        "nama": s.name,
                        "nik": s.nik,
                        "kelurahan": s.kelurahan_code,
                        "status": s.state.value,
                        "hadir": s.attended,
                        "dicatat": s.recorded,
                        "catatan": s.note,
                    }
                    for s in found.seats
                ],
            }
        )
        return
    typer.echo(
        f"{found.cycle.name}: {number(len(found.seats))} kursi, {number(found.open_seats)} belum selesai; "
        f"{number(len(found.days))} hari kehadiran dicatat."
    )
    for s in found.seats:
        typer.echo(f"  {s.nik}  {s.name:<30} {s.state.label:<22} hadir {s.attended}/{s.recorded}  {s.note}")


@training_app.command("enrol")
def enrol(
    cycle: Cycle,
    niks: Niks,
    acting: AsOption = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Enrol the people holding offered seats."""
    db = open_database(db_url)
    actor = common.acting(db, acting)
    done = training.enrol(db, actor, cycle, training.seats_of_niks(db, actor, cycle, niks))
    common.tell(as_json, {"terdaftar": done}, f"{number(done)} peserta didaftarkan.")


@training_app.command("decline")
def decline(
    cycle: Cycle,
    niks: Niks,
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")] = "",
    acting: AsOption = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record offered seats turned down (with the reason)."""
    db = open_database(db_url)
    actor = common.acting(db, acting)
    done = training.decline(db, actor, cycle, training.seats_of_niks(db, actor, cycle, niks), reason)
    common.tell(as_json, {"dibatalkan": done}, f"{number(done)} kursi dibatalkan.")


@training_app.command("attend")
def attend(
    cycle: Cycle,
    day: Annotated[str, typer.Option("--date", help="Day of training (YYYY-MM-DD).")],
    niks: Annotated[list[str] | None, typer.Argument(help="NIK of each person present.")] = None,
    acting: AsOption = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Attendance on one day: the NIKs given were present, every other enrolled participant absent."""
    db = open_database(db_url)
    actor = common.acting(db, acting)
    present_ids = training.seats_of_niks(db, actor, cycle, niks or [])
    present, absent = training.record_attendance(db, actor, cycle, _day(day), present_ids)
    common.tell(
        as_json,
        {"tanggal": day, "hadir": present, "absen": absent},
        f"Kehadiran {day}: {number(present)} hadir, {number(absent)} tidak hadir.",
    )


@training_app.command("finish")
def finish(
    cycle: Cycle,
    niks: Niks,
    not_completed: Annotated[
        bool, typer.Option("--not-completed", help="Did not complete (dropped out, failed).")
    ] = False,
    note: Annotated[
        str, typer.Option("--note", help="Why not completed (required with --not-completed).")
    ] = "",
    acting: AsOption = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """End enrolled seats: completed (default) or not completed with a note."""
    db = open_database(db_url)
    actor = common.acting(db, acting)
    done = training.finish(
        db,
        actor,
        cycle,
        training.seats_of_niks(db, actor, cycle, niks),
        completed=not not_completed,
        note=note,
    )
    word = "tidak lulus" if not_completed else "lulus (selesai)"
    common.tell(as_json, {"selesai": done, "lulus": not not_completed}, f"{number(done)} peserta {word}.")


@training_app.command("sheet")
def sheet(
    cycle: Cycle,
    out: Annotated[Path, typer.Option("--out", help="Output PDF.")],
    days: Annotated[
        list[str] | None, typer.Option("--date", help="A day of training; repeat, at most 6.")
    ] = None,
    acting: AsReader = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """The attendance sheet (Daftar Hadir) to sign, as PDF; audited."""
    if out.parent and not out.parent.exists():
        fail(f"Folder tidak ada: {out.parent}")
    db = open_database(db_url)
    doc = documents.attendance_sheet(db, common.reader(db, acting), cycle, [_day(d) for d in days or []])
    out.write_bytes(doc.content)
    common.tell(as_json, {**doc.summary(), "berkas": str(out)}, f"{out} ditulis: {number(doc.rows)} peserta.")


def register(app: typer.Typer) -> None:
    """Add ``tepat pelatihan``."""
    app.add_typer(training_app, name="pelatihan")
