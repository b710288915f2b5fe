"""A NUL in any input is a 422, never a 500 with a NIK in the log; the access log names route templates only
(issue 13 point 10)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.services import auth
from tests.test_web_support import SYSTEM_ADMIN, add_user, login, make_app

NIK = "3275011705800001"


@pytest.fixture
def client(db, tmp_path: Path):
    add_user(db, "ani", Role.OPERATOR, "32.75.01")
    with TestClient(make_app(db, tmp_path), raise_server_exceptions=False) as c:
        login(c, "ani")
        yield c


def test_a_nul_in_a_search_a_form_or_a_json_body_is_422(db, client, caplog) -> None:
    caplog.set_level(logging.INFO)
    page = client.get(f"/cari?q={NIK}%00")
    assert page.status_code == 422 and "karakter yang tidak sah" in page.text
    form = client.post("/keluarga/baru", data={"kk_number": "32750\x00"})
    assert form.status_code == 422
    token = auth.issue_token(db, SYSTEM_ADMIN, "ani").token
    api = client.post(
        "/api/v1/families", json={"kk_number": "3275\u0000"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 422 and api.json()["ok"] is False
    server_logs = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    )
    assert NIK not in server_logs  # (the test client's own httpx log shows the URL it sent)


def test_the_access_log_names_the_route_not_the_values(client, caplog) -> None:
    caplog.set_level(logging.INFO, logger="tepat.access")
    client.get(f"/cari?q={NIK}")
    client.get("/keluarga/12345")
    lines = [r.getMessage() for r in caplog.records if r.name == "tepat.access"]
    assert any(line.startswith("GET /cari 200") for line in lines)
    assert any(line.startswith("GET /keluarga/{family_id} 404") for line in lines)
    assert not any(NIK in line or "12345" in line for line in lines)
