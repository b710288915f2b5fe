"""Pages: a cycle's documents per kelurahan, the realisation report, facilities and their keys."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.store.schema import audit_log, facilities
from tests.document_data import blt_cycle, pay, pdf_text
from tests.factories import KELURAHAN, OTHER_KELURAHAN
from tests.test_web_support import add_user, finished_job, form_data, login, make_app


@pytest.fixture
def app(db, tmp_path: Path):
    return make_app(db, tmp_path)


def _client(app, db, username: str, role: Role, area: str) -> tuple[TestClient, str]:
    add_user(db, username, role, area)
    client = TestClient(app)
    return client, login(client, username)


def _printed(client: TestClient, csrf: str, action: str, **fields: str):
    """Print a document from its page's button: the job's page once done, and the file it offers."""
    page = finished_job(
        client, client.post(action, data={"csrf_token": csrf, **fields}, follow_redirects=False)
    )
    assert page.status_code == 200 and 'id="dokumen-siap"' in page.text, page.text
    link = page.text.split('<a class="tombol" href="')[1].split('"')[0]
    return page, client.get(link)


def test_cycle_documents_are_printed_as_jobs_and_downloaded(app, db, admin) -> None:
    cycle_id, _, _ = blt_cycle(db, admin)
    client, csrf = _client(app, db, "ani", Role.OPERATOR, KELURAHAN)
    page = client.get(f"/siklus/{cycle_id}/dokumen?tanggal=2025-07-14")
    assert page.status_code == 200 and "Dokumen BLT-APBD Juli 2025" in page.text
    assert f'data-kode="{KELURAHAN}"' in page.text and f'data-kode="{OTHER_KELURAHAN}"' not in page.text
    action = f"/siklus/{cycle_id}/dokumen/{KELURAHAN}/nominatif"
    assert form_data(page.text, action)["tanggal"] == "2025-07-14"
    job_page, pdf = _printed(client, csrf, action, tanggal="2025-07-14")
    assert "Daftar Nominatif Bekasijaya" in job_page.text
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"] and pdf.headers["cache-control"] == "no-store"
    text = pdf_text(pdf.content)
    assert "Budi Santoso" in text and "Bekasi, 14 Juli 2025" in text
    _, bast = _printed(client, csrf, f"/siklus/{cycle_id}/dokumen/{KELURAHAN}/bast", tanggal="2025-07-14")
    assert "hari Senin tanggal empat belas bulan Juli" in pdf_text(bast.content)
    other = client.post(
        f"/siklus/{cycle_id}/dokumen/{OTHER_KELURAHAN}/nominatif",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert other.status_code == 404 and b"Dewi" not in other.content
    with db.read() as conn:
        actions = [
            r.action for r in conn.execute(sa.select(audit_log.c.action).where(audit_log.c.actor == "ani"))
        ]
    assert actions.count("nominatif.print") == 1 and actions.count("bast.print") == 1
    assert actions.count("document.download") == 2


def test_a_printed_document_is_its_makers_alone(app, db, admin) -> None:
    cycle_id, _, _ = blt_cycle(db, admin)
    client, csrf = _client(app, db, "ani", Role.OPERATOR, KELURAHAN)
    job_page, _ = _printed(client, csrf, f"/siklus/{cycle_id}/dokumen/{KELURAHAN}/nominatif")
    job = str(job_page.url).rsplit("/", 1)[1]
    other, _ = _client(app, db, "oni", Role.OPERATOR, KELURAHAN)  # same kelurahan, another person
    assert other.get(f"/dokumen/{job}").status_code == 404
    answer = other.get(f"/dokumen/{job}/unduh")
    assert answer.status_code == 404 and not answer.content.startswith(b"%PDF")


def test_the_job_page_counts_the_pages_laid_out(app, db, admin, monkeypatch) -> None:
    """While a long nominatif is laid out, its page says how many pages are done (reportlab's page events)."""
    import threading

    from tepat.charts import pdf as layout

    cycle_id, _, _ = blt_cycle(db, admin)
    client, csrf = _client(app, db, "ani", Role.OPERATOR, KELURAHAN)
    halfway, go_on = threading.Event(), threading.Event()
    real = layout.render

    def slow_render(story, **kwargs):
        told = kwargs["on_page"]

        def on_page(number: int) -> None:
            told(number)
            halfway.set()
            go_on.wait(10)

        return real(story, **(kwargs | {"on_page": on_page}))

    monkeypatch.setattr(layout, "render", slow_render)
    started = client.post(
        f"/siklus/{cycle_id}/dokumen/{KELURAHAN}/nominatif", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert halfway.wait(10)
    running = client.get(started.headers["location"])
    go_on.set()
    assert 'id="kemajuan-dokumen"' in running.text and "1 halaman selesai" in running.text
    assert 'http-equiv="refresh"' in running.text
    client.app.state.jobs.wait_idle()
    assert 'id="dokumen-siap"' in client.get(started.headers["location"]).text


def test_analysts_read_the_report_but_no_by_name_documents(app, db, admin) -> None:
    cycle_id, here, _ = blt_cycle(db, admin)
    pay(db, cycle_id, here)
    client, csrf = _client(app, db, "rina", Role.ANALYST, "32.75")
    assert (
        client.get(f"/siklus/{cycle_id}/dokumen").status_code == 403
    )  # refused by role: no by-name documents
    assert (
        client.post(
            f"/siklus/{cycle_id}/dokumen/{KELURAHAN}/nominatif", data={"csrf_token": csrf}
        ).status_code
        == 403
    )
    page = client.get("/laporan?tahun=2025")
    assert page.status_code == 200 and 'id="realisasi-program"' in page.text
    assert "BLT-APBD" in page.text and "Rp750.000" in page.text and "Budi" not in page.text
    assert 'href="/fasilitas"' not in page.text
    assert 'action="/laporan/realisasi-2025.pdf"' in page.text
    _, pdf = _printed(client, csrf, "/laporan/realisasi-2025.pdf")
    assert pdf.status_code == 200 and "LAPORAN REALISASI" in pdf_text(pdf.content)
    _, xlsx = _printed(client, csrf, "/laporan/realisasi-2025.xlsx")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    assert client.post("/laporan/realisasi-2025.csv", data={"csrf_token": csrf}).status_code == 404
    assert client.get("/fasilitas").status_code == 403


def test_admin_registers_and_revokes_a_facility(app, db) -> None:
    client, csrf = _client(app, db, "dinsos", Role.ADMIN, "32.75")
    page = client.get("/fasilitas")
    assert page.status_code == 200 and "Belum ada fasilitas terdaftar." in page.text
    data = form_data(page.text, "/fasilitas") | {
        "kode": "RSUD-PG",
        "nama": "RSUD Pondokgede",
        "jenis": "rsud",
    }
    added = client.post("/fasilitas", data=data)
    assert added.status_code == 200 and 'id="kunci-baru"' in added.text
    key = added.text.split('<code id="kunci-api">')[1].split("</code>")[0]
    with db.read() as conn:
        assert conn.execute(sa.select(facilities.c.key_prefix)).scalar_one() == key[:12]
    listing = client.get("/fasilitas").text
    assert key not in listing and f"{key[:12]}…" in listing  # shown once only
    bad = client.post(
        "/fasilitas", data={"csrf_token": csrf, "kode": "RSUD-PG", "nama": "Lagi", "jenis": "rsud"}
    )
    assert bad.status_code == 422 and "Kode sudah dipakai" in bad.text and 'value="Lagi"' in bad.text
    api = client.post(
        "/api/v1/cakupan-kesehatan", json={"nik": "3275011705800001"}, headers={"X-API-Key": key}
    )
    assert api.status_code == 200 and api.json()["tercakup"] is False
    done = client.post(
        "/fasilitas/cabut", data={"csrf_token": csrf, "kode": "RSUD-PG"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/fasilitas?dicabut=RSUD-PG"
    assert "Kunci fasilitas RSUD-PG dicabut." in client.get(done.headers["location"]).text
    assert (
        client.post(
            "/api/v1/cakupan-kesehatan", json={"nik": "3275011705800001"}, headers={"X-API-Key": key}
        ).status_code
        == 401
    )
    assert client.post("/fasilitas/cabut", data={"kode": "RSUD-PG"}).status_code == 403  # no CSRF token


def test_the_statistics_report_is_printed_as_a_job_from_the_dashboard(app, db) -> None:
    """Issue 13 point 5: PDF rendering runs as a background job with progress on its page, the statistics
    report too (it draws two maps and a chart), not inside the request."""
    client, csrf = _client(app, db, "sri", Role.ANALYST, "32.75")
    dashboard = client.get("/statistik")
    assert "csrf_token" in form_data(dashboard.text, "/statistik/laporan.pdf?tahun=2024")
    job_page, pdf = _printed(client, csrf, "/statistik/laporan.pdf?tahun=2024")
    assert "Laporan statistik kemiskinan" in job_page.text
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert "Peringkat kabupaten/kota" in pdf_text(pdf.content)
    assert client.get("/statistik/laporan.pdf").status_code == 405  # no longer drawn inside a GET
    unknown_year = client.post(
        "/statistik/laporan.pdf?tahun=2019", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert unknown_year.status_code == 404 and "2019" in unknown_year.text  # answered now, not in the job
