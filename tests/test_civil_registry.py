"""Deaths and moves from a civil-registry change file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tepat.domain.access import system_actor
from tepat.errors import ValidationError
from tepat.services import civil_registry, registry_history, registry_reads
from tests.factories import make_family, member_values


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dukcapil.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_deaths_and_moves_are_applied_with_history_and_reported(db, admin, tmp_path: Path) -> None:
    alone = member_values("Mbah Karto", "L", date(1940, 1, 1))
    lone_family = make_family(db, admin, members=[alone])
    head = member_values("Bambang", "L", date(1970, 3, 3))
    child = member_values("Tono", "L", date(2000, 4, 4), "anak")
    big_family = make_family(db, admin, members=[head, child])
    movers = [
        member_values("Ayu", "P", date(1985, 5, 5)),
        member_values("Bima", "L", date(2010, 6, 6), "anak"),
    ]
    moved_family = make_family(db, admin, members=movers)
    text = (
        "nik,peristiwa,tanggal\n"
        f"{alone['nik']},meninggal,2026-02-01\n"
        f"{head['nik']},meninggal,03-02-2026\n"
        f"{movers[0]['nik']},pindah_keluar,2026-02-10\n"
        f"{movers[1]['nik']},pindah_keluar,2026-02-10\n"
        "3275010101019999,meninggal,2026-02-01\n"
        "3.27501E+15,meninggal,2026-02-01\n"
        f"{child['nik']},lahir,2026-02-01\n"
        f"{child['nik']},meninggal,kemarin\n"
    )
    report = civil_registry.import_change_file(db, system_actor(), _write(tmp_path, text))
    assert report.rows_read == 8
    assert len(report.members_deactivated) == 4
    assert sorted(report.families_deactivated) == sorted([lone_family, moved_family])
    assert report.heads_gone == [big_family]  # still has Tono: needs a new head and KK, flagged
    assert [n for _, n in report.not_found] == ["3275**********99"]
    assert {e.field for e in report.invalid} == {"nik", "peristiwa", "tanggal"}
    assert report.payments_blocked == 0  # hook until programmes exist

    lone = registry_reads.get_family(db, admin, lone_family)
    assert lone.family["registry_status"] == "nonaktif" and lone.family["inactive_reason"] == "meninggal"
    assert lone.members[0]["life_status"] == "meninggal" and lone.members[0]["death_date"] == date(2026, 2, 1)
    moved = registry_reads.get_family(db, admin, moved_family)
    assert moved.family["inactive_reason"] == "pindah"
    big = registry_reads.get_family(db, admin, big_family)
    assert big.family["registry_status"] == "aktif"
    history = registry_history.family_history(db, admin, big_family)
    assert any("Dukcapil" in h.reason and h.actor == "sistem" for h in history)

    again = civil_registry.import_change_file(db, system_actor(), _write(tmp_path, text))
    assert len(again.members_deactivated) == 0 and len(again.already_inactive) == 4
    assert "kepala_keluarga_hilang" in again.as_dict()


def test_a_file_without_the_columns_is_refused(db, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="Kolom wajib"):
        civil_registry.import_change_file(db, system_actor(), _write(tmp_path, "nomor;kejadian\n1;2\n"))


def test_semicolons_and_english_headers(db, admin, tmp_path: Path) -> None:
    person = member_values("Rudi", "L", date(1960, 7, 7))
    make_family(db, admin, members=[person])
    report = civil_registry.import_change_file(
        db, system_actor(), _write(tmp_path, f"NIK;event;date\n{person['nik']};meninggal;2026-01-05\n")
    )
    assert len(report.members_deactivated) == 1


def _cli():
    from tepat.cli import app
    from tepat.cli import cases as case_cli

    if not any(g.name == "civil-registry" for g in app.registered_groups):
        case_cli.register(app)
    return app


def test_cli_import_prints_a_plain_report(db, admin, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    person = member_values("Rudi", "L", date(1960, 7, 7))
    family_id = make_family(db, admin, members=[person])
    path = _write(
        tmp_path,
        f"nik,peristiwa,tanggal\n{person['nik']},meninggal,2026-01-05\n3275010101019999,pindah_keluar,2026-01-05\n",
    )
    result = CliRunner().invoke(_cli(), ["civil-registry", "import", str(path), "--db", db.url])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "2 baris dibaca.\n"
        "1 anggota dinonaktifkan, 1 keluarga dinonaktifkan (tidak ada anggota aktif lagi).\n"
        "0 hak bantuan yang belum dibayar diblokir.\n"
        "  baris 3: NIK 3275**********99 tidak ada di registri\n"
    )
    assert registry_reads.get_family(db, admin, family_id).family["registry_status"] == "nonaktif"
    missing = CliRunner().invoke(
        _cli(), ["civil-registry", "import", str(tmp_path / "tidak-ada.csv"), "--db", db.url]
    )
    assert missing.exit_code == 1 and "Galat: Berkas tidak ditemukan" in missing.output
