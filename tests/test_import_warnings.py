"""A family without a head and a member marked deceased are reported as warnings (import report, family page), and a
family without an active head is kept out of cycles until fixed (issue 12 points 2 and 3)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.services import enrolment, registry_reads
from tepat.services.imports import import_file
from tests.programme_data import insert_programme
from tests.registry_files import family, write_csv
from tests.test_web_support import add_user, finished_job, login, make_app


def _headless(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [
        dict(r, hubungan_keluarga="istri_suami" if i == 0 else r["hubungan_keluarga"])
        for i, r in enumerate(rows)
    ]


def test_the_import_report_warns_of_a_family_without_head_and_of_a_deceased_member(
    db, admin, tmp_path: Path
) -> None:
    headless = _headless(family())
    fine = family()
    fine[2] = dict(fine[2], status_hidup="meninggal", tanggal_meninggal="2025-03-04")
    result = import_file(db, admin, write_csv(tmp_path / "w.csv", headless + fine))
    assert result.rows_rejected == 0 and result.families_created == 2  # warnings do not reject anything
    warnings = [(w.row, w.field, w.message) for w in result.warnings]
    assert (
        2,
        "hubungan_keluarga",
        (
            "Keluarga ini tidak punya kepala keluarga aktif; tidak diikutkan dalam siklus "
            "bantuan sampai diperbaiki"
        ),
    ) in warnings
    assert (
        7,
        "status_hidup",
        (
            "Anggota ditandai meninggal tetapi masih aktif; nonaktifkan dengan alasan meninggal "
            "(halaman anggota atau berkas Dukcapil)"
        ),
    ) in warnings
    assert len(warnings) == 2 and result.as_dict()["warnings"][0]["row"] == 2


def test_the_family_page_warns_and_cycles_leave_a_headless_family_out(db, admin, tmp_path: Path) -> None:
    headless, fine = _headless(family()), family()
    import_file(db, admin, write_csv(tmp_path / "w.csv", headless + fine))
    ids = {
        r["kk_number"]: r["id"] for r in registry_reads.search_families(db, admin, "Budi Santoso", limit=10)
    }
    insert_programme(db)
    listed = {
        r["family_id"]
        for r in enrolment.candidates(db, admin, "BLT-APBD", reference_date=date(2025, 7, 1), limit=50).page
    }
    assert listed == {ids[fine[0]["nomor_kk"]]}
    add_user(db, "ani", Role.OPERATOR, "32.75.01")
    with TestClient(make_app(db, tmp_path)) as client:
        login(client, "ani")
        page = client.get(f"/keluarga/{ids[headless[0]['nomor_kk']]}").text
        assert 'id="peringatan-kepala"' in page and "tidak diikutkan dalam siklus" in page
        assert 'id="peringatan-kepala"' not in client.get(f"/keluarga/{ids[fine[0]['nomor_kk']]}").text


def test_the_web_import_page_and_the_cli_show_the_warnings(db, admin, tmp_path: Path) -> None:
    import io

    from typer.testing import CliRunner

    from tepat.cli import app

    path = write_csv(tmp_path / "w.csv", _headless(family()))
    printed = CliRunner().invoke(app, ["import", str(path), "--db", db.url])
    assert printed.exit_code == 0 and "Perlu diperiksa (1 baris tersimpan)" in printed.output
    add_user(db, "ani", Role.OPERATOR, "32.75.01")
    with TestClient(make_app(db, tmp_path)) as client:
        csrf = login(client, "ani")
        sent = client.post(
            "/impor",
            data={"csrf_token": csrf, "mode": "valid-only"},
            files={
                "file": (
                    "w.csv",
                    io.BytesIO(write_csv(tmp_path / "v.csv", _headless(family())).read_bytes()),
                    "text/csv",
                )
            },
            follow_redirects=False,
        )
        sent = finished_job(client, sent)
        assert (
            sent.status_code == 200
            and 'id="peringatan-impor"' in sent.text
            and "tidak punya kepala keluarga" in sent.text
        )
