"""Request bodies are bounded while they stream in, after the login is known and before any route reads them
(issue 13 point 6)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.store.database import Database
from tepat.web import body_limit
from tests.test_web_support import add_user, login, make_app

MULTIPART = {"content-type": "multipart/form-data; boundary=batas"}


def _chunked(total: int, chunk: int = 256 * 1024) -> Iterator[bytes]:
    """A body sent without a Content-Length (chunked), as a script streaming a huge upload would."""
    yield b'--batas\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
    sent = 0
    while sent < total:
        yield b"x" * chunk
        sent += chunk


@pytest.fixture
def app(db: Database, tmp_path: Path):
    return make_app(db, tmp_path)


def test_a_stranger_cannot_stream_a_large_upload_to_the_import(app) -> None:
    with TestClient(app) as client:
        response = client.post("/impor", content=_chunked(4 * 1024 * 1024), headers=MULTIPART)
    assert response.status_code == 413 and "terlalu besar" in response.text and "64 KB" in response.text
    declared = TestClient(app).post(
        "/impor", content=b"x", headers={**MULTIPART, "content-length": str(300 << 20)}
    )
    assert declared.status_code == 413


def test_a_logged_in_operator_streams_a_file_within_the_import_limit(db: Database, app) -> None:
    add_user(db, "ani", Role.OPERATOR, "32.75.01.1001")
    with TestClient(app) as client:
        login(client, "ani")
        response = client.post("/impor", content=_chunked(4 * 1024 * 1024), headers=MULTIPART)
    assert response.status_code != 413  # the route ran (and refused the broken form on its own terms)


def test_a_logged_in_form_without_a_large_allowance_is_bounded_too(db: Database, app) -> None:
    add_user(db, "ani", Role.OPERATOR, "32.75.01.1001")
    with TestClient(app) as client:
        login(client, "ani")
        response = client.post(
            "/keluarga/baru", content=_chunked(body_limit.STAFF_BYTES + 1024), headers=MULTIPART
        )
    assert response.status_code == 413 and "6 MB" not in response.text and "5 MB" in response.text


def test_the_api_and_the_public_forms_have_their_own_limits(app) -> None:
    with TestClient(app) as client:
        api = client.post(
            "/api/v1/families",
            content=_chunked(2 * 1024 * 1024),
            headers={"content-type": "application/json"},
        )
        assert api.status_code == 413 and api.json()["ok"] is False
        public = client.post(
            "/layanan/usul", content=_chunked(body_limit.PORTAL_BYTES + 1024), headers=MULTIPART
        )
        assert public.status_code == 413
        login_form = client.post(
            "/masuk",
            content=_chunked(200 * 1024),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert login_form.status_code == 413
