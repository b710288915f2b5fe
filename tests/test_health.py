"""Health and readiness endpoints for a load balancer (issue 17 point 5)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tepat.config import Settings
from tepat.store.database import Database
from tepat.web.app import create_app
from tests.test_web_support import make_app


def test_the_server_says_it_is_alive_and_ready(db, tmp_path) -> None:
    http = TestClient(make_app(db, tmp_path))
    alive = http.get("/healthz")
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}
    ready = http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    assert ready.headers["cache-control"] == "no-store"


def test_a_server_whose_database_is_down_is_alive_but_not_ready(tmp_path) -> None:
    gone = Database("postgresql+psycopg://postgres@127.0.0.1:1/tidak_ada")  # nothing listens on port 1
    settings = Settings(database_url=gone.url, upload_dir=tmp_path / "u", secret_key="uji-" + "x" * 40)
    http = TestClient(create_app(settings, gone))
    assert http.get("/healthz").status_code == 200
    ready = http.get("/readyz")
    assert ready.status_code == 503 and ready.json() == {"status": "not ready", "database": "unreachable"}
    assert "127.0.0.1:1" not in ready.text  # nothing of the configuration is told
