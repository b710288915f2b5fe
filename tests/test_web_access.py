"""Area rules on every registered page route: another kelurahan's family is invisible (404, nothing leaked)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.services import registry_reads
from tepat.store.database import Database
from tests.factories import OTHER_KELURAHAN, make_family, member_values
from tests.test_web_support import add_user, fill_path, finished_job, login, make_app, page_routes

KEL = "32.75.01.1001"
SECRET_NAME = "Rahasia Tetangga"
PUBLIC_PREFIXES = ("/cek", "/layanan")  # the residents' portal: no login, tested with the portal


@pytest.fixture
def setting(db: Database, tmp_path: Path, admin):
    head = member_values(SECRET_NAME, "L", date(1971, 11, 12))
    victim = make_family(db, admin, OTHER_KELURAHAN, members=[head])
    view = registry_reads.get_family(db, admin, victim)
    make_family(db, admin, KEL)  # the operator's own area is not empty
    add_user(db, "ani", Role.OPERATOR, KEL)
    app = make_app(db, tmp_path)
    client = TestClient(app, raise_server_exceptions=False)
    csrf = login(client, "ani")
    return app, client, csrf, view, head["nik"]


def _post_data(csrf: str, kk_number: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "version": "1",
        "reason": "uji akses",
        "note": "uji akses",
        "reason_code": "pindah",
        "to_kk": kk_number,
        "area": OTHER_KELURAHAN,
        "fmt": "csv",
        "rw": "1",
        "rt": "1",
        "name": "Diubah",
        "kk_number": kk_number,
        "kelurahan_code": OTHER_KELURAHAN,
    }


def test_every_page_route_hides_another_kelurahans_family(db: Database, setting, admin) -> None:
    app, client, csrf, view, victim_nik = setting
    family_id, member_id = view.family["id"], view.members[0]["id"]
    checked = 0
    for method, path in page_routes(app):
        if path in ("/masuk", "/keluar") or path.startswith(PUBLIC_PREFIXES):
            continue
        url = fill_path(
            path,
            family_id=family_id,
            member_id=member_id,
            code=OTHER_KELURAHAN,
            name="x-galat.csv" if path.startswith("/impor") else "peta-kelurahan",
            fmt="svg",
            model_id=1,
        )
        params = {"q": victim_nik, "tanggal": date.today().isoformat(), "kode": OTHER_KELURAHAN}
        if method == "GET":
            response = client.get(url, params=params)
        else:
            response = client.post(url, data=_post_data(csrf, view.family["kk_number"]))
        body = (
            response.text
            if "text" in response.headers.get("content-type", "")
            else response.content.decode("latin-1")
        )
        assert SECRET_NAME not in body and f'href="/keluarga/{family_id}"' not in body, (
            f"{method} {path} leaks the family"
        )
        assert response.status_code != 500, f"{method} {path} crashed"
        if any(f"{{{key}}}" in path for key in ("family_id", "member_id", "code")):
            assert response.status_code == 404, f"{method} {path} answered {response.status_code}"
        if method == "GET":  # the page's JSON twin runs the same checks
            twin = client.get(url + ".json", params=params)
            assert twin.status_code == response.status_code, f"{url}.json answered {twin.status_code}"
            assert SECRET_NAME not in twin.text and view.family["kk_number"] not in twin.text, (
                f"{url}.json leaks the family"
            )
        checked += 1
    assert checked >= 25
    after = registry_reads.get_family(db, admin, family_id)
    assert (
        after.family["version"] == 1
        and after.members[0]["version"] == 1
        and after.members[0]["status"] == "aktif"
    )


def test_search_and_export_of_own_area_leave_out_the_other_kelurahan(db: Database, setting) -> None:
    _, client, csrf, _, _ = setting
    assert SECRET_NAME not in client.get("/cari", params={"q": "Rahasia"}).text
    page = finished_job(
        client,
        client.post("/ekspor", data={"csrf_token": csrf, "area": KEL, "fmt": "csv"}, follow_redirects=False),
    )
    link = page.text.split('href="/ekspor/')[1].split('"')[0]
    own = client.get(f"/ekspor/{link}")
    assert own.status_code == 200 and "Budi Santoso" in own.text and SECRET_NAME not in own.text


def test_registering_a_family_in_another_kelurahan_is_refused(db: Database, setting, admin) -> None:
    _, client, csrf, _, _ = setting
    head = member_values("Penyusup", "L", date(1985, 1, 1))
    data = {
        "csrf_token": csrf,
        "kk_number": "3275021507200999",
        "kelurahan_code": OTHER_KELURAHAN,
        "rw": "1",
        "rt": "1",
        "member_rows": "1",
        "reason": "uji",
        **{f"members.0.{k}": v for k, v in head.items()},
    }
    response = client.post("/keluarga/baru", data=data)
    assert response.status_code in (403, 422)
    assert registry_reads.search_families(db, admin, "Penyusup") == []
