"""Registry services: create, edit with history, as-of views, moves, area scoping, concurrency."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tepat.domain.access import Role
from tepat.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from tepat.services import registry, registry_history, registry_reads
from tepat.store import audit
from tepat.store.engine import now
from tepat.store.schema import families
from tests.conftest import actor
from tests.factories import KELURAHAN, OTHER_KELURAHAN, family_values, letters, make_family, member_values


def test_create_family_stores_members_and_writes_audit(db, admin):
    family_id = make_family(db, admin)
    view = registry_reads.get_family(db, admin, family_id)
    assert view.family["kelurahan_code"] == KELURAHAN
    assert view.family["kecamatan_code"] == "32.75.01"
    assert view.kelurahan_name == "Bekasijaya" and view.kecamatan_name == "Bekasi Timur"
    assert [m["name"] for m in view.members] == ["Budi Santoso", "Siti Aminah", "Rizky Pratama"]
    assert view.family["version"] == 1 and view.family["changed_by"] == "admin"
    audit.flush_reads(db)  # reads go through the buffered read log
    with db.read() as conn:
        entries = audit.entries(conn, entity="family", entity_id=family_id)
    assert [e["action"] for e in entries] == ["family.read", "family.create"]


def test_validation_errors_name_the_field_in_indonesian(db, admin):
    bad_member = {**member_values(), "sex": "P"}  # the NIK says male
    with pytest.raises(ValidationError) as err:
        registry.create_family(
            db, admin, family_values(rw="x", kelurahan_code="32.75.99.9999"), [bad_member], reason="uji"
        )
    fields = {e.field: e.message for e in err.value.errors}
    assert fields["rw"] == "RW: harus bilangan bulat"
    assert "tidak ada dalam daftar wilayah" in fields["kelurahan_code"]
    assert fields["members.0.sex"].startswith("Jenis kelamin tidak sesuai NIK")


def test_nik_is_unique_among_active_people(db, admin):
    head = member_values()
    make_family(db, admin, members=[head])
    with pytest.raises(ValidationError) as err:
        make_family(db, admin, members=[dict(head)])
    assert err.value.errors[0].field == "nik"


def test_edit_keeps_the_old_version_and_history_says_who_when_why(db, admin):
    family_id = make_family(db, admin)
    registry.update_family(
        db,
        admin,
        family_id,
        {"floor_material": "tanah", "rt": "6"},
        expected_version=1,
        reason="hasil kunjungan",
    )
    view = registry_reads.get_family(db, admin, family_id)
    assert view.family["floor_material"] == "tanah" and view.family["rt"] == 6 and view.family["version"] == 2
    history = registry_history.family_history(db, admin, family_id)
    latest = history[0]
    assert latest.entity == "keluarga" and latest.reason == "hasil kunjungan" and latest.actor == "admin"
    assert ("Jenis lantai terluas", "keramik", "tanah") in latest.changes
    assert ("RT", 5, 6) in latest.changes


def test_an_edit_that_changes_nothing_adds_no_version(db, admin):
    family_id = make_family(db, admin)
    registry.update_family(
        db, admin, family_id, {"floor_material": "keramik"}, expected_version=1, reason="cek ulang"
    )
    assert registry_reads.get_family(db, admin, family_id).family["version"] == 1


def test_stale_edit_is_refused_and_loses_nothing(db, admin):
    family_id = make_family(db, admin)
    other = actor(Role.OPERATOR, KELURAHAN, "operator2")
    registry.update_family(
        db, other, family_id, {"address": "Jl. Melati 1"}, expected_version=1, reason="pindah rumah"
    )
    with pytest.raises(ConflictError) as err:
        registry.update_family(
            db, admin, family_id, {"address": "Jl. Kenanga 2"}, expected_version=1, reason="koreksi"
        )
    assert "operator2" in err.value.message
    assert registry_reads.get_family(db, admin, family_id).family["address"] == "Jl. Melati 1"


def test_as_of_shows_the_family_as_it_was(db, admin):
    family_id = make_family(db, admin)
    before_edit = now()
    time.sleep(0.01)
    registry.update_family(
        db, admin, family_id, {"address": "Jl. Baru 9"}, expected_version=1, reason="pindah"
    )
    head = registry_reads.get_family(db, admin, family_id).members[0]
    registry.deactivate_member(
        db,
        admin,
        head["id"],
        "meninggal",
        expected_version=1,
        note="akta kematian",
        death_date=date(2025, 1, 2),
    )
    past = registry_reads.get_family(db, admin, family_id, as_of=before_edit)
    assert past.family["address"] == "Jl. Mawar No. 7"
    assert [m["status"] for m in past.members] == ["aktif", "aktif", "aktif"]
    current = registry_reads.get_family(db, admin, family_id)
    assert current.members[0]["status"] == "nonaktif" and current.members[0]["life_status"] == "meninggal"
    with pytest.raises(NotFound):
        registry_reads.get_family(db, admin, family_id, as_of=before_edit - timedelta(days=1))


def test_moving_a_member_keeps_the_old_membership_in_history(db, admin):
    first = make_family(db, admin)
    second = make_family(db, admin, members=[member_values("Andi Wijaya", birth=date(1990, 1, 1))])
    child = registry_reads.get_family(db, admin, first).members[2]
    registry.move_member(db, admin, child["id"], second, expected_version=1, reason="ikut KK baru")
    assert [m["name"] for m in registry_reads.get_family(db, admin, second).members] == [
        "Andi Wijaya",
        "Rizky Pratama",
    ]
    assert len(registry_reads.get_family(db, admin, first).members) == 2
    moves = [
        e
        for e in registry_history.family_history(db, admin, first)
        if e.entity_label == "Rizky Pratama" and e.changes
    ]
    assert moves and moves[0].changes == [
        ("Keluarga", "keluarga ini", "pindah ke keluarga lain")
    ]  # not the new family
    arrived = [
        e for e in registry_history.family_history(db, admin, second) if e.entity_label == "Rizky Pratama"
    ]
    assert (
        arrived[0].changes == [("Keluarga", "keluarga lain", "keluarga ini")]
        and arrived[0].reason == "ikut KK baru"
    )


def test_operator_cannot_see_or_change_another_kelurahan(db, admin):
    mine = make_family(db, admin, KELURAHAN)
    theirs = make_family(db, admin, OTHER_KELURAHAN)
    op = actor(Role.OPERATOR, KELURAHAN)
    assert registry_reads.get_family(db, op, mine).family["id"] == mine
    with pytest.raises(NotFound):
        registry_reads.get_family(db, op, theirs)
    with pytest.raises(NotFound):
        registry.update_family(db, op, theirs, {"rt": 1}, expected_version=1, reason="x")
    with pytest.raises(NotFound):
        registry_history.family_history(db, op, theirs)
    head_nik = registry_reads.get_family(db, admin, theirs).members[0]["nik"]
    assert registry_reads.search_families(db, op, head_nik) == []
    with pytest.raises(NotFound):
        registry_reads.find_by_nik(db, op, head_nik)
    with pytest.raises(PermissionDenied):
        registry.create_family(db, op, family_values(OTHER_KELURAHAN), [member_values()], reason="x")
    assert [r["id"] for r in registry_reads.search_families(db, op, "Budi")] == [mine]


def test_analyst_sees_no_personal_data(db, admin):
    family_id = make_family(db, admin)
    analyst = actor(Role.ANALYST, "32.75")
    with pytest.raises(PermissionDenied):
        registry_reads.get_family(db, analyst, family_id)
    with pytest.raises(PermissionDenied):
        registry_reads.search_families(db, analyst, "Budi")
    listing = registry_reads.browse_area(db, analyst, "32.75", min_cell_size=10)
    assert listing.families is None and {r["families"] for r in listing.rows} == {
        0,
        None,
    }  # one family: hidden


def test_verifier_can_read_but_not_edit(db, admin):
    family_id = make_family(db, admin)
    verifier = actor(Role.VERIFIER, KELURAHAN)
    assert registry_reads.get_family(db, verifier, family_id)
    with pytest.raises(PermissionDenied):
        registry.update_family(db, verifier, family_id, {"rt": 1}, expected_version=1, reason="x")


def test_browse_counts_by_kecamatan_kelurahan_and_rw(db, admin):
    make_family(db, admin, KELURAHAN)
    make_family(db, admin, KELURAHAN, rw=4)
    make_family(db, admin, OTHER_KELURAHAN)
    city = registry_reads.browse_area(db, admin, "32.75", min_cell_size=10)
    assert len(city.rows) == 12
    by_code = {r["code"]: r for r in city.rows}
    assert by_code["32.75.01"]["families"] == 2 and by_code["32.75.01"]["members"] == 6
    kel = registry_reads.browse_area(db, admin, KELURAHAN, min_cell_size=10)
    assert [(r["name"], r["families"]) for r in kel.rows] == [("RW 03", 1), ("RW 04", 1)]
    op = actor(Role.OPERATOR, KELURAHAN)
    kec = registry_reads.browse_area(
        db, op, "32.75.01", min_cell_size=10
    )  # the operator's own kecamatan, filtered to their kelurahan
    assert [r["code"] for r in kec.rows] == [KELURAHAN]
    with pytest.raises(NotFound):
        registry_reads.browse_area(db, op, OTHER_KELURAHAN, min_cell_size=10)


def test_search_by_kk_nik_and_name(db, admin):
    family_id = make_family(db, admin)
    view = registry_reads.get_family(db, admin, family_id)
    assert [r["id"] for r in registry_reads.search_families(db, admin, view.family["kk_number"])] == [
        family_id
    ]
    assert [r["id"] for r in registry_reads.search_families(db, admin, view.members[1]["nik"])] == [family_id]
    hits = registry_reads.search_families(db, admin, "siti")
    assert hits[0]["head_name"] == "Budi Santoso" and hits[0]["member_count"] == 3
    with pytest.raises(ValidationError):
        registry_reads.search_families(db, admin, "ab")


def test_deactivating_a_family_needs_a_known_reason(db, admin):
    family_id = make_family(db, admin)
    with pytest.raises(ValidationError):
        registry.deactivate_family(db, admin, family_id, "bosan", expected_version=1, note="x")
    registry.deactivate_family(db, admin, family_id, "pindah", expected_version=1, note="pindah ke Bogor")
    fam = registry_reads.get_family(db, admin, family_id).family
    assert fam["registry_status"] == "nonaktif" and fam["inactive_reason"] == "pindah"
    # the KK number is free again for an active family
    make_family(db, admin, kk_number=fam["kk_number"], members=[member_values("Dewi", "P", date(1999, 9, 9))])


def test_two_simultaneous_saves_of_the_same_version_let_exactly_one_through(db, admin):
    import threading

    family_id = make_family(db, admin)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def save(address: str) -> None:
        barrier.wait()
        try:
            registry.update_family(
                db, admin, family_id, {"address": address}, expected_version=1, reason="bersamaan"
            )
            outcomes.append("saved")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=(f"Jl. Serentak {i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "saved"]
    fam = registry_reads.get_family(db, admin, family_id).family
    assert fam["version"] == 2
    assert (
        len([e for e in registry_history.family_history(db, admin, family_id) if e.entity == "keluarga"]) == 2
    )


def test_reading_personal_data_is_audited(db, admin):
    family_id = make_family(db, admin)
    op = actor(Role.OPERATOR, KELURAHAN, "ani")
    registry_reads.get_family(db, op, family_id)
    registry_reads.search_families(db, op, "Budi")
    member = registry_reads.get_member(
        db, op, registry_reads.get_family(db, admin, family_id).members[0]["id"]
    )
    assert member["name"] == "Budi Santoso"
    audit.flush_reads(db)
    with db.read() as conn:
        mine = [e for e in audit.entries(conn, entity="family") if e["actor"] == "ani"]
    assert [e["action"] for e in mine] == ["member.read", "family.search", "family.read"]
    assert mine[1]["detail"] == {"query": "Budi", "page": 1, "results": 1}
    with pytest.raises(NotFound):
        registry_reads.get_member(db, actor(Role.OPERATOR, OTHER_KELURAHAN), member["id"])


def test_reading_does_not_wait_for_an_open_write_transaction(db, admin):
    family_id = make_family(db, admin)
    fresh = type(db)(db.url)  # a new process's first request: regions not loaded yet
    try:
        with fresh.begin() as writing:
            writing.execute(
                families.update().where(families.c.id == family_id).values(address="Jl. Sedang Diubah")
            )
            assert fresh.regions.name(KELURAHAN) == "Bekasijaya"  # loaded through a read connection
            with fresh.read() as conn:  # sees the last committed state, without waiting
                assert (
                    conn.execute(sa.select(families.c.address).where(families.c.id == family_id)).scalar_one()
                    == "Jl. Mawar No. 7"
                )
    finally:
        fresh.dispose()


def test_name_search_needs_every_word_names_the_matching_member_and_pages(db, admin):
    family_id = make_family(db, admin)  # Budi Santoso (head), Siti Aminah, Rizky Pratama
    hits = registry_reads.search_families(db, admin, "aminah siti")
    assert [h["id"] for h in hits] == [family_id] and hits[0]["matched_name"] == "Siti Aminah"
    assert (
        registry_reads.search_families(db, admin, "siti santoso") == []
    )  # two members' words are not one person
    for i in range(7):
        make_family(
            db, admin, members=[member_values(f"Warga Paging {letters(i)}", "L", date(1970 + i, 1, 2))]
        )
    first = registry_reads.search_families(db, admin, "paging warga", limit=3)
    second = registry_reads.search_families(db, admin, "paging warga", limit=3, page=2)
    third = registry_reads.search_families(db, admin, "paging warga", limit=3, page=3)
    ids = [h["id"] for h in first + second + third]
    assert len(first) == len(second) == 3 and len(third) == 1 and len(set(ids)) == 7
