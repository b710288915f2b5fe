"""The office's name and logo are configuration (issue 12 point 14; a first step of issue 14's office concept):
pages, the residents' pages and the footer speak of the office that runs tepat, with its logo when one is set."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tepat.config import Settings
from tepat.domain.access import Role
from tepat.store.database import Database
from tepat.web.app import create_app
from tests.test_web_support import add_user, login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def _app(db: Database, tmp_path: Path, **office: object):
    return create_app(
        Settings(
            database_url=db.url, upload_dir=tmp_path / "unggahan", secret_key="uji-" + "x" * 40, **office
        ),
        db,
    )


def test_pages_name_the_configured_office_and_show_its_logo(db: Database, tmp_path: Path) -> None:
    logo = tmp_path / "logo-depok.png"
    logo.write_bytes(PNG)
    app = _app(
        db,
        tmp_path,
        office_name="Dinas Sosial Kota Depok",
        office_short_name="Dinsos Kota Depok",
        office_logo=logo,
    )
    add_user(db, "ani", Role.ADMIN, "32.75")
    client = TestClient(app)
    login(client, "ani")
    home = client.get("/").text
    assert (
        "tepat · Dinas Sosial Kota Depok" in home and 'src="/logo"' in home and "Bekasi</footer>" not in home
    )
    public = client.get("/layanan").text
    assert (
        "Dinsos Kota Depok" in public
        and "Dinas Sosial Kota Depok" in public
        and "Dinsos Kota Bekasi" not in public
    )
    served = TestClient(app).get("/logo")  # no login needed: the login page shows it too
    assert (
        served.status_code == 200 and served.content == PNG and served.headers["content-type"] == "image/png"
    )


def test_without_a_logo_there_is_none(db: Database, tmp_path: Path) -> None:
    app = _app(db, tmp_path)
    assert TestClient(app).get("/logo").status_code == 404
    assert 'src="/logo"' not in TestClient(app).get("/masuk").text
