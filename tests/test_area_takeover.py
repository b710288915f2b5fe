"""Area scoping of registry writes: an import, a page/API create or an approved usul never takes over a family or
person registered in another area; such rows are refused and sent to that area as a move request (issue 13 points
1 and 7)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from tepat.domain.access import Role
from tepat.errors import ImportRejected, NotFound, PermissionDenied, StateError, ValidationError
from tepat.services import moves, registry, registry_history
from tepat.services.imports import import_file
from tepat.store.database import Database
from tepat.store.schema import families, members
from tests.conftest import actor
from tests.registry_files import KELURAHAN, OTHER_KELURAHAN, family, kk, nik, write_csv

OPERATOR_A = actor(Role.OPERATOR, "32.75.01", "operator_a")  # the attacker's kecamatan (KELURAHAN lies in it)
OPERATOR_B = actor(Role.OPERATOR, "32.75.02", "operator_b")  # the victim's kecamatan (OTHER_KELURAHAN)
REFUSED = "NIK/KK terdaftar di wilayah lain; ajukan perpindahan"


def _family(db: Database, number: str) -> dict[str, object]:
    with db.read() as conn:
        return dict(conn.execute(sa.select(families).where(families.c.kk_number == number)).one()._mapping)


def _members_of(db: Database, family_id: object) -> list[dict[str, object]]:
    with db.read() as conn:
        return [
            dict(r)
            for r in conn.execute(sa.select(members).where(members.c.family_id == family_id)).mappings()
        ]


def _victim(db: Database, admin, tmp_path: Path) -> list[dict[str, str]]:
    rows = family(kelurahan=OTHER_KELURAHAN)
    import_file(db, admin, write_csv(tmp_path / "victim.csv", rows))
    return rows


def test_a_one_row_file_with_another_areas_kk_does_not_move_the_family(
    db: Database, admin, tmp_path: Path
) -> None:
    victim = _victim(db, admin, tmp_path)
    before = _family(db, victim[0]["nomor_kk"])
    attack = [dict(victim[0], kode_kelurahan=KELURAHAN, alamat="Jl. Penyerang 1")]
    result = import_file(db, OPERATOR_A, write_csv(tmp_path / "attack.csv", attack))
    after = _family(db, victim[0]["nomor_kk"])
    assert (after["kelurahan_code"], after["version"], after["address"]) == (
        OTHER_KELURAHAN,
        1,
        before["address"],
    )
    assert all(m["family_id"] == before["id"] and m["version"] == 1 for m in _members_of(db, before["id"]))
    assert (
        result.rows_rejected,
        result.families_updated,
        result.families_created,
        result.members_updated,
    ) == (1, 0, 0, 0)
    assert [(e.row, e.field, e.message) for e in result.errors] == [
        (2, "nomor_kk", REFUSED)
    ]  # row 1 is the header
    waiting = moves.incoming(db, OPERATOR_B)
    assert [
        (w["kk_number"], w["nik"], w["to_kelurahan_code"], w["requested_by"], w["state"]) for w in waiting
    ] == [(victim[0]["nomor_kk"], None, KELURAHAN, "operator_a", "menunggu")]
    assert moves.incoming(db, OPERATOR_A) == []
    assert [w["kk_number"] for w in moves.outgoing(db, OPERATOR_A)] == [victim[0]["nomor_kk"]]


def test_a_row_with_only_another_areas_nik_is_refused_with_its_whole_family(
    db: Database, admin, tmp_path: Path
) -> None:
    victim = _victim(db, admin, tmp_path)
    mine = family()
    mine[2] = dict(
        mine[2], nik=victim[2]["nik"], nama=victim[2]["nama"], tanggal_lahir=victim[2]["tanggal_lahir"]
    )
    result = import_file(db, OPERATOR_A, write_csv(tmp_path / "nik.csv", mine))
    person = [
        m for m in _members_of(db, _family(db, victim[0]["nomor_kk"])["id"]) if m["nik"] == victim[2]["nik"]
    ]
    assert len(person) == 1 and person[0]["version"] == 1
    with db.read() as conn:
        assert (
            conn.execute(sa.select(families).where(families.c.kk_number == mine[0]["nomor_kk"])).first()
            is None
        )
    assert result.rows_rejected == 3 and result.members_created == 0
    assert {e.row for e in result.errors} == {2, 3, 4}
    assert (4, "nik", REFUSED) in [(e.row, e.field, e.message) for e in result.errors]
    [request] = moves.incoming(db, OPERATOR_B)
    assert (request["nik"], request["kk_number"]) == (victim[2]["nik"], mine[0]["nomor_kk"])


def test_strict_mode_rejects_the_file_and_the_request_is_not_lost(
    db: Database, admin, tmp_path: Path
) -> None:
    victim = _victim(db, admin, tmp_path)
    attack = family() + [dict(victim[0], kode_kelurahan=KELURAHAN)]
    with pytest.raises(ImportRejected) as caught:
        import_file(db, OPERATOR_A, write_csv(tmp_path / "strict.csv", attack), mode="strict")
    assert any(e.message == REFUSED for e in caught.value.errors)
    assert _family(db, victim[0]["nomor_kk"])["kelurahan_code"] == OTHER_KELURAHAN
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(families)).scalar_one() == 1
    assert [r["kk_number"] for r in moves.incoming(db, OPERATOR_B)] == [victim[0]["nomor_kk"]]


def test_an_inactive_record_in_another_area_is_left_alone_and_a_new_one_is_made(
    db: Database, admin, tmp_path: Path
) -> None:
    victim = _victim(db, admin, tmp_path)
    old = _family(db, victim[0]["nomor_kk"])
    registry.deactivate_family(
        db, admin, int(old["id"]), "pindah", expected_version=1, note="pindah ke Bekasi Timur"
    )
    for m in _members_of(db, old["id"]):
        registry.deactivate_member(db, admin, int(m["id"]), "pindah", expected_version=1, note="pindah")
    moved = [dict(r, kode_kelurahan=KELURAHAN) for r in victim]
    result = import_file(db, OPERATOR_A, write_csv(tmp_path / "moved.csv", moved))
    assert (result.rows_rejected, result.families_created, result.members_created) == (0, 1, 3)
    with db.read() as conn:
        rows = (
            conn.execute(
                sa.select(families)
                .where(families.c.kk_number == victim[0]["nomor_kk"])
                .order_by(families.c.id)
            )
            .mappings()
            .all()
        )
    assert [(r["kelurahan_code"], r["registry_status"]) for r in rows] == [
        (OTHER_KELURAHAN, "nonaktif"),
        (KELURAHAN, "aktif"),
    ]
    assert all(m["status"] == "nonaktif" and m["version"] == 2 for m in _members_of(db, old["id"]))


def test_moves_inside_the_area_still_apply(db: Database, tmp_path: Path) -> None:
    city = actor(Role.OPERATOR, "32.75")
    rows = family()
    import_file(db, city, write_csv(tmp_path / "a.csv", rows))
    result = import_file(
        db, city, write_csv(tmp_path / "b.csv", [dict(r, kode_kelurahan=OTHER_KELURAHAN) for r in rows])
    )
    assert (result.rows_rejected, result.families_updated) == (0, 1)
    assert _family(db, rows[0]["nomor_kk"])["kelurahan_code"] == OTHER_KELURAHAN


def _family_values(number: str, kelurahan: str = KELURAHAN) -> dict[str, object]:
    return {"kk_number": number, "kelurahan_code": kelurahan, "rw": 1, "rt": 2, "address": "Jl. Melati 3"}


def test_creating_a_family_with_another_areas_kk_or_nik_is_refused_without_details(
    db: Database, admin, tmp_path: Path
) -> None:
    victim = _victim(db, admin, tmp_path)
    head = {
        "nik": victim[0]["nik"],
        "name": "Budi Santoso",
        "sex": "L",
        "birth_date": victim[0]["tanggal_lahir"],
        "relationship": "kepala_keluarga",
    }
    with pytest.raises(ValidationError) as by_kk:
        registry.create_family(
            db, OPERATOR_A, _family_values(victim[0]["nomor_kk"]), [head], reason="daftar baru"
        )
    with pytest.raises(ValidationError) as by_nik:
        registry.create_family(db, OPERATOR_A, _family_values(kk()), [head], reason="daftar baru")
    for caught in (by_kk, by_nik):
        text = caught.value.message + " ".join(e.message for e in caught.value.errors)
        assert (
            "tidak dapat didaftarkan di sini" in text
            and OTHER_KELURAHAN not in text
            and "32.75.02" not in text
        )
    assert len(moves.incoming(db, OPERATOR_B)) == 2
    fam = registry.create_family(
        db, OPERATOR_A, _family_values(kk()), [dict(head, nik=nik(date(1980, 5, 17)))], reason="daftar baru"
    )
    with pytest.raises(ValidationError):
        registry.add_member(db, OPERATOR_A, fam, dict(head, relationship="anak"), reason="tambah anak")
    assert len(moves.incoming(db, OPERATOR_B)) == 3


def test_the_other_area_accepts_or_refuses_a_move_request(db: Database, admin, tmp_path: Path) -> None:
    victim = _victim(db, admin, tmp_path)
    attack = [dict(r, kode_kelurahan=KELURAHAN) for r in victim]
    import_file(db, OPERATOR_A, write_csv(tmp_path / "move.csv", attack))
    [request] = moves.incoming(db, OPERATOR_B)
    with pytest.raises((PermissionDenied, NotFound)):
        moves.decide(db, OPERATOR_A, request["id"], accept=True, note="saya terima sendiri")
    moves.decide(
        db, OPERATOR_B, request["id"], accept=True, note="KK pindah ke Bekasi Timur, surat pindah ada"
    )
    old = _family(db, victim[0]["nomor_kk"])
    assert old["registry_status"] == "nonaktif" and old["inactive_reason"] == "pindah"
    assert all(m["status"] == "nonaktif" for m in _members_of(db, old["id"]))
    assert moves.incoming(db, OPERATOR_B) == []
    [done] = moves.outgoing(db, OPERATOR_A)
    assert (done["state"], done["decided_by"]) == ("diterima", "operator_b")
    again = import_file(db, OPERATOR_A, write_csv(tmp_path / "again.csv", attack))
    assert (again.rows_rejected, again.families_created, again.members_created) == (0, 1, 3)
    with pytest.raises(StateError):
        moves.decide(db, OPERATOR_B, request["id"], accept=False, note="dua kali")


def test_a_refused_request_changes_nothing(db: Database, admin, tmp_path: Path) -> None:
    victim = _victim(db, admin, tmp_path)
    import_file(db, OPERATOR_A, write_csv(tmp_path / "m.csv", [dict(victim[0], kode_kelurahan=KELURAHAN)]))
    [request] = moves.incoming(db, OPERATOR_B)
    moves.decide(db, OPERATOR_B, request["id"], accept=False, note="Keluarga masih tinggal di sini")
    assert _family(db, victim[0]["nomor_kk"])["registry_status"] == "aktif"
    assert moves.outgoing(db, OPERATOR_A)[0]["state"] == "ditolak"


def test_the_move_request_page_shows_requests_and_records_the_decision(
    db: Database, admin, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from tests.test_web_support import add_user, login, make_app

    victim = _victim(db, admin, tmp_path)
    import_file(db, OPERATOR_A, write_csv(tmp_path / "m.csv", [dict(victim[0], kode_kelurahan=KELURAHAN)]))
    add_user(db, "operator_b", Role.OPERATOR, "32.75.02")
    add_user(db, "analis", Role.ANALYST, "32.75")
    with TestClient(make_app(db, tmp_path), raise_server_exceptions=False) as client:
        login(client, "analis")
        assert client.get("/perpindahan").status_code == 403
        client.cookies.clear()
        csrf = login(client, "operator_b")
        home = client.get("/").text
        assert "Permintaan perpindahan dari wilayah lain" in home and 'href="/perpindahan"' in home
        page = client.get("/perpindahan").text
        assert victim[0]["nomor_kk"] in page and "Menunggu keputusan wilayah Anda (1)" in page
        [request] = moves.incoming(db, OPERATOR_B)
        short = client.post(
            f"/perpindahan/{request['id']}", data={"csrf_token": csrf, "catatan": "ok", "keputusan": "tolak"}
        )
        assert short.status_code == 422 and "Alasan paling sedikit 5 huruf" in short.text
        done = client.post(
            f"/perpindahan/{request['id']}",
            data={"csrf_token": csrf, "catatan": "Keluarga masih di sini", "keputusan": "tolak"},
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"] == "/perpindahan?pesan=ditolak"
        client.cookies.clear()
        add_user(db, "operator_a", Role.OPERATOR, "32.75.01")
        login(client, "operator_a")
        asked = client.get("/perpindahan").text
        assert "Permintaan dari wilayah Anda (1)" in asked and "<td>Ditolak</td>" in asked
    assert moves.outgoing(db, OPERATOR_A)[0]["state"] == "ditolak"
    assert _family(db, victim[0]["nomor_kk"])["registry_status"] == "aktif"


def test_the_move_request_commands(db: Database, admin, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tepat.cli import app
    from tests.test_web_support import add_user

    victim = _victim(db, admin, tmp_path)
    import_file(db, OPERATOR_A, write_csv(tmp_path / "m.csv", [dict(victim[0], kode_kelurahan=KELURAHAN)]))
    add_user(db, "operator_b", Role.OPERATOR, "32.75.02")
    runner = CliRunner()
    listed = runner.invoke(app, ["perpindahan", "list", "--as", "operator_b", "--db", db.url])
    assert (
        listed.exit_code == 0
        and "1 permintaan menunggu" in listed.output
        and victim[0]["nomor_kk"] in listed.output
    )
    [request] = moves.incoming(db, OPERATOR_B)
    done = runner.invoke(
        app,
        [
            "perpindahan",
            "terima",
            str(request["id"]),
            "--as",
            "operator_b",
            "--catatan",
            "Surat pindah ada",
            "--db",
            db.url,
        ],
    )
    assert done.exit_code == 0, done.output
    assert _family(db, victim[0]["nomor_kk"])["inactive_reason"] == "pindah"


def test_a_familys_history_stops_at_the_day_a_member_left(db: Database, admin, tmp_path: Path) -> None:
    mine, theirs = family(), family(kelurahan=OTHER_KELURAHAN)
    import_file(db, admin, write_csv(tmp_path / "two.csv", mine + theirs))
    home, new_home = _family(db, mine[0]["nomor_kk"]), _family(db, theirs[0]["nomor_kk"])
    child = next(m for m in _members_of(db, home["id"]) if m["nik"] == mine[2]["nik"])
    registry.update_member(
        db, admin, int(child["id"]), {"education": "smp"}, expected_version=1, reason="naik kelas"
    )
    registry.move_member(
        db,
        admin,
        int(child["id"]),
        int(new_home["id"]),
        expected_version=2,
        reason=f"menikah, ikut KK {theirs[0]['nomor_kk']}",
    )
    registry.update_member(
        db, admin, int(child["id"]), {"name": "Rizky Nama Baru"}, expected_version=3, reason="ganti nama"
    )
    history = registry_history.family_history(db, OPERATOR_A, int(home["id"]))
    about_child = [h for h in history if h.entity == "anggota" and h.entity_id == child["id"]]
    assert [h.version for h in about_child] == [3, 2, 1]
    left = about_child[0]
    assert left.changes == [("Keluarga", "keluarga ini", "pindah ke keluarga lain")]
    shown = [str(v) for h in history for v in (h.reason, h.entity_label, *[x for c in h.changes for x in c])]
    assert new_home["id"] not in [v for h in history for c in h.changes for v in c[1:]]
    for secret in (theirs[0]["nomor_kk"], "Rizky Nama Baru", "ganti nama"):
        assert not any(secret in text for text in shown)
    assert not any(h.entity_id == new_home["id"] and h.entity == "keluarga" for h in history)
    arrived = [
        h
        for h in registry_history.family_history(db, OPERATOR_B, int(new_home["id"]))
        if h.entity_id == child["id"]
    ]
    assert [h.version for h in arrived] == [4, 3] and arrived[1].changes == [
        ("Keluarga", "keluarga lain", "keluarga ini")
    ]


def test_roles_that_cannot_edit_get_the_same_answer_for_an_existing_and_a_missing_member(
    db, admin, tmp_path: Path
) -> None:
    victim = _victim(db, admin, tmp_path)
    existing = _members_of(db, _family(db, victim[0]["nomor_kk"])["id"])[0]["id"]
    for role in (Role.ANALYST, Role.VERIFIER, Role.FINANCE):
        who = actor(role, "32.75")
        answers = []
        for member_id in (existing, 987654):
            with pytest.raises((PermissionDenied, NotFound)) as caught:
                registry.update_member(
                    db, who, member_id, {"education": "smp"}, expected_version=1, reason="coba"
                )
            answers.append((type(caught.value), caught.value.message))
        assert answers[0] == answers[1], role
