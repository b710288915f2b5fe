"""Every operator page has a JSON twin (``<page>.json``): the view model the page renders, behind the same login,
permission and area checks; the residents' pages and the APIs have none."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.domain.json_values import plain
from tepat.services import payments
from tepat.store.database import Database
from tepat.web.json_twin import twin_of
from tests.payment_support import FINANCE, paying_cycle
from tests.test_web_support import add_user, login, make_app, page_routes

PUBLIC = ("/cek", "/layanan", "/masuk", "/keluar", "/favicon", "/logo", "/healthz", "/readyz")


@pytest.fixture
def web(db: Database, tmp_path: Path, admin):
    cycle = paying_cycle(db, admin, here=2, there=1)
    add_user(db, "siti", Role.FINANCE, "32.75")
    add_user(db, "ana", Role.ANALYST, "32.75")
    add_user(db, "opi", Role.OPERATOR, "32.75.01.1001")
    return make_app(db, tmp_path), cycle


def _client(app, username: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    login(client, username)
    return client


def test_every_page_without_parameters_has_a_json_twin_with_the_same_status(web) -> None:
    app, _ = web
    for username in ("siti", "ana", "opi"):
        client = _client(app, username)
        twins = 0
        for method, path in page_routes(app):
            if method != "GET" or "{" in path or path.startswith(PUBLIC):
                continue
            html = client.get(path, follow_redirects=False)
            twin = client.get(("/" if path == "/" else path) + ".json", follow_redirects=False)
            assert twin.status_code == html.status_code, f"{username} {path}.json: {twin.status_code}"
            if html.headers.get("content-type", "").startswith("text/html"):
                assert twin.headers["content-type"] == "application/json", f"{username} {path}.json"
                assert isinstance(twin.json(), dict) and "title" in twin.json(), f"{username} {path}.json"
                twins += 1
        assert twins >= 20, username


def test_a_batch_page_twin_carries_the_figures_the_page_shows(db: Database, web) -> None:
    app, cycle = web
    batch_id = payments.create_batch(db, FINANCE, cycle, "bank").id
    client = _client(app, "siti")
    html = client.get(f"/pembayaran/{batch_id}").text
    twin = client.get(f"/pembayaran/{batch_id}.json").json()
    batch = payments.get_batch(db, FINANCE, batch_id).batch
    assert (
        twin["b"] == batch.as_json() and batch.number in html
    )  # the model's one JSON form, as the CLI prints it
    assert twin["b"]["nomor"] == batch.number and twin["b"]["status"] == "dibuat"
    assert (
        twin["d"]["per_status"] == {"dikirim": 3} and twin["b"]["dibuat_pada"] == batch.created_at.isoformat()
    )
    listing = client.get("/pembayaran.json").json()
    assert [r["nomor"] for r in listing["rows"]] == [batch.number]


def test_a_refused_twin_answers_in_json_with_the_pages_reason(web) -> None:
    app, _ = web
    client = _client(app, "opi")  # an operator handles no money
    page = client.get("/pembayaran")
    twin = client.get("/pembayaran.json")
    assert page.status_code == twin.status_code == 403
    assert twin.json()["title"] == "Akses ditolak" and twin.json()["role_refused"] is True
    missing = _client(app, "siti").get("/pembayaran/999.json")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/json"


def test_without_a_login_the_twin_goes_to_the_login_page_like_the_page(web) -> None:
    app, _ = web
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/pembayaran.json", follow_redirects=False).status_code == 303
    assert "/masuk" in client.get("/pembayaran.json", follow_redirects=False).headers["location"]


def test_only_reads_of_operator_pages_have_twins(web) -> None:
    app, _ = web
    client = _client(app, "siti")
    csrf_less = client.post("/pembayaran/baru.json", data={})
    assert csrf_less.status_code in (404, 405)
    assert twin_of("/cek.json") is None and twin_of("/layanan/usul.json") is None
    assert twin_of("/api/v1/families.json") is None and twin_of("/static/app.json") is None
    assert twin_of("/dci/registry/search.json") is None and twin_of("/.json") == "/"
    assert twin_of("/siklus/12.json") == "/siklus/12" and twin_of("/siklus/12") is None
    assert client.get("/cek.json").status_code == 404


class _Colour(StrEnum):
    MERAH = "merah"


@dataclasses.dataclass
class _Row:
    day: date
    colour: _Colour
    tags: frozenset[str]


class _WithJson:
    def as_json(self) -> dict[str, object]:
        return {"own": True}


def test_plain_turns_view_models_into_json_values_and_leaves_out_what_is_not_data() -> None:
    at = datetime(2026, 12, 5, 1, 2, 3, tzinfo=UTC)
    value = {
        "row": _Row(date(2026, 1, 2), _Colour.MERAH, frozenset({"b", "a"})),
        "at": at,
        "money": Decimal(250000),
        "share": Decimal("0.25"),
        "model": _WithJson(),
        "Colour": _Colour,
        "helper": len,
        _Colour.MERAH: [1, (2, 3)],
        "nan": float("nan"),
        "unknown": object(),
    }
    assert plain(value) == {
        "row": {"day": "2026-01-02", "colour": "merah", "tags": ["a", "b"]},
        "at": "2026-12-05T01:02:03+00:00",
        "money": 250000,
        "share": 0.25,
        "model": {"own": True},
        "merah": [1, [2, 3]],
        "nan": None,
    }
