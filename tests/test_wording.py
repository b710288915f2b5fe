"""No doubled words and no raw codes where residents and staff read (issue 12 point 11)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tepat.domain.programmes import as_aid, programme_label
from tests.test_portal_support import citizen_app, form_challenge


def test_programme_names_are_not_doubled() -> None:
    assert (
        programme_label("Pelatihan Balai Latihan Kerja (BLK)", "BLK") == "Pelatihan Balai Latihan Kerja (BLK)"
    )
    assert programme_label("Bantuan Pangan Non Tunai", "BPNT") == "Bantuan Pangan Non Tunai (BPNT)"
    assert as_aid("Bantuan Langsung Tunai APBD Kota Bekasi") == "Bantuan Langsung Tunai APBD Kota Bekasi"
    assert as_aid("Modal Usaha") == "bantuan Modal Usaha"


def test_the_portal_title_and_the_nik_error_are_said_once(db, tmp_path: Path) -> None:
    with TestClient(citizen_app(db, tmp_path)) as client:
        services = client.get("/layanan").text
        assert "<title>Layanan Warga Dinsos Kota Bekasi</title>" in services
        page = client.get("/cek")
        wrong = client.post(
            "/cek", data={"nik": "12345", "nomor_kk": "3275011507200001", **form_challenge(page.text)}
        )
        assert wrong.status_code == 422
        assert wrong.text.count("NIK harus 16 angka") == 1
