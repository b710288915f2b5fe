"""Importing CSV registry files: clean and messy files, modes, upsert, history, areas."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from tepat.domain.access import Role
from tepat.errors import ImportRejected, PermissionDenied, ValidationError
from tepat.services.imports import import_file
from tepat.store.database import Database
from tepat.store.schema import audit_log, families, family_versions, imports, member_versions, members
from tests.conftest import actor
from tests.factories import letters
from tests.registry_files import OTHER_KELURAHAN, family, kk, nik, row, write_csv


def _count(db: Database, table: sa.Table) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _member(db: Database, number: str) -> dict[str, object]:
    with db.read() as conn:
        return dict(conn.execute(sa.select(members).where(members.c.nik == number)).one()._mapping)


def _family(db: Database, number: str) -> dict[str, object]:
    with db.read() as conn:
        return dict(conn.execute(sa.select(families).where(families.c.kk_number == number)).one()._mapping)


def test_clean_file_creates_families_and_members(db: Database, admin, tmp_path: Path) -> None:
    rows = family() + family(kelurahan=OTHER_KELURAHAN)
    result = import_file(db, admin, write_csv(tmp_path / "dtks.csv", rows))
    assert (result.status, result.rows_read, result.rows_rejected) == ("done", 6, 0)
    assert (
        result.families_created,
        result.members_created,
        result.families_updated,
        result.members_updated,
    ) == (2, 6, 0, 0)
    fam = _family(db, rows[0]["nomor_kk"])
    assert fam["kecamatan_code"] == "32.75.01" and fam["rw"] == 3 and fam["floor_material"] == "keramik"
    assert fam["asset_refrigerator"] is True and fam["asset_motorcycle"] is False and fam["asset_car"] is None
    assert (fam["version"], fam["changed_by"], fam["change_reason"], fam["import_id"]) == (
        1,
        "admin",
        "impor dtks.csv",
        result.import_id,
    )
    assert (fam["registry_status"], fam["verification_status"]) == ("aktif", "belum")
    head = _member(db, rows[0]["nik"])
    assert (head["family_id"], head["name"], head["birth_date"], head["status"], head["life_status"]) == (
        fam["id"],
        "Budi Santoso",
        date(1980, 5, 17),
        "aktif",
        "hidup",
    )
    with db.read() as conn:
        run = conn.execute(sa.select(imports)).one()._mapping
        entry = (
            conn.execute(sa.select(audit_log).where(audit_log.c.action == "registry.import")).one()._mapping
        )
    assert (run["status"], run["rows_read"], run["members_created"], run["actor"]) == ("done", 6, 6, "admin")
    assert entry["entity_id"] == str(result.import_id) and entry["detail"]["families_created"] == 2


def test_reimporting_the_same_file_changes_nothing(db: Database, admin, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "dtks.csv", family() + family())
    import_file(db, admin, path)
    with db.read() as conn:
        before = conn.execute(
            sa.select(families.c.id, families.c.version, families.c.valid_from).order_by(families.c.id)
        ).all()
    again = import_file(db, admin, path)
    assert (again.families_created, again.families_updated, again.members_created, again.members_updated) == (
        0,
        0,
        0,
        0,
    )
    assert (_count(db, family_versions), _count(db, member_versions)) == (0, 0)
    with db.read() as conn:
        assert (
            conn.execute(
                sa.select(families.c.id, families.c.version, families.c.valid_from).order_by(families.c.id)
            ).all()
            == before
        )


def test_changed_rows_get_a_new_version_and_keep_the_old_one(db: Database, admin, tmp_path: Path) -> None:
    rows = family()
    import_file(db, admin, write_csv(tmp_path / "v1.csv", rows))
    changed = [dict(r, jenis_lantai="tanah", aset_kulkas="0") for r in rows]
    changed[2] = dict(changed[2], pendidikan="smp")
    result = import_file(db, admin, write_csv(tmp_path / "v2.csv", changed))
    assert (
        result.families_updated,
        result.members_updated,
        result.families_created,
        result.members_created,
    ) == (1, 1, 0, 0)
    fam = _family(db, rows[0]["nomor_kk"])
    assert (fam["floor_material"], fam["asset_refrigerator"], fam["version"], fam["change_reason"]) == (
        "tanah",
        False,
        2,
        "impor v2.csv",
    )
    with db.read() as conn:
        old = conn.execute(sa.select(family_versions)).one()._mapping
        old_member = conn.execute(sa.select(member_versions)).one()._mapping
    assert (old["id"], old["version"], old["floor_material"], old["change_reason"]) == (
        fam["id"],
        1,
        "keramik",
        "impor v1.csv",
    )
    assert old["valid_to"] is not None
    assert (old_member["nik"], old_member["education"], old_member["version"]) == (rows[2]["nik"], "sma", 1)
    assert _member(db, rows[2]["nik"])["version"] == 2 and _member(db, rows[0]["nik"])["version"] == 1


def test_columns_missing_from_the_file_are_left_alone(db: Database, admin, tmp_path: Path) -> None:
    rows = family()
    import_file(db, admin, write_csv(tmp_path / "full.csv", rows))
    few = [
        "nomor_kk",
        "kode_kelurahan",
        "rw",
        "rt",
        "nik",
        "nama",
        "jenis_kelamin",
        "tanggal_lahir",
        "hubungan_keluarga",
    ]
    result = import_file(
        db,
        admin,
        write_csv(tmp_path / "few.csv", [dict(r, nama=r["nama"].upper()) for r in rows], columns=few),
    )
    assert (result.members_updated, result.families_updated) == (3, 0)
    assert _family(db, rows[0]["nomor_kk"])["floor_material"] == "keramik"
    assert _member(db, rows[0]["nik"])["education"] == "sma"


def test_a_member_in_another_family_moves_with_history(db: Database, admin, tmp_path: Path) -> None:
    first, second = family(), family()
    import_file(db, admin, write_csv(tmp_path / "a.csv", first + second))
    child = dict(first[2], nomor_kk=second[0]["nomor_kk"], hubungan_keluarga="cucu")
    result = import_file(db, admin, write_csv(tmp_path / "b.csv", [child]))
    assert (result.members_updated, result.members_created) == (1, 0)
    moved = _member(db, child["nik"])
    assert moved["family_id"] == _family(db, second[0]["nomor_kk"])["id"] and moved["version"] == 2
    with db.read() as conn:
        old = conn.execute(sa.select(member_versions)).one()._mapping
    assert old["family_id"] == _family(db, first[0]["nomor_kk"])["id"]


def test_valid_only_stores_good_rows_and_reports_the_rest(db: Database, admin, tmp_path: Path) -> None:
    good = family()
    bad = row(kk(), nik="3.27501E+15")
    errors = tmp_path / "galat.csv"
    result = import_file(db, admin, write_csv(tmp_path / "mix.csv", good + [bad]), errors_path=errors)
    assert (result.rows_read, result.rows_rejected, result.members_created, result.families_created) == (
        4,
        1,
        3,
        1,
    )
    assert [(e.row, e.field, e.value) for e in result.errors] == [(5, "nik", "3.27501E+15")]
    assert "notasi ilmiah" in result.errors[0].message
    report = pl.read_csv(errors, infer_schema=False)
    assert report.columns == ["baris", "kolom", "nilai", "pesan"]
    assert report.row(0) == ("5", "nik", "3.27501E+15", result.errors[0].message)
    assert _count(db, members) == 3


def test_strict_mode_stores_nothing_when_a_row_is_bad(db: Database, admin, tmp_path: Path) -> None:
    rows = family() * 1 + family()
    rows[4] = dict(rows[4], tanggal_lahir="31/02/1983")
    errors = tmp_path / "galat.xlsx"
    with pytest.raises(ImportRejected) as caught:
        import_file(db, admin, write_csv(tmp_path / "s.csv", rows), mode="strict", errors_path=errors)
    assert caught.value.message == "1 baris bermasalah; tidak ada data yang disimpan"
    assert [(e.row, e.field) for e in caught.value.errors] == [(6, "tanggal_lahir")]
    assert (_count(db, families), _count(db, members)) == (0, 0)
    assert pl.read_excel(errors)["kolom"].to_list() == ["tanggal_lahir"]
    with db.read() as conn:
        run = conn.execute(sa.select(imports)).one()._mapping
    assert (run["status"], run["rows_rejected"], run["members_created"]) == ("rejected", 1, 0)


def test_strict_mode_imports_a_clean_file(db: Database, admin, tmp_path: Path) -> None:
    result = import_file(db, admin, write_csv(tmp_path / "ok.csv", family()), mode="strict")
    assert (result.status, result.members_created) == ("done", 3)


def test_messy_csv_as_excel_saves_it(db: Database, admin, tmp_path: Path) -> None:
    number = kk()
    rows = [
        row(
            number,
            kode_kelurahan="3275011001",
            tanggal_lahir="17/05/1980",
            aset_kulkas="Ya",
            jenis_kelamin="Laki-laki",
        ),
        row(
            number,
            name="Siti Aminah",
            sex="P",
            birth=date(1983, 2, 3),
            relationship="istri_suami",
            tanggal_lahir="30350",
            hubungan_keluarga="Istri/Suami",
            aset_kulkas="y",
        ),
        row(
            number,
            name="\u00a0Rizky  ",
            birth=date(2012, 9, 1),
            relationship="anak",
            tanggal_lahir="2012-09-01",
        ),
    ]
    rows[0]["nik"] = "'" + rows[0]["nik"]
    rows[1]["nik"] = rows[1]["nik"] + ".0"
    rows[2]["nik"] = " " + rows[2]["nik"][:4] + " " + rows[2]["nik"][4:] + "\u00a0"
    rows[0]["nomor_kk"] = number + ".0"
    path = write_csv(
        tmp_path / "excel.csv",
        rows,
        sep=";",
        bom=True,
        above=["DATA TERPADU KESEJAHTERAAN SOSIAL;;;", "Kelurahan Bekasijaya;;;", ""],
        below=[";;;;", "", ";;"],
    )
    result = import_file(db, admin, path)
    assert (result.rows_read, result.rows_rejected, result.members_created, result.families_created) == (
        3,
        0,
        3,
        1,
    )
    assert _member(db, nik(date(1983, 2, 3), "P", int(rows[1]["nik"][12:16])))["birth_date"] == date(
        1983, 2, 3
    )
    assert _member(db, rows[2]["nik"].replace(" ", "").replace("\u00a0", ""))["name"] == "Rizky"


def test_every_identifier_problem_is_reported_and_nothing_bad_stored(
    db: Database, admin, tmp_path: Path
) -> None:
    number = kk()
    problems = {
        "3.27501E+15": "NIK tertulis sebagai notasi ilmiah Excel (mis. 3.27501E+15); digit terakhir sudah hilang, ketik ulang sebagai teks",
        "327501170580": "NIK harus 16 digit, bukan 12 digit",
        "3275011713800001": "Bulan lahir pada NIK (13) harus 01–12",
        "3275013102800001": "Tanggal lahir pada NIK (31-02-80) bukan tanggal yang ada",
        "3275011705800000": "Nomor urut NIK (4 digit terakhir) tidak boleh 0000",
        "32750117O5800001": "NIK hanya boleh berisi angka",
        "": "NIK kosong",
    }
    rows = [row(number, nik=value, name=f"Orang {letters(i)}") for i, value in enumerate(problems)]
    rows[-1]["nik"] = ""
    rows.append(row(number, nik=nik(date(1980, 5, 17)), name="Baik"))
    rows.append(dict(rows[-1], nama="Ganda"))
    result = import_file(db, admin, write_csv(tmp_path / "nik.csv", rows))
    got = [(e.row, e.field, e.value, e.message) for e in result.errors]
    expected = [(i + 2, "nik", value or None, problems[value]) for i, value in enumerate(problems)]
    expected.append((len(rows) + 1, "nik", rows[-1]["nik"], f"NIK ganda: sudah ada di baris {len(rows)}"))
    assert got == expected
    assert _count(db, members) == 1


def test_required_columns_must_be_present(db: Database, admin, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", family(), columns=["nomor_kk", "nik", "nama", "rw"])
    with pytest.raises(ValidationError) as caught:
        import_file(db, admin, path)
    message = caught.value.message
    assert message.startswith("Kolom wajib tidak ada di berkas x.csv: Kelurahan (kode_kelurahan); RT (rt); ")
    for column in ("kode_kelurahan", "rt", "jenis_kelamin", "tanggal_lahir", "hubungan_keluarga"):
        assert f"({column})" in message
    assert "pemetaan kolom" in message and "--mapping" in message


def test_a_file_without_a_recognisable_header_is_refused(db: Database, admin, tmp_path: Path) -> None:
    path = tmp_path / "y.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(ValidationError, match="Baris judul kolom tidak ditemukan di y.csv"):
        import_file(db, admin, path)


def test_operator_imports_only_inside_their_area(db: Database, tmp_path: Path) -> None:
    operator = actor(Role.OPERATOR, "32.75.01")
    mine, theirs = family(), family(kelurahan=OTHER_KELURAHAN)
    result = import_file(db, operator, write_csv(tmp_path / "o.csv", mine + theirs))
    assert (result.members_created, result.rows_rejected) == (3, 3)
    assert {(e.field, e.message) for e in result.errors} == {
        ("kode_kelurahan", "Kelurahan di luar wilayah kerja Anda (32.75.01)")
    }


@pytest.mark.parametrize("role", [Role.ANALYST, Role.VERIFIER, Role.FINANCE])
def test_roles_that_cannot_edit_may_not_import(db: Database, role: Role, tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied):
        import_file(db, actor(role, "32.75"), write_csv(tmp_path / "p.csv", family()))
    assert _count(db, imports) == 0


def test_mapping_file_renames_columns_and_translates_values(db: Database, admin, tmp_path: Path) -> None:
    mapping = tmp_path / "peta.toml"
    mapping.write_text(
        '[columns]\n"No KK" = "nomor_kk"\n"Kode Desa" = "kode_kelurahan"\n"NIK Anggota" = "nik"\n"Nama Lengkap" = "nama"\n'
        '"JK" = "jenis_kelamin"\n"Tgl Lahir" = "tanggal_lahir"\n"Hubungan" = "hubungan_keluarga"\n'
        '[values.jenis_kelamin]\n"1" = "L"\n"2" = "P"\n[values.hubungan_keluarga]\n"KRT" = "kepala_keluarga"\n"ISTRI" = "istri_suami"\n'
    )
    rows = family()
    other = [
        {
            "No KK": r["nomor_kk"],
            "Kode Desa": r["kode_kelurahan"],
            "RW": r["rw"],
            "RT": r["rt"],
            "NIK Anggota": r["nik"],
            "Nama Lengkap": r["nama"],
            "JK": "1" if r["jenis_kelamin"] == "L" else "2",
            "Tgl Lahir": r["tanggal_lahir"],
            "Hubungan": {"kepala_keluarga": "KRT", "istri_suami": "ISTRI"}.get(
                r["hubungan_keluarga"], r["hubungan_keluarga"]
            ),
            "Kolom Lain": "abaikan",
        }
        for r in rows
    ]
    path = write_csv(tmp_path / "siks.csv", other, columns=list(other[0]))
    result = import_file(db, admin, path, mapping=mapping)
    assert (result.rows_rejected, result.members_created) == (0, 3)
    assert _member(db, rows[1]["nik"])["relationship"] == "istri_suami"
    csv_mapping = tmp_path / "peta.csv"
    csv_mapping.write_text(
        "kolom_sumber,kolom_kanonik\nNo KK,nomor_kk\nKode Desa,kode_kelurahan\nNIK Anggota,nik\n"
    )
    with pytest.raises(ValidationError, match="Kolom wajib tidak ada"):
        import_file(db, admin, path, mapping=csv_mapping)


def test_progress_is_reported_per_batch(db: Database, admin, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    import_file(
        db,
        admin,
        write_csv(tmp_path / "p.csv", family() + family()),
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(6, 6)]


def test_windows_1252_file_and_blank_lines_keep_names_and_row_numbers(
    db: Database, admin, tmp_path: Path
) -> None:
    rows = family()
    rows[0] = dict(rows[0], nama="André Café")
    rows[2] = dict(rows[2], tanggal_lahir="2012-13-01")
    path = tmp_path / "win.csv"
    write_csv(path, rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_bytes(("\r\n".join([lines[0], lines[1], "", lines[2], lines[3]]) + "\r\n").encode("cp1252"))
    result = import_file(db, admin, path)
    assert _member(db, rows[0]["nik"])["name"] == "André Café"
    assert [(e.row, e.field) for e in result.errors] == [(5, "tanggal_lahir")]


def test_records_are_never_split_between_chunks(
    db: Database, admin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tepat.files import readers

    monkeypatch.setattr(readers, "CSV_CHUNK_BYTES", 300)
    rows = family() + family()
    rows[1] = dict(rows[1], alamat='Jl. Mawar No. 7\nBlok "C", lantai 2')
    rows[0] = dict(rows[0], alamat=rows[1]["alamat"])
    rows[2] = dict(rows[2], alamat=rows[1]["alamat"])
    rows[4] = dict(rows[4], rt="7")
    result = import_file(db, admin, write_csv(tmp_path / "chunks.csv", rows))
    assert result.rows_read == 6 and result.members_created == 5
    assert [(e.row, e.field) for e in result.errors] == [(6, "rt")]
    assert _family(db, rows[0]["nomor_kk"])["address"] == 'Jl. Mawar No. 7\nBlok "C", lantai 2'


def test_json_mapping_and_a_bad_mapping_file(db: Database, admin, tmp_path: Path) -> None:
    from tepat.files.canonical import load_mapping

    good = tmp_path / "peta.json"
    good.write_text('{"columns": {"No. KK": "nomor_kk"}, "values": {"jenis_kelamin": {"Pria": "L"}}}')
    mapping = load_mapping(good)
    assert mapping.canonical_name(" no kk ") == "nomor_kk" and mapping.canonical_name("NIK") == "nik"
    assert mapping.values == {"jenis_kelamin": {"Pria": "L"}}
    bad = tmp_path / "salah.toml"
    bad.write_text('[columns]\n"No KK" = "nomor_kartu"\n')
    with pytest.raises(ValidationError) as caught:
        import_file(db, admin, write_csv(tmp_path / "x.csv", family()), mapping=bad)
    assert (
        caught.value.message
        == "Berkas pemetaan salah.toml menyebut kolom kanonik yang tidak ada: nomor_kartu"
    )


def test_a_crash_halfway_stores_nothing(
    db: Database, admin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tepat.services import imports as import_service
    from tepat.store.staging import Stager

    monkeypatch.setattr(import_service, "BATCH_ROWS", 3)
    real_apply = Stager.apply
    calls: list[int] = []

    def crash_on_second_batch(self: Stager, fams: pl.DataFrame, mems: pl.DataFrame):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_apply(self, fams, mems)

    monkeypatch.setattr(Stager, "apply", crash_on_second_batch)
    with pytest.raises(RuntimeError):
        import_file(db, admin, write_csv(tmp_path / "crash.csv", family() + family() + family()))
    assert (_count(db, families), _count(db, members)) == (0, 0)
    with db.read() as conn:
        assert conn.execute(sa.select(imports.c.status)).scalar_one() == "failed"


def test_an_inactive_family_is_matched_and_kept_inactive(db: Database, admin, tmp_path: Path) -> None:
    rows = [dict(r, status_keluarga="nonaktif", alasan_nonaktif="pindah") for r in family()]
    path = write_csv(tmp_path / "nonaktif.csv", rows)
    assert import_file(db, admin, path).families_created == 1
    again = import_file(db, admin, path)
    assert (again.families_created, again.families_updated, again.members_created) == (0, 0, 0)
    blank = [dict(r, status_keluarga="", alasan_nonaktif="pindah") for r in rows]
    assert import_file(db, admin, write_csv(tmp_path / "kosong.csv", blank)).families_updated == 0
    assert _family(db, rows[0]["nomor_kk"])["registry_status"] == "nonaktif"
