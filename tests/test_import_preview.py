"""The web import takes a column mapping (uploaded, or saved per source) and shows a preview of what tepat will
read before importing; missing required columns are named with the file's column that resembles each (issue 12
point 8)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.files.canonical import parse_mapping
from tepat.services import registry_reads
from tepat.services.import_preview import preview
from tests.registry_files import family
from tests.test_web_support import add_user, finished_job, login, make_app

KEL = "32.75.01.1001"
DTKS_NAMES = {
    "nomor_kk": "No KK",
    "kode_kelurahan": "Kode Desa",
    "rw": "RW",
    "rt": "RT",
    "alamat": "Alamat",
    "nik": "NIK Anggota",
    "nama": "Nama Lengkap",
    "jenis_kelamin": "JK",
    "tanggal_lahir": "Tgl Lahir",
    "hubungan_keluarga": "Hub KRT",
}
MAPPING = "[columns]\n" + "\n".join(f'"{v}" = "{k}"' for k, v in DTKS_NAMES.items() if v.lower() != k) + "\n"


def _dtks_file(tmp_path: Path, rows: list[dict[str, str]]) -> bytes:
    """A kelurahan's own spreadsheet: the DTKS columns under its own names, a title row above them."""
    buf = io.StringIO()
    buf.write("DATA DTKS KELURAHAN BEKASIJAYA\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(DTKS_NAMES.values())
    for r in rows:
        writer.writerow([r[k] for k in DTKS_NAMES])
    return buf.getvalue().encode()


def test_the_preview_names_missing_columns_and_the_headers_that_resemble_them(tmp_path: Path) -> None:
    path = tmp_path / "dtks.csv"
    path.write_bytes(_dtks_file(tmp_path, family(kelurahan=KEL)))
    bare = preview(path, None, "dtks.csv")
    assert not bare.ready
    resembles = {m.column: m.resembles for m in bare.missing}
    assert resembles["nama"] == "Nama Lengkap" and resembles["nomor_kk"] == "No KK"
    assert '"Nama Lengkap" = "nama"' in bare.mapping_hint()
    mapped = preview(path, parse_mapping(MAPPING, "dtks.toml"), "dtks.csv")
    assert mapped.ready and mapped.header_row == 2 and len(mapped.sample) == 3
    assert {c.source: c.column for c in mapped.columns}["Hub KRT"] == "hubungan_keluarga"
    assert mapped.sample[0][0] == "3"  # the first data row is the file's third line
    assert "Budi Santoso" in mapped.sample[0]


@pytest.fixture
def client(db, tmp_path: Path):
    add_user(db, "ani", Role.OPERATOR, KEL)
    with TestClient(make_app(db, tmp_path)) as c:
        yield c, login(c, "ani")


def test_upload_a_mapping_preview_import_then_pick_the_saved_mapping_next_time(
    db, client, tmp_path: Path, admin
) -> None:
    web, csrf = client
    files = {
        "file": ("dtks.csv", _dtks_file(tmp_path, family(kelurahan=KEL)), "text/csv"),
        "pemetaan": ("dtks.toml", MAPPING.encode(), "application/toml"),
    }
    page = web.post("/impor/pratinjau", data={"csrf_token": csrf, "mode": "valid-only"}, files=files)
    assert page.status_code == 200, page.text
    assert 'id="kolom-pratinjau"' in page.text and "Nama Lengkap" in page.text and "Budi Santoso" in page.text
    assert registry_reads.search_families(db, admin, "Budi Santoso") == []  # nothing stored by a preview
    saved = web.post(
        re.search(r'action="(/impor/pratinjau/[\w-]+/simpan-pemetaan)"', page.text).group(1),
        data={"csrf_token": csrf, "nama_pemetaan": "DTKS kelurahan"},
    )
    assert "Pemetaan disimpan" in saved.text
    start = re.search(r'action="(/impor/pratinjau/[\w-]+)"', page.text).group(1)
    done = finished_job(
        web, web.post(start, data={"csrf_token": csrf, "mode": "valid-only"}, follow_redirects=False)
    )
    assert "Anggota baru: 3" in done.text
    assert web.post(start, data={"csrf_token": csrf}).status_code == 404  # a preview is imported once

    form = web.get("/impor").text
    mapping_id = re.search(r'<option value="(\d+)">DTKS kelurahan</option>', form).group(1)
    again = family(kelurahan=KEL)
    sent = web.post(
        "/impor",
        data={"csrf_token": csrf, "mode": "valid-only", "pemetaan_id": mapping_id},
        files={"file": ("lagi.csv", _dtks_file(tmp_path, again), "text/csv")},
        follow_redirects=False,
    )
    assert "Anggota baru: 3" in finished_job(web, sent).text


def test_a_file_without_its_mapping_is_refused_with_the_columns_named(db, client, tmp_path: Path) -> None:
    web, csrf = client
    sent = web.post(
        "/impor",
        data={"csrf_token": csrf, "mode": "valid-only"},
        files={"file": ("dtks.csv", _dtks_file(tmp_path, family(kelurahan=KEL)), "text/csv")},
        follow_redirects=False,
    )
    page = finished_job(web, sent)
    assert page.status_code == 422 and "Kolom wajib tidak ada" in page.text and "mungkin kolom" in page.text


def test_another_session_cannot_import_someone_elses_preview(db, client, tmp_path: Path) -> None:
    web, csrf = client
    page = web.post(
        "/impor/pratinjau",
        data={"csrf_token": csrf},
        files={
            "file": ("dtks.csv", _dtks_file(tmp_path, family(kelurahan=KEL)), "text/csv"),
            "pemetaan": ("dtks.toml", MAPPING.encode(), "application/toml"),
        },
    )
    start = re.search(r'action="(/impor/pratinjau/[\w-]+)"', page.text).group(1)
    add_user(db, "budi", Role.OPERATOR, KEL)
    other = TestClient(web.app)
    other_csrf = login(other, "budi")
    assert other.post(start, data={"csrf_token": other_csrf}).status_code == 404


def test_a_broken_mapping_file_is_refused_on_the_form(client, tmp_path: Path) -> None:
    web, csrf = client
    page = web.post(
        "/impor/pratinjau",
        data={"csrf_token": csrf},
        files={
            "file": ("dtks.csv", _dtks_file(tmp_path, family(kelurahan=KEL)), "text/csv"),
            "pemetaan": ("dtks.toml", b'[columns]\n"No KK" = "bukan_kolom"\n', "application/toml"),
        },
    )
    assert page.status_code == 422 and "bukan_kolom" in page.text
