"""Import upload page (summary, bad rows, error file) and export download."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.services import registry_reads
from tepat.store.database import Database
from tests import registry_files as rf
from tests.factories import make_family
from tests.test_web_support import add_user, finished_job, login, make_app

KEL = "32.75.01.1001"


@pytest.fixture
def client(db: Database, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(make_app(db, tmp_path), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def operator(db: Database, client: TestClient) -> str:
    add_user(db, "ani", Role.OPERATOR, KEL)
    return login(client, "ani")


def _csv(tmp_path: Path, rows: list[dict[str, str]]) -> bytes:
    return rf.write_csv(tmp_path / "unggah.csv", rows).read_bytes()


def test_valid_only_import_shows_summary_bad_rows_and_error_file(
    db: Database, client: TestClient, operator: str, tmp_path: Path, admin
) -> None:
    rows = rf.family() + [rf.row(rf.kk(), "Salah Tanggal", tanggal_lahir="31-02-1990")]
    sent = client.post(
        "/impor",
        data={"csrf_token": operator, "mode": "valid-only"},
        files={"file": ("data-kelurahan.csv", _csv(tmp_path, rows), "text/csv")},
        follow_redirects=False,
    )
    response = finished_job(client, sent)
    assert response.status_code == 200, response.text
    assert 'id="ringkasan-impor"' in response.text and "Baris dibaca: 4" in response.text
    assert "Baris ditolak: 1" in response.text and "Keluarga baru: 1" in response.text
    assert 'id="galat-impor"' in response.text and "tanggal_lahir" in response.text
    link = response.text.split('href="/impor/')[1].split('"')[0]
    errors = client.get(f"/impor/{link}")
    assert errors.status_code == 200 and "baris" in errors.text.splitlines()[0]
    assert len(registry_reads.search_families(db, admin, "Budi Santoso")) == 1
    assert not list((tmp_path / "unggahan").glob("*.csv")) or all(
        p.name.endswith("-galat.csv") for p in (tmp_path / "unggahan").glob("*.csv")
    )


def test_an_import_and_its_error_file_are_only_for_whoever_ran_it(
    db: Database, client: TestClient, operator: str, tmp_path: Path
) -> None:
    rows = [rf.row(rf.kk(), "Salah", tanggal_lahir="bukan tanggal")]
    sent = client.post(
        "/impor",
        data={"csrf_token": operator, "mode": "valid-only"},
        files={"file": ("a.csv", _csv(tmp_path, rows), "text/csv")},
        follow_redirects=False,
    )
    page = sent.headers["location"]
    assert finished_job(client, sent).status_code == 200
    assert client.get(page + "/galat").status_code == 200
    add_user(db, "budi", Role.OPERATOR, KEL)
    with TestClient(client.app, raise_server_exceptions=False) as other:
        login(other, "budi")
        assert other.get(page).status_code == 404 and other.get(page + "/galat").status_code == 404


def test_strict_import_with_bad_rows_stores_nothing(
    db: Database, client: TestClient, operator: str, tmp_path: Path, admin
) -> None:
    rows = rf.family() + [rf.row(rf.kk(), "Salah", tanggal_lahir="bukan tanggal")]
    sent = client.post(
        "/impor",
        data={"csrf_token": operator, "mode": "strict"},
        files={"file": ("a.csv", _csv(tmp_path, rows), "text/csv")},
        follow_redirects=False,
    )
    response = finished_job(client, sent)
    assert response.status_code == 422 and "tidak ada data yang disimpan" in response.text
    assert 'id="galat-impor"' in response.text
    assert registry_reads.search_families(db, admin, "Budi Santoso") == []


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("data.pdf", b"%PDF-1.4", "Pilih berkas .csv atau .xlsx"),
        ("data.xlsx", b"bukan zip", "Isi berkas bukan XLSX yang sah"),
        ("data.csv", b"", "Berkas kosong"),
    ],
)
def test_upload_type_is_checked(
    client: TestClient, operator: str, name: str, content: bytes, message: str
) -> None:
    response = client.post(
        "/impor",
        data={"csrf_token": operator, "mode": "valid-only"},
        files={"file": (name, content, "application/octet-stream")},
    )
    assert response.status_code == 422 and message in response.text


def test_export_downloads_the_area(db: Database, client: TestClient, operator: str, admin) -> None:
    make_family(db, admin, KEL)
    page = finished_job(
        client,
        client.post(
            "/ekspor", data={"csrf_token": operator, "area": KEL, "fmt": "xlsx"}, follow_redirects=False
        ),
    )
    assert 'id="ekspor-siap"' in page.text
    link = page.text.split('href="/ekspor/')[1].split('"')[0]
    response = client.get(f"/ekspor/{link}")
    assert response.status_code == 200 and response.content.startswith(b"PK")
    assert "registri-32750110" in response.headers["content-disposition"]
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    names = [c.value for c in next(sheet.iter_cols(min_col=1, max_col=sheet.max_column)) if c.value]
    assert sheet.max_row == 4 and names


def test_an_export_is_downloaded_only_by_whoever_made_it_and_each_download_is_audited(
    db: Database, client: TestClient, operator: str, admin
) -> None:
    from tepat.store import audit

    make_family(db, admin, KEL)
    sent = client.post(
        "/ekspor", data={"csrf_token": operator, "area": KEL, "fmt": "csv"}, follow_redirects=False
    )
    finished_job(client, sent)
    download = sent.headers["location"] + "/unduh"
    assert client.get(download).status_code == 200
    add_user(db, "budi", Role.OPERATOR, KEL)
    with TestClient(client.app, raise_server_exceptions=False) as other:
        login(other, "budi")
        assert other.get(download).status_code == 404
    with db.read() as conn:
        assert [e["action"] for e in audit.entries(conn, entity="job")] == ["export.download"]


def test_export_page_lists_only_the_users_area(db: Database, client: TestClient, operator: str) -> None:
    html = client.get("/ekspor").text
    assert f'value="{KEL}"' in html and 'value="32.75.02.1001"' not in html


def test_oversized_upload_is_refused_before_reading(client: TestClient, operator: str) -> None:
    response = client.post(
        "/impor",
        content=b"x" * 10,
        headers={
            "content-type": "multipart/form-data; boundary=abc",
            "content-length": str(300 * 1024 * 1024),
        },
    )
    assert response.status_code == 413 and "terlalu besar (paling besar 200 MB)" in response.text
