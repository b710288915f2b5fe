"""Issue 18 point 4: programmes that pay nothing finish their own way.

A service (health coverage) cycle is ``aktif`` from approval, is never put in a payment file, and closes once its
coverage has ended (by hand or by ``close-ended``). A training cycle's seats are enrolled, attended and finished;
the cycle closes when every seat is final. Both were stuck in ``terjadwal`` before: never paid, never closed.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tepat.domain.access import Role
from tepat.domain.coverage import coverage_end
from tepat.errors import NotFound, PermissionDenied, StateError, ValidationError
from tepat.services import cycles, documents, payments, programmes, registry, training
from tepat.store.schema import audit_log, entitlements, families, members
from tests.conftest import actor
from tests.document_data import pdf_text
from tests.factories import KELURAHAN
from tests.programme_support import CHECKER, ranked_registry
from tests.targeting_data import DAY

START, END = date(2026, 8, 3), date(2026, 8, 28)


@pytest.fixture
def ranked(db, admin, tmp_path):
    ids, model_id = ranked_registry(db, admin, tmp_path)
    programmes.seed_catalogue(db, admin)
    return ids, model_id


def _approved(db, admin, code: str, start: date, end: date) -> int:
    cycle_id = cycles.create_cycle(db, admin, code, name=f"{code} uji", period_start=start, period_end=end)
    cycles.generate(db, admin, cycle_id)
    cycles.submit(db, admin, cycle_id)
    cycles.approve(db, CHECKER, cycle_id)
    return cycle_id


def _states(db, cycle_id: int) -> dict[int, str]:
    with db.read() as conn:
        return dict(
            conn.execute(
                sa.select(entitlements.c.id, entitlements.c.state).where(entitlements.c.cycle_id == cycle_id)
            ).all()
        )


def _seat(db, cycle_id: int) -> list[dict]:
    with db.read() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.select(entitlements)
                .where(entitlements.c.cycle_id == cycle_id)
                .order_by(entitlements.c.rank)
            ).mappings()
        ]


# ----------------------------------------------------------------- service coverage


def test_a_service_cycle_covers_from_approval_and_closes_once_its_coverage_has_ended(
    db, admin, ranked
) -> None:
    cycle_id = _approved(db, admin, "LKM-NIK", DAY, date(2026, 12, 31))
    states = _states(db, cycle_id)
    assert states and set(states.values()) <= {"aktif", "diblokir"} and "aktif" in states.values()
    with pytest.raises(StateError) as refused:
        payments.create_batch(db, admin, cycle_id, "bank")
    assert "tidak dibayar melalui bank" in refused.value.message
    ends = coverage_end(DAY, 12)
    with pytest.raises(StateError) as early:
        cycles.close(db, admin, cycle_id, today=ends)
    assert "berlaku sampai" in early.value.message
    assert cycles.close_ended_coverage(db, admin, today=ends) == []
    # a death during the coverage ends that person's coverage at once
    person = next(r for r in _seat(db, cycle_id) if r["state"] == "aktif")
    with db.read() as conn:
        version = conn.execute(
            sa.select(members.c.version).where(members.c.id == person["member_id"])
        ).scalar_one()
    registry.deactivate_member(
        db,
        admin,
        person["member_id"],
        "meninggal",
        expected_version=version,
        note="wafat",
        death_date=DAY + timedelta(days=30),
    )
    assert _states(db, cycle_id)[person["id"]] == "diblokir"
    assert cycles.close_ended_coverage(db, admin, today=ends + timedelta(days=1)) == [cycle_id]
    assert cycles.show(db, admin, cycle_id).cycle.state == "ditutup"
    after = _states(db, cycle_id)
    assert "aktif" not in after.values() and "selesai" in after.values() and after[person["id"]] == "diblokir"


def test_close_ended_coverage_leaves_paid_programmes_and_other_areas_alone(db, admin, ranked) -> None:
    blt = _approved(db, admin, "UMKM", DAY, date(2026, 7, 31))
    assert cycles.close_ended_coverage(db, admin, today=date(2030, 1, 1)) == []
    assert cycles.show(db, admin, blt).cycle.state == "disetujui"
    service = _approved(db, admin, "LKM-NIK", DAY, date(2026, 12, 31))
    elsewhere = actor(Role.ADMIN, "32.75.02", username="kec")
    assert cycles.close_ended_coverage(db, elsewhere, today=date(2030, 1, 1)) == []  # a city-wide cycle
    assert cycles.show(db, admin, service).cycle.state == "disetujui"


# ----------------------------------------------------------------- training seats


@pytest.fixture
def batch(db, admin, ranked) -> int:
    # every adult of an active family: a batch with seats in two areas
    programmes.update_programme(
        db, admin, "BLK", 1, {"rule": 'status == "aktif"', "member_rule": "umur >= 18", "quota": None}
    )
    cycle_id = _approved(db, admin, "BLK", START, END)
    seats = _seat(db, cycle_id)
    assert len(seats) >= 3 and {s["state"] for s in seats} <= {"terjadwal", "diblokir"}
    return cycle_id


def test_a_training_batch_runs_from_enrolment_to_closing(db, admin, batch) -> None:
    seats = [s for s in _seat(db, batch) if s["state"] == "terjadwal"]
    first, second, third, *rest = seats
    with pytest.raises(StateError):
        payments.create_batch(db, admin, batch, "bank")
    with pytest.raises(StateError) as open_:
        cycles.close(db, admin, batch)
    assert "kursi pelatihan" in open_.value.message
    assert training.enrol(db, admin, batch, [first["id"], second["id"]]) == 2
    with pytest.raises(ValidationError):
        training.decline(db, admin, batch, [third["id"]], "")
    assert training.decline(
        db, admin, batch, [third["id"], *[s["id"] for s in rest]], "tidak datang ke BLK"
    ) == 1 + len(rest)
    with pytest.raises(StateError):  # already enrolled: not offered any more
        training.enrol(db, admin, batch, [first["id"]])
    assert training.record_attendance(db, admin, batch, START, [first["id"], second["id"]], today=END) == (
        2,
        0,
    )
    assert training.record_attendance(
        db, admin, batch, START + timedelta(days=1), [first["id"]], today=END
    ) == (1, 1)
    assert training.record_attendance(
        db, admin, batch, START + timedelta(days=1), [first["id"], second["id"]], today=END
    ) == (2, 0)  # recorded again: the last word counts
    with pytest.raises(ValidationError):
        training.record_attendance(db, admin, batch, START, [third["id"]], today=END)  # not enrolled
    with pytest.raises(ValidationError):
        training.record_attendance(
            db, admin, batch, END + timedelta(days=1), [], today=END + timedelta(days=9)
        )
    with pytest.raises(ValidationError):
        training.record_attendance(
            db, admin, batch, START + timedelta(days=5), [], today=START + timedelta(days=4)
        )
    roster = training.roster(db, admin, batch)
    by_id = {s.id: s for s in roster.seats}
    assert (by_id[first["id"]].attended, by_id[first["id"]].recorded) == (2, 2)
    assert roster.days == [START, START + timedelta(days=1)]
    assert by_id[third["id"]].state_label == "Dibatalkan" and by_id[third["id"]].note == "tidak datang ke BLK"
    with pytest.raises(ValidationError):
        training.finish(db, admin, batch, [second["id"]], completed=False)  # a note is required
    assert training.finish(db, admin, batch, [first["id"]], completed=True) == 1
    with pytest.raises(StateError):
        cycles.close(db, admin, batch)  # one seat is still running
    assert (
        training.finish(db, admin, batch, [second["id"]], completed=False, note="berhenti, bekerja di pabrik")
        == 1
    )
    cycles.close(db, admin, batch)
    assert cycles.show(db, admin, batch).cycle.state == "ditutup"
    final = _states(db, batch)
    assert final[first["id"]] == "selesai" and final[second["id"]] == "tidak_lulus"
    with pytest.raises(StateError):
        training.record_attendance(db, admin, batch, START, [], today=END)
    with db.read() as conn:
        actions = [
            a
            for (a,) in conn.execute(sa.select(audit_log.c.action).where(audit_log.c.entity_id == str(batch)))
        ]
    assert {
        "training_seat.enrol",
        "training_seat.refuse",
        "training_seat.attend",
        "training_seat.complete",
        "training_seat.fail",
    } <= set(actions)


def test_a_death_blocks_an_enrolled_seat(db, admin, batch) -> None:
    seat = next(s for s in _seat(db, batch) if s["state"] == "terjadwal")
    training.enrol(db, admin, batch, [seat["id"]])
    with db.read() as conn:
        version = conn.execute(
            sa.select(members.c.version).where(members.c.id == seat["member_id"])
        ).scalar_one()
    registry.deactivate_member(
        db, admin, seat["member_id"], "meninggal", expected_version=version, note="wafat", death_date=START
    )
    assert _states(db, batch)[seat["id"]] == "diblokir"


def test_seats_are_run_only_inside_ones_area(db, admin, batch) -> None:
    seats = _seat(db, batch)
    mine = [s for s in seats if s["kelurahan_code"] == KELURAHAN and s["state"] == "terjadwal"]
    theirs = [s for s in seats if s["kelurahan_code"] != KELURAHAN and s["state"] == "terjadwal"]
    assert mine and theirs
    operator = actor(Role.OPERATOR, KELURAHAN, username="ani")
    assert {s.kelurahan_code for s in training.roster(db, operator, batch).seats} == {KELURAHAN}
    with pytest.raises(NotFound):
        training.enrol(db, operator, batch, [mine[0]["id"], theirs[0]["id"]])
    assert _states(db, batch)[mine[0]["id"]] == "terjadwal"  # nothing of the refused request was applied
    assert training.enrol(db, operator, batch, [mine[0]["id"]]) == 1
    analyst = actor(Role.ANALYST, "32.75", username="rina")
    with pytest.raises(NotFound):
        training.enrol(db, analyst, batch, [theirs[0]["id"]])
    with pytest.raises(PermissionDenied):
        training.roster(db, analyst, batch)
    assert _states(db, batch)[theirs[0]["id"]] == "terjadwal"


def test_the_attendance_sheet_lists_the_enrolled_with_a_column_per_day(db, admin, batch) -> None:
    seats = [s for s in _seat(db, batch) if s["state"] == "terjadwal"]
    training.enrol(db, admin, batch, [seats[0]["id"]])
    doc = documents.attendance_sheet(db, admin, batch, [START, START + timedelta(days=1)])
    text = pdf_text(doc.content)
    assert "DAFTAR HADIR" in text.upper() and seats[0]["recipient_name"] in text
    assert seats[1]["recipient_name"] not in text  # offered, not enrolled
    assert "03-08-2026" in text and "04-08-2026" in text and doc.rows == 1
    with pytest.raises(ValidationError):
        documents.attendance_sheet(db, admin, batch, [START + timedelta(days=i) for i in range(7)])
    with db.read() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(audit_log)
                .where(audit_log.c.action == "attendance_sheet.print")
            ).scalar_one()
            == 1
        )


def test_programmes_that_pay_nothing_are_never_put_in_a_payment_file(db, admin, ranked) -> None:
    with db.begin() as conn:
        conn.execute(families.update().values(verification_status="terverifikasi"))
    service = _approved(db, admin, "LKM-NIK", DAY, date(2026, 12, 31))
    for channel in ("bank", "pos"):
        with pytest.raises(StateError):
            payments.create_batch(db, admin, service, channel)
    assert "diproses" not in _states(db, service).values()
