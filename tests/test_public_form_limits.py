"""Public form limits that a kelurahan help desk can live with (issue 12 point 6): only accepted submissions count
toward the hourly limit, failures have their own higher limit, staff filing for a resident are not limited, the
photo is checked before the other fields, and what was typed stays."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.portal.routes import ATTEMPT_LIMIT, SUBMIT_LIMIT
from tepat.services import cases
from tepat.store import audit
from tests.factories import KELURAHAN
from tests.test_portal_support import citizen_app, form_challenge
from tests.test_web_support import add_user, login


@pytest.fixture
def app(db, tmp_path: Path):
    return citizen_app(db, tmp_path)


def _pengaduan(client: TestClient, **fields: object):
    page = client.get("/layanan/pengaduan")
    data = {
        "kategori": "pungutan",
        "kelurahan_code": KELURAHAN,
        "uraian": "Dipotong oknum",
        **form_challenge(page.text),
    }
    data.update({k: v for k, v in fields.items() if k != "files"})
    return client.post(
        "/layanan/pengaduan", data={k: v for k, v in data.items() if v is not None}, files=fields.get("files")
    )


def test_refused_submissions_do_not_use_up_the_accepted_ones(app) -> None:
    desk = TestClient(app)  # one help desk, one address, many residents
    for _ in range(8):  # eight forms with a mistake (no category), each fixed afterwards
        assert _pengaduan(desk, kategori=None).status_code == 422
    accepted = [_pengaduan(desk).status_code for _ in range(int(SUBMIT_LIMIT.capacity))]
    assert accepted == [200] * int(SUBMIT_LIMIT.capacity)
    refused = _pengaduan(desk)
    assert refused.status_code == 400 and "Terlalu banyak kiriman" in refused.text


def test_failures_have_their_own_higher_limit(app) -> None:
    script = TestClient(app)
    codes = [_pengaduan(script, kategori=None).status_code for _ in range(int(ATTEMPT_LIMIT.capacity) + 1)]
    assert codes[:-1] == [422] * int(ATTEMPT_LIMIT.capacity) and codes[-1] == 400


def test_staff_filing_for_residents_are_not_limited_and_are_recorded(db, app) -> None:
    add_user(db, "ani", Role.OPERATOR, KELURAHAN)
    desk = TestClient(app)
    login(desk, "ani")
    codes = [_pengaduan(desk).status_code for _ in range(int(SUBMIT_LIMIT.capacity) + 3)]
    assert codes == [200] * (int(SUBMIT_LIMIT.capacity) + 3)
    with db.read() as conn:
        actors = {e["actor"] for e in audit.entries(conn, entity="case")}
    assert actors == {"ani"}


def test_the_photo_is_checked_first_and_what_was_typed_stays(db, app, admin) -> None:
    resident = TestClient(app)
    sent = _pengaduan(
        resident,
        kategori=None,
        uraian="Bantuan saya dipotong Rp50.000",
        files={"bukti": ("foto.jpg", io.BytesIO(b"bukan foto"), "image/jpeg")},
    )
    assert sent.status_code == 422 and "Jenis berkas tidak diterima" in sent.text
    assert "Bantuan saya dipotong Rp50.000" in sent.text  # the description is kept for the second try
    alert = sent.text.split('role="alert"')[1].split("</div>")[0]
    assert (
        "Jenis berkas tidak diterima" in alert and "kategori" not in alert.lower()
    )  # the photo first, then the rest
    assert cases.list_cases(db, admin, kind="pengaduan") == []
