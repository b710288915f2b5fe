"""``tepat pelatihan …`` and ``tepat siklus close-ended``: a batch run from the command line, people named by NIK."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from tepat.cli import app
from tepat.domain.access import Role
from tepat.services import cycles
from tepat.store.schema import entitlements
from tests.document_data import pdf_text
from tests.factories import KELURAHAN
from tests.programme_support import CHECKER
from tests.test_programme_completion import batch, ranked  # noqa: F401 (fixtures)
from tests.test_web_support import add_user

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


def test_a_batch_from_the_command_line(db, batch, tmp_path: Path) -> None:  # noqa: F811
    add_user(db, "ani", Role.OPERATOR, KELURAHAN)
    with db.read() as conn:
        people = conn.execute(
            sa.select(entitlements.c.recipient_nik, entitlements.c.recipient_name)
            .where(
                entitlements.c.cycle_id == batch,
                entitlements.c.kelurahan_code == KELURAHAN,
                entitlements.c.state == "terjadwal",
            )
            .order_by(entitlements.c.rank)
        ).all()
    (first, first_name), (second, second_name) = people[:2]
    cycle = str(batch)
    r = _run("pelatihan", "enrol", cycle, first, second, "--as", "ani", "--db", db.url)
    assert r.exit_code == 0 and r.stdout == "2 peserta didaftarkan.\n", r.output
    r = _run(
        "pelatihan", "attend", cycle, "--date", "2026-08-03", first, "--as", "ani", "--json", "--db", db.url
    )
    assert json.loads(r.stdout) == {"tanggal": "2026-08-03", "hadir": 1, "absen": 1}
    r = _run("pelatihan", "enrol", cycle, "3275019999999999", "--as", "ani", "--db", db.url)
    assert r.exit_code == 1 and "NIK tanpa kursi" in r.output and "3275019999999999" not in r.output  # masked
    r = _run("pelatihan", "finish", cycle, second, "--not-completed", "--as", "ani", "--db", db.url)
    assert r.exit_code == 1 and "Alasan tidak lulus wajib diisi" in r.output
    r = _run(
        "pelatihan",
        "finish",
        cycle,
        second,
        "--not-completed",
        "--note",
        "pindah kerja",
        "--as",
        "ani",
        "--db",
        db.url,
    )
    assert r.exit_code == 0 and "1 peserta tidak lulus" in r.stdout
    listing = json.loads(_run("pelatihan", "list", cycle, "--as", "ani", "--json", "--db", db.url).stdout)
    seats = {s["nama"]: s for s in listing["kursi"]}
    assert listing["hari"] == ["2026-08-03"] and seats[first_name]["status"] == "terdaftar"
    assert seats[first_name]["hadir"] == 1 and seats[second_name]["catatan"] == "pindah kerja"
    assert all(first not in s["nik"] for s in listing["kursi"])  # NIK masked
    sheet = tmp_path / "hadir.pdf"
    r = _run(
        "pelatihan",
        "sheet",
        cycle,
        "--date",
        "2026-08-03",
        "--out",
        str(sheet),
        "--as",
        "ani",
        "--db",
        db.url,
    )
    assert r.exit_code == 0, r.output
    assert "03-08-2026" in pdf_text(sheet.read_bytes())


def test_close_ended_closes_the_service_cycles_whose_coverage_ended(db, admin, ranked) -> None:  # noqa: F811
    add_user(db, "dinsos", Role.ADMIN, "32.75")
    started = date(2025, 1, 1)  # 12 months' coverage: ended 31 December 2025, before today
    cycle_id = cycles.create_cycle(
        db, admin, "LKM-NIK", name="LKM-NIK 2025", period_start=started, period_end=date(2025, 1, 31)
    )
    cycles.generate(db, admin, cycle_id)
    cycles.submit(db, admin, cycle_id)
    cycles.approve(db, CHECKER, cycle_id)
    r = _run("siklus", "close-ended", "--as", "dinsos", "--json", "--db", db.url)
    assert r.exit_code == 0 and json.loads(r.stdout) == {"ditutup": [cycle_id]}, r.output
    assert cycles.show(db, admin, cycle_id).cycle.state == "ditutup"
    r = _run("siklus", "close-ended", "--as", "dinsos", "--db", db.url)
    assert r.stdout == "0 siklus layanan yang jaminannya berakhir ditutup.\n"
