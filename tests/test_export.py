"""Exporting the registry in the canonical layout, and the export → import round trip."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from tepat.domain.access import Role
from tepat.domain.households import CANONICAL_COLUMNS
from tepat.errors import PermissionDenied, ValidationError
from tepat.services.exports import export_registry
from tepat.services.imports import import_file
from tepat.store.database import Database
from tepat.store.schema import audit_log, families, family_versions, member_versions, members
from tests.conftest import actor
from tests.registry_files import OTHER_KELURAHAN, family, write_csv


def _seed(db: Database, admin, tmp_path: Path) -> list[dict[str, str]]:
    rows = (
        family()
        + family(kelurahan=OTHER_KELURAHAN)
        + family(alamat="Gg. Melati, RT 05", aset_mobil="1", luas_lantai="120")
    )
    rows[1] = dict(rows[1], hamil="1", disabilitas="netra", penyakit_kronis="diabetes", pendidikan="")
    rows[2] = dict(
        rows[2],
        status_hidup="meninggal",
        tanggal_meninggal="2024-03-01",
        partisipasi_sekolah="tidak_sekolah_lagi",
    )
    for r in rows[6:]:
        r.update(status_verifikasi="terverifikasi", tanggal_verifikasi="2025-06-30")
    import_file(db, admin, write_csv(tmp_path / "seed.csv", rows))
    return rows


def _read(path: Path) -> pl.DataFrame:
    if path.suffix == ".csv":
        return pl.read_csv(path, infer_schema=False)
    if path.suffix == ".xlsx":
        return pl.read_excel(path, infer_schema_length=0)
    return pl.read_parquet(path)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_export_then_import_changes_nothing(db: Database, admin, tmp_path: Path, suffix: str) -> None:
    rows = _seed(db, admin, tmp_path)
    out = tmp_path / f"registri{suffix}"
    result = export_registry(db, admin, out)
    assert (result.rows, result.families, result.format) == (9, 3, suffix[1:])
    table = _read(out)
    assert table.columns == list(CANONICAL_COLUMNS)
    assert table["nik"].to_list() == [r["nik"] for r in rows]
    assert table.row(1, named=True)["hamil"] == "1" and table.row(0, named=True)["hamil"] is None
    assert table.row(0, named=True)["kode_kelurahan"] == "32.75.01.1001"
    assert table.row(6, named=True)["tanggal_verifikasi"] == "2025-06-30"
    again = import_file(db, admin, out)
    assert (
        again.rows_rejected,
        again.families_created,
        again.families_updated,
        again.members_created,
        again.members_updated,
    ) == (0, 0, 0, 0, 0)
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(family_versions)).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(member_versions)).scalar_one() == 0


def test_export_into_an_empty_database_rebuilds_the_registry(db: Database, admin, tmp_path: Path) -> None:
    _seed(db, admin, tmp_path)
    out = tmp_path / "r.csv"
    export_registry(db, admin, out)
    columns = [
        c.name
        for c in members.columns
        if c.name not in ("id", "family_id", "valid_from", "import_id", "change_reason")
    ]
    with db.read() as conn:
        before = conn.execute(sa.select(*(members.c[c] for c in columns)).order_by(members.c.nik)).all()
    with db.begin() as conn:
        conn.execute(members.delete())
        conn.execute(families.delete())
    result = import_file(db, admin, out)
    assert (result.families_created, result.members_created) == (3, 9)
    with db.read() as conn:
        assert (
            conn.execute(sa.select(*(members.c[c] for c in columns)).order_by(members.c.nik)).all() == before
        )


def test_export_one_kecamatan_or_kelurahan(db: Database, admin, tmp_path: Path) -> None:
    _seed(db, admin, tmp_path)
    assert export_registry(db, admin, tmp_path / "a.csv", area_code="32.75.02").rows == 3
    assert export_registry(db, admin, tmp_path / "b.csv", area_code="3275011001").rows == 6
    assert set(_read(tmp_path / "b.csv")["kode_kelurahan"]) == {"32.75.01.1001"}
    with db.read() as conn:
        entry = (
            conn.execute(
                sa.select(audit_log).where(audit_log.c.action == "registry.export").order_by(audit_log.c.id)
            )
            .all()[-1]
            ._mapping
        )
    assert (entry["actor"], entry["area_code"], entry["detail"]["rows"]) == ("admin", "32.75.01.1001", 6)


def test_an_operator_exports_only_their_area(db: Database, admin, tmp_path: Path) -> None:
    _seed(db, admin, tmp_path)
    operator = actor(Role.OPERATOR, "32.75.02")
    assert export_registry(db, operator, tmp_path / "mine.csv").rows == 3
    with pytest.raises(PermissionDenied, match="di luar wilayah kerja Anda"):
        export_registry(db, operator, tmp_path / "theirs.csv", area_code="32.75.01")
    assert not (tmp_path / "theirs.csv").exists()


def test_analysts_may_not_export_personal_data(db: Database, tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied, match="agregat"):
        export_registry(db, actor(Role.ANALYST, "32.75"), tmp_path / "x.csv")


def test_unknown_format_or_area_is_refused(db: Database, admin, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="Format berkas tidak dikenal: json"):
        export_registry(db, admin, tmp_path / "x.json")
    with pytest.raises(ValidationError, match="Kode wilayah 32.75.99 tidak dikenal"):
        export_registry(db, admin, tmp_path / "x.csv", area_code="32.75.99")


def test_xlsx_export_writes_identifiers_as_text(db: Database, admin, tmp_path: Path) -> None:
    rows = _seed(db, admin, tmp_path)
    out = tmp_path / "r.xlsx"
    export_registry(db, admin, out)
    import openpyxl

    sheet = openpyxl.load_workbook(out, read_only=True).active
    second = next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))
    assert second[CANONICAL_COLUMNS.index("nik")] == rows[0]["nik"]
    assert second[CANONICAL_COLUMNS.index("nomor_kk")] == rows[0]["nomor_kk"]


def test_export_reports_progress_up_to_the_total(db, admin, tmp_path):
    from tepat.services.exports import export_registry
    from tests.factories import make_family

    for _ in range(3):
        make_family(db, admin)
    seen: list[tuple[int, int | None]] = []
    result = export_registry(
        db, admin, tmp_path / "out.csv", progress=lambda done, total: seen.append((done, total))
    )
    assert seen and seen[-1] == (result.rows, result.rows) == (9, 9)
