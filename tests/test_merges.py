"""Merging a pair found by the duplicate search (issue 15): one record survives, the other is nonaktif / duplikat
pointing to it, its unpaid entitlements blocked in the same step; a paid record waits for a second person; undoing
restores both. Small registries: the pair is put in the queue directly, as a search would."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tepat.domain.access import Role
from tepat.domain.linkage import PairDecision
from tepat.errors import NotFound, PermissionDenied, StateError, ValidationError
from tepat.services import duplicates, merges, registry_history
from tepat.store import duplicates as store
from tepat.store.schema import entitlements, families, members
from tests.conftest import actor
from tests.factories import KELURAHAN, OTHER_KELURAHAN, kk, make_family, member_values
from tests.programme_data import approved_cycle, insert_programme

OPERATOR = actor(Role.OPERATOR, KELURAHAN, "ani")
CHECKER = actor(Role.ADMIN, "32.75", "kepala")


def _pair(db, admin, *, kelurahan_r: str = KELURAHAN) -> tuple[int, int, int, int, int]:
    """Two records of one person in two families (the second alone in hers); a queued pair decided "sama"."""
    from datetime import date

    first = member_values("Siti Aminah", "P", date(1971, 11, 2))
    second = {
        **member_values("Hj. Siti Aminah", "P", date(1971, 11, 2)),
        # one digit mistyped; never to a serial of 0000, which no NIK has (the file alone once gave 0009 → 0000)
        "nik": first["nik"][:15] + ("1" if first["nik"][15] != "1" else "2"),
    }
    fam_a = make_family(
        db,
        admin,
        KELURAHAN,
        members=[first, member_values("Budi", "L", date(1969, 1, 1), "istri_suami")],
        kk_number=kk(),
    )
    fam_b = make_family(db, admin, kelurahan_r, members=[second], kk_number=kk())
    with db.begin() as conn:
        ids = dict(
            conn.execute(
                sa.select(members.c.nik, members.c.id).where(members.c.nik.in_([first["nik"], second["nik"]]))
            ).all()
        )
        left, right = sorted((ids[first["nik"]], ids[second["nik"]]))
        model = store.insert_model(
            conn,
            {
                "area_code": "32.75",
                "model": {},
                "records": 3,
                "pairs": 1,
                "threshold": 0.9,
                "created_by": "uji",
                "created_at": datetime.now(UTC),
            },
        )
        store.save_pairs(
            conn,
            model,
            [
                {
                    "member_l": left,
                    "member_r": right,
                    "version_l": 1,
                    "version_r": 1,
                    "match_probability": 0.999,
                    "match_weight": 12.0,
                    "evidence": {"nik": 9.0, "name": 3.0},
                }
            ],
            datetime.now(UTC),
            "32.75",
        )
    pair_id = duplicates.queue(db, admin)[0]["id"]
    duplicates.decide(db, admin, pair_id, PairDecision.SAMA, "orang yang sama")
    return pair_id, ids[first["nik"]], ids[second["nik"]], fam_a, fam_b


def _member(db, member_id: int) -> dict:
    with db.read() as conn:
        return dict(conn.execute(sa.select(members).where(members.c.id == member_id)).mappings().one())


def _family(db, family_id: int) -> dict:
    with db.read() as conn:
        return dict(conn.execute(sa.select(families).where(families.c.id == family_id)).mappings().one())


def _entitlement_state(db, cycle_id: int, family_id: int) -> str:
    with db.read() as conn:
        return conn.execute(
            sa.select(entitlements.c.state).where(
                entitlements.c.cycle_id == cycle_id, entitlements.c.family_id == family_id
            )
        ).scalar_one()


def test_a_merge_keeps_one_record_and_closes_the_other_with_its_unpaid_money(db, admin) -> None:
    pair_id, keep, drop, fam_a, fam_b = _pair(db, admin)
    cycle = approved_cycle(db, insert_programme(db), [fam_a, fam_b])
    result = merges.propose(db, OPERATOR, pair_id, keep, "sama orang, sudah dicek KTP")
    assert result.state == merges.APPLIED and result.blocked == 1
    gone = _member(db, drop)
    assert gone["status"] == "nonaktif" and gone["inactive_reason"] == "duplikat"
    assert f"Digabung ke NIK {_member(db, keep)['nik']}" in gone["change_reason"]
    assert _family(db, fam_b)["registry_status"] == "nonaktif"  # she was alone in it
    assert _member(db, keep)["status"] == "aktif" and _family(db, fam_a)["registry_status"] == "aktif"
    assert _entitlement_state(db, cycle, fam_b) == "diblokir"  # the same hook as a death
    assert _entitlement_state(db, cycle, fam_a) == "terjadwal"
    history = registry_history.family_history(db, admin, fam_b)
    assert len(history) >= 2  # nothing deleted: the family's history shows it registered, then closed
    assert [m["state"] for m in merges.listed(db, OPERATOR)] == [merges.APPLIED]


def test_only_a_pair_decided_the_same_person_merges_into_one_of_its_records(db, admin) -> None:
    pair_id, keep, _drop, _, _ = _pair(db, admin)
    with pytest.raises(ValidationError):
        merges.propose(db, OPERATOR, pair_id, 999_999, "sama orang")
    with pytest.raises(ValidationError):
        merges.propose(db, OPERATOR, pair_id, keep, "")  # a reason is needed
    duplicates.decide(db, admin, pair_id, PairDecision.KUNJUNGAN, "cek dulu")
    with pytest.raises(StateError):
        merges.propose(db, OPERATOR, pair_id, keep, "sama orang")
    with pytest.raises(NotFound):  # another kecamatan's operator does not see the pair at all
        merges.propose(db, actor(Role.OPERATOR, OTHER_KELURAHAN, "budi"), pair_id, keep, "sama orang")


def test_a_paid_record_waits_for_a_second_person(db, admin) -> None:
    pair_id, keep, drop, _fam_a, fam_b = _pair(db, admin)
    cycle = approved_cycle(db, insert_programme(db), [fam_b])
    with db.begin() as conn:
        conn.execute(entitlements.update().where(entitlements.c.cycle_id == cycle).values(state="dibayar"))
    result = merges.propose(db, OPERATOR, pair_id, keep, "sama orang, pernah dibayar")
    assert result.state == merges.PROPOSED and _member(db, drop)["status"] == "aktif"  # nothing applied yet
    with pytest.raises(PermissionDenied):
        merges.approve(db, OPERATOR, result.merge_id)  # an operator does not oversee
    with pytest.raises(PermissionDenied):
        merges.approve(db, actor(Role.ADMIN, "32.75", "ani"), result.merge_id)  # nor approves her own request
    approved = merges.approve(db, CHECKER, result.merge_id)
    assert approved.state == merges.APPLIED and _member(db, drop)["status"] == "nonaktif"
    assert _entitlement_state(db, cycle, fam_b) == "dibayar"  # what was paid stays paid


def test_undoing_a_merge_restores_both_and_asks_about_the_pair_again(db, admin) -> None:
    pair_id, keep, drop, _fam_a, fam_b = _pair(db, admin)
    merged = merges.propose(db, OPERATOR, pair_id, keep, "sama orang")
    merges.undo(db, OPERATOR, merged.merge_id, "ternyata kembar")
    assert _member(db, drop)["status"] == "aktif" and _member(db, drop)["inactive_reason"] is None
    assert _family(db, fam_b)["registry_status"] == "aktif"
    assert [p["id"] for p in duplicates.queue(db, admin)] == [pair_id]  # back in the queue
    assert merges.listed(db, OPERATOR) == []
    with pytest.raises(StateError):
        merges.undo(db, OPERATOR, merged.merge_id, "sekali lagi")


def test_the_page_merges_a_pair_and_undoes_it(db, admin, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from tests.test_web_support import add_user, login, make_app

    pair_id, keep, drop, _, _fam_b = _pair(db, admin)
    add_user(db, "ani", Role.OPERATOR, KELURAHAN)
    with TestClient(make_app(db, tmp_path)) as web:
        csrf = login(web, "ani")
        page = web.get("/duplikat?keputusan=sama")
        assert f'action="/duplikat/{pair_id}/gabung"' in page.text and "Gabungkan" in page.text
        short = web.post(
            f"/duplikat/{pair_id}/gabung", data={"csrf_token": csrf, "simpan": str(keep), "catatan": "ya"}
        )
        assert short.status_code == 422 and "paling sedikit 5 huruf" in short.text
        done = web.post(
            f"/duplikat/{pair_id}/gabung",
            data={"csrf_token": csrf, "simpan": str(keep), "catatan": "sama orang, dicek KTP"},
            follow_redirects=False,
        )
        assert done.status_code == 303 and "gabung-berlaku" in done.headers["location"]
        assert _member(db, drop)["inactive_reason"] == "duplikat"
        listed = web.get("/duplikat").text
        assert "Batalkan penggabungan" in listed and "sama orang, dicek KTP" in listed
        merge_id = merges.listed(db, OPERATOR)[0]["id"]
        undone = web.post(
            f"/duplikat/gabung/{merge_id}/batal",
            data={"csrf_token": csrf, "catatan": "salah gabung"},
            follow_redirects=False,
        )
        assert undone.status_code == 303 and _member(db, drop)["status"] == "aktif"


def test_the_command_line_merges_approves_and_undoes(db, admin) -> None:
    from typer.testing import CliRunner

    from tepat.cli import app
    from tests.test_web_support import add_user

    pair_id, keep, drop, _fam_a, fam_b = _pair(db, admin)
    cycle = approved_cycle(db, insert_programme(db), [fam_b])
    with db.begin() as conn:
        conn.execute(entitlements.update().where(entitlements.c.cycle_id == cycle).values(state="dibayar"))
    add_user(db, "ani", Role.OPERATOR, KELURAHAN)
    add_user(db, "kepala", Role.ADMIN, "32.75")
    runner = CliRunner()
    asked = runner.invoke(
        app,
        [
            "duplikat",
            "gabung",
            str(pair_id),
            "--simpan",
            str(keep),
            "--catatan",
            "orang yang sama",
            "--as",
            "ani",
            "--db",
            db.url,
            "--json",
        ],
    )
    assert asked.exit_code == 0, asked.output
    merge_id = json.loads(asked.output)["gabung"]
    assert json.loads(asked.output)["status"] == merges.PROPOSED
    refused = runner.invoke(app, ["duplikat", "setujui", str(merge_id), "--as", "ani", "--db", db.url])
    assert refused.exit_code == 1
    approved = runner.invoke(app, ["duplikat", "setujui", str(merge_id), "--as", "kepala", "--db", db.url])
    assert (
        approved.exit_code == 0 and "berlaku" in approved.output and _member(db, drop)["status"] == "nonaktif"
    )
    undone = runner.invoke(
        app,
        [
            "duplikat",
            "batal-gabung",
            str(merge_id),
            "--catatan",
            "salah orang",
            "--as",
            "kepala",
            "--db",
            db.url,
        ],
    )
    assert undone.exit_code == 0 and _member(db, drop)["status"] == "aktif"


def test_a_pair_needing_a_visit_is_on_the_verifiers_work_list(db, admin, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from tepat.services import verification
    from tests.test_web_support import add_user, login, make_app

    pair_id, *_ = _pair(db, admin)
    verifier = actor(Role.VERIFIER, KELURAHAN, "vera")
    assert verification.work_list(db, verifier).duplicates == []
    duplicates.decide(db, admin, pair_id, PairDecision.KUNJUNGAN, "alamat sama, cek rumah")
    listed = verification.work_list(db, verifier).duplicates
    assert [p["id"] for p in listed] == [pair_id] and listed[0]["note"] == "alamat sama, cek rumah"
    assert verification.work_list(db, actor(Role.VERIFIER, OTHER_KELURAHAN, "vero")).duplicates == []
    add_user(db, "vera", Role.VERIFIER, KELURAHAN)
    with TestClient(make_app(db, tmp_path)) as web:
        login(web, "vera")
        page = web.get("/verifikasi").text
        assert "Kemungkinan duplikat perlu dikunjungi (1)" in page and "alamat sama, cek rumah" in page
        assert 'href="/duplikat' not in page  # a verifier visits; the decision is the registry staff's
