"""The JSON API: bearer tokens, registry endpoints, concurrency, the one error shape, area rules, OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.services import auth, registry_reads
from tepat.store.database import Database
from tests.factories import OTHER_KELURAHAN, kk, make_family, member_values
from tests.test_web_support import SYSTEM_ADMIN, add_user, fill_path, make_app

KEL = "32.75.01.1001"


@pytest.fixture
def client(db: Database, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(make_app(db, tmp_path), raise_server_exceptions=False) as c:
        yield c


def _token(db: Database, username: str, role: Role, area: str) -> dict[str, str]:
    add_user(db, username, role, area)
    return {"Authorization": f"Bearer {auth.issue_token(db, SYSTEM_ADMIN, username).token}"}


@pytest.fixture
def op(db: Database) -> dict[str, str]:
    return _token(db, "ani", Role.OPERATOR, KEL)


def _is_error_shape(body: dict[str, Any]) -> bool:
    return (
        body.get("ok") is False
        and isinstance(body.get("error"), str)
        and body["error"]
        and isinstance(body.get("errors"), list)
        and all(set(e) == {"field", "message"} for e in body["errors"])
    )


def test_missing_or_bad_token_is_401_in_the_error_shape(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer tpt_tidak-ada"}, {"Authorization": "Basic YWJjOmRlZg=="}):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401 and _is_error_shape(response.json())
        assert response.headers["www-authenticate"] == "Bearer"


def test_me_names_the_area(client: TestClient, op: dict[str, str]) -> None:
    assert client.get("/api/v1/me", headers=op).json() == {
        "username": "ani",
        "full_name": "Ani",
        "role": "operator",
        "role_label": "Operator",
        "area_code": KEL,
        "area_name": "Bekasijaya",
    }


def _new_family(**extra: Any) -> dict[str, Any]:
    head = member_values("Wati Susanti", "P", date(1988, 10, 30))
    return {
        "kk_number": kk(),
        "kelurahan_code": KEL,
        "rw": 2,
        "rt": 4,
        "address": "Jl. Kenanga 1",
        "floor_material": "keramik",
        "asset_motorcycle": True,
        "members": [head],
        "reason": "BA muskel 1/2026",
        **extra,
    }


def test_create_get_update_with_version_and_history(
    db: Database, client: TestClient, op: dict[str, str]
) -> None:
    created = client.post("/api/v1/families", json=_new_family(), headers=op)
    assert created.status_code == 201 and created.json()["ok"] is True
    family_id = created.json()["id"]
    family = client.get(f"/api/v1/families/{family_id}", headers=op).json()
    assert (
        family["version"] == 1
        and family["kelurahan_name"] == "Bekasijaya"
        and family["asset_motorcycle"] is True
    )
    assert family["members"][0]["name"] == "Wati Susanti" and family["members"][0]["age"] >= 36

    changed = client.patch(
        f"/api/v1/families/{family_id}", json={"rt": 8, "version": 1, "reason": "koreksi RT"}, headers=op
    )
    assert changed.status_code == 200 and changed.json() == {"ok": True}
    stale = client.patch(
        f"/api/v1/families/{family_id}", json={"rt": 9, "version": 1, "reason": "koreksi lagi"}, headers=op
    )
    assert (
        stale.status_code == 409
        and _is_error_shape(stale.json())
        and "sudah diubah oleh ani" in stale.json()["error"]
    )
    now = client.get(f"/api/v1/families/{family_id}", headers=op).json()
    assert (now["rt"], now["version"], now["changed_by"]) == (8, 2, "ani")

    history = client.get(f"/api/v1/families/{family_id}/history", headers=op).json()
    assert history[0]["reason"] == "koreksi RT" and history[0]["changes"] == [
        {"field": "RT", "old": "4", "new": "8"}
    ]
    as_of = client.get(f"/api/v1/families/{family_id}", params={"as_of": "2000-01-01T00:00:00Z"}, headers=op)
    assert as_of.status_code == 404 and _is_error_shape(as_of.json())


def test_validation_errors_name_the_fields(client: TestClient, op: dict[str, str]) -> None:
    bad_schema = client.post(
        "/api/v1/families", json={**_new_family(), "rw": "abc", "tenure": "istana"}, headers=op
    )
    assert bad_schema.status_code == 422 and _is_error_shape(bad_schema.json())
    fields = {e["field"] for e in bad_schema.json()["errors"]}
    assert {"rw", "tenure"} <= fields
    member = {**member_values("Salah Kelamin", "L", date(1990, 1, 1)), "sex": "P"}
    bad_rule = client.post("/api/v1/families", json={**_new_family(), "members": [member]}, headers=op)
    assert bad_rule.status_code == 422 and _is_error_shape(bad_rule.json())
    assert [e["field"] for e in bad_rule.json()["errors"]] == ["members.0.sex"]
    unknown = client.post("/api/v1/families", json={**_new_family(), "warna": "merah"}, headers=op)
    assert unknown.status_code == 422 and unknown.json()["errors"] == [
        {"field": "warna", "message": "Kolom ini tidak dikenal."}
    ]
    not_json = client.post(
        "/api/v1/families", content=b"{", headers={**op, "content-type": "application/json"}
    )
    assert not_json.status_code == 422 and _is_error_shape(not_json.json())


def test_search_members_move_deactivate(db: Database, client: TestClient, op: dict[str, str], admin) -> None:
    family_id = make_family(db, admin, KEL)
    other_id = make_family(db, admin, KEL, members=[member_values("Kepala Dua", "L", date(1965, 2, 2))])
    hits = client.get("/api/v1/families", params={"q": "santoso"}, headers=op).json()
    assert (
        [h["id"] for h in hits] == [family_id]
        and hits[0]["head_name"] == "Budi Santoso"
        and hits[0]["member_count"] == 3
    )
    listed = client.get("/api/v1/families", params={"kelurahan": KEL, "rw": 3}, headers=op).json()
    assert {h["id"] for h in listed} == {family_id, other_id}

    baby = member_values("Bayi Baru", "P", date(2025, 1, 5), "anak")
    added = client.post(
        f"/api/v1/families/{family_id}/members", json={**baby, "reason": "kelahiran"}, headers=op
    )
    assert added.status_code == 201
    member_id = added.json()["id"]
    renamed = client.patch(
        f"/api/v1/members/{member_id}", json={"name": "Bayi Ayu", "version": 1, "reason": "akta"}, headers=op
    )
    assert renamed.status_code == 200
    moved = client.post(
        f"/api/v1/members/{member_id}/move",
        json={"to_family_id": other_id, "version": 2, "reason": "ikut nenek"},
        headers=op,
    )
    assert moved.status_code == 200
    assert "Bayi Ayu" in [
        m["name"] for m in client.get(f"/api/v1/families/{other_id}", headers=op).json()["members"]
    ]
    gone = client.post(
        f"/api/v1/members/{member_id}/deactivate",
        json={"reason_code": "pindah", "version": 3, "note": "pindah"},
        headers=op,
    )
    assert gone.status_code == 200
    off = client.post(
        f"/api/v1/families/{family_id}/deactivate",
        json={"reason_code": "mampu", "version": 1, "note": "BA 4"},
        headers=op,
    )
    assert off.status_code == 200
    assert registry_reads.get_family(db, admin, family_id).family["registry_status"] == "nonaktif"


def test_nik_check(db: Database, client: TestClient, op: dict[str, str], admin) -> None:
    head = member_values("Cek Nik", "L", date(1979, 7, 7))
    family_id = make_family(db, admin, KEL, members=[head])
    found = client.get(f"/api/v1/nik/{head['nik']}", headers=op).json()
    assert found["valid"] is True and found["registered"] is True and found["family_id"] == family_id
    assert found["sex"] == "L" and found["birth_date"] == "1979-07-07"
    bad = client.get("/api/v1/nik/3275013213790001", headers=op).json()
    assert bad["valid"] is False and bad["errors"] and bad["registered"] is None


def test_analyst_gets_aggregates_only(db: Database, client: TestClient, admin) -> None:
    analyst = _token(db, "rina", Role.ANALYST, "32.75")
    family_id = make_family(db, admin, KEL)
    areas = client.get("/api/v1/areas", headers=analyst).json()
    assert areas["region_name"] == "Kota Bekasi"
    assert {r["families"] for r in areas["rows"]} == {
        0,
        None,
    }  # the kecamatan of one family is hidden (small cell)
    response = client.get(f"/api/v1/families/{family_id}", headers=analyst)
    assert response.status_code == 403 and _is_error_shape(response.json())
    assert client.get("/api/v1/families", params={"q": "budi"}, headers=analyst).status_code == 403


def test_unknown_api_path_and_unexpected_error_keep_the_shape(client: TestClient, op: dict[str, str]) -> None:
    missing = client.get("/api/v1/tidak-ada", headers=op)
    assert missing.status_code == 404 and _is_error_shape(missing.json())
    wrong_method = client.delete("/api/v1/me", headers=op)
    assert wrong_method.status_code == 405 and _is_error_shape(wrong_method.json())


def _api_routes(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/api/v1/openapi.json").json()
    return [(m.upper(), p) for p, ops in spec["paths"].items() for m in ops]


def test_every_api_route_hides_another_kelurahans_family(
    db: Database, client: TestClient, op: dict[str, str], admin
) -> None:
    secret = member_values("Rahasia Tetangga", "L", date(1971, 11, 12))
    victim = make_family(db, admin, OTHER_KELURAHAN, members=[secret])
    view = registry_reads.get_family(db, admin, victim)
    make_family(db, admin, KEL)
    mine = make_family(db, admin, KEL, members=[member_values("Milik Sendiri", "L", date(1969, 3, 3))])
    body = {
        "version": 1,
        "reason": "uji akses",
        "note": "uji",
        "reason_code": "pindah",
        "to_family_id": victim,
        "rt": 2,
        **member_values("Orang Baru", "L", date(1999, 9, 9), "anak"),
    }
    checked = 0
    for method, path in _api_routes(client):
        url = "/api/v1" + fill_path(
            path, family_id=victim, member_id=view.members[0]["id"], nik=secret["nik"]
        )
        params = {"q": secret["nik"], "kelurahan": OTHER_KELURAHAN, "code": OTHER_KELURAHAN}
        response = client.request(
            method,
            url,
            params=params,
            headers=op,
            json=None if method == "GET" else {k: v for k, v in body.items() if k in _allowed(path)},
        )
        assert "Rahasia Tetangga" not in response.text, f"{method} {path} leaks the family"
        if (
            "{family_id}" in path
            or "{member_id}" in path
            or path in ("/areas",)
            or (path == "/families" and method == "GET")
        ):
            assert response.status_code == 404, f"{method} {path} answered {response.status_code}"
            assert _is_error_shape(response.json())
        checked += 1
    # a member of my own family cannot be moved into the other kelurahan's family either
    my_member = registry_reads.get_family(db, admin, mine).members[0]
    moved = client.post(
        f"/api/v1/members/{my_member['id']}/move",
        json={"to_family_id": victim, "version": 1, "reason": "x y"},
        headers=op,
    )
    assert moved.status_code == 404
    assert checked >= 12
    assert client.get(f"/api/v1/nik/{secret['nik']}", headers=op).json()["registered"] is False
    assert registry_reads.get_family(db, admin, victim).family["version"] == 1


def _allowed(path: str) -> set[str]:
    if path.endswith("/move"):
        return {"to_family_id", "version", "reason"}
    if path.endswith("/deactivate"):
        return {"reason_code", "version", "note"}
    if path.endswith("/members"):
        return {"nik", "name", "sex", "birth_date", "relationship", "reason"}
    if path.startswith("/members/"):
        return {"name", "version", "reason"}
    return {"rt", "version", "reason"}


def test_openapi_document_is_complete_and_docs_work_offline(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {
        "FamilyCreate",
        "FamilyUpdate",
        "FamilyPublic",
        "MemberCreate",
        "MemberUpdate",
        "MemberPublic",
        "ErrorBody",
        "NikCheckPublic",
    } <= set(schemas)
    assert (
        "version" in schemas["FamilyUpdate"]["required"]
        and "kk_number" in schemas["FamilyCreate"]["required"]
    )
    assert "kk_number" not in schemas["FamilyUpdate"].get("required", [])
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    patch = spec["paths"]["/families/{family_id}"]["patch"]["responses"]
    assert {"409", "422", "404"} <= set(patch)
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and "/api/v1/families/{family_id}" in docs.text
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text
