"""Every read of personal data is audited (family lists on pages and API, history, case pages and their files, the
verification work list), and admins have an audit page: who read or changed whom, filterable, exportable, inside
their area (issue 13 point 8)."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.services import auth, case_submissions, cases
from tepat.store import audit
from tepat.store.schema import audit_log
from tests.factories import KELURAHAN, OTHER_KELURAHAN, family_values, make_family, member_values
from tests.test_portal_support import citizen_app
from tests.test_web_support import SYSTEM_ADMIN, add_user, login

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 300


@pytest.fixture
def app(db, tmp_path: Path):
    return citizen_app(db, tmp_path)


def _reads(db, actor: str) -> list[tuple[str, str | None, dict]]:
    audit.flush_reads(db)
    with db.read() as conn:
        rows = conn.execute(
            sa.select(audit_log.c.action, audit_log.c.entity_id, audit_log.c.detail)
            .where(audit_log.c.actor == actor)
            .order_by(audit_log.c.id)
        ).all()
    return [(r.action, r.entity_id, r.detail or {}) for r in rows]


def _client(app, db, username: str, role: Role, area: str) -> tuple[TestClient, str]:
    add_user(db, username, role, area)
    client = TestClient(app)
    return client, login(client, username)


def test_lists_history_cases_files_and_the_work_list_are_audited(app, db, admin) -> None:
    family_id = make_family(db, admin, KELURAHAN)
    head = member_values("Joko Susilo", "L", date(1975, 1, 9))
    number = case_submissions.submit_usul(
        db,
        Path(app.state.settings.upload_dir),
        family=family_values(),
        members=[head],
        proposer_name="Joko",
        proposer_contact="0812",
        reason="PHK",
        evidence=[case_submissions.Evidence(io.BytesIO(JPEG), "foto_rumah")],
    )
    case_id = next(c.id for c in cases.list_cases(db, admin) if c.tracking_number == number)
    client, _ = _client(app, db, "ani", Role.OPERATOR, KELURAHAN)
    assert client.get(f"/wilayah/{KELURAHAN}/keluarga").status_code == 200
    assert client.get(f"/kasus/{case_id}").status_code == 200
    upload = cases.get_case(db, admin, case_id).uploads[0]["id"]
    assert client.get(f"/kasus/berkas/{upload}").status_code == 200
    token = auth.issue_token(db, SYSTEM_ADMIN, "ani").token
    api = client.get(
        "/api/v1/families", params={"kelurahan": KELURAHAN}, headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 200
    history = client.get(
        f"/api/v1/families/{family_id}/history", headers={"Authorization": f"Bearer {token}"}
    )
    assert history.status_code == 200
    actions = [a for a, _, _ in _reads(db, "ani")]
    for expected in ("family.list", "case.read", "upload.read", "family.read_history"):
        assert expected in actions, (expected, actions)
    assert actions.count("family.list") == 2  # the page and the API
    verifier, _ = _client(app, db, "vera", Role.VERIFIER, KELURAHAN)
    assert verifier.get("/verifikasi").status_code == 200
    assert "verification.read_worklist" in [a for a, _, _ in _reads(db, "vera")]


def test_the_audit_page_shows_who_read_whom_inside_the_admins_area(app, db, admin) -> None:
    mine = make_family(db, admin, KELURAHAN)
    theirs = make_family(db, admin, OTHER_KELURAHAN)
    ani, _ = _client(app, db, "ani", Role.OPERATOR, KELURAHAN)
    budi, _ = _client(app, db, "budi", Role.OPERATOR, OTHER_KELURAHAN)
    assert ani.get(f"/keluarga/{mine}").status_code == 200
    assert budi.get(f"/keluarga/{theirs}").status_code == 200
    assert ani.get("/audit").status_code == 403
    kecamatan_admin, _ = _client(app, db, "admin.timur", Role.ADMIN, "32.75.01")
    page = kecamatan_admin.get("/audit", params={"aksi": "family.read"})
    assert page.status_code == 200
    assert "ani" in page.text and ">budi<" not in page.text and f"/keluarga/{mine}" in page.text
    city, _ = _client(app, db, "admin.kota", Role.ADMIN, "32.75")
    both = city.get("/audit", params={"aksi": "family.read"}).text
    assert ">ani<" in both and ">budi<" in both
    only_budi = city.get("/audit", params={"aksi": "family.read", "pengguna": "budi"}).text
    assert ">budi<" in only_budi and ">ani<" not in only_budi
    exported = city.get("/audit.csv", params={"aksi": "family.read"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {r["pengguna"] for r in rows} == {"ani", "budi"} and {r["aksi"] for r in rows} == {"family.read"}
    assert "audit_log.read" in [
        a for a, _, _ in _reads(db, "admin.kota")
    ]  # reading the log is a read of personal data
