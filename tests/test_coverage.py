"""Health coverage for facilities: keys shown once and stored hashed, the check by NIK, logging, limits, revoking."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.domain.formatting import TIMEZONE, long_date
from tepat.domain.throttle import Limit
from tepat.errors import AuthenticationFailed, NotFound, PermissionDenied, ValidationError
from tepat.services import coverage
from tepat.services.status_check import keyed_hash
from tepat.store.programme_status import programmes_for_person
from tepat.store.schema import (
    audit_log,
    benefit_cycles,
    coverage_checks,
    entitlements,
    facilities,
    members,
    programmes,
)
from tests.conftest import actor
from tests.document_data import families_in
from tests.factories import KELURAHAN
from tests.programme_data import approved_cycle, insert_programme
from tests.test_web_support import make_app

URL = "/api/v1/cakupan-kesehatan"


def _today() -> date:
    from datetime import datetime

    return datetime.now(TIMEZONE).date()


def _a_year_from(start: date) -> date:
    """The last day of 12 months' coverage from ``start``, counted by hand (29 February: to the end of February)."""
    try:
        anniversary = date(start.year + 1, start.month, start.day)
    except ValueError:
        anniversary = date(start.year + 1, 3, 1)
    return anniversary - timedelta(days=1)


def _snapshot_months(db, cycle_id: int, months: int | None) -> int:
    """Give the cycle's programme snapshot ``coverage_months``, as approval through the cycle service does."""
    with db.begin() as conn:
        snapshot = conn.execute(
            sa.select(benefit_cycles.c.programme_snapshot).where(benefit_cycles.c.id == cycle_id)
        ).scalar_one()
        conn.execute(
            sa.update(benefit_cycles)
            .where(benefit_cycles.c.id == cycle_id)
            .values(programme_snapshot={**snapshot, "coverage_months": months})
        )
    return cycle_id


def _covered_people(
    db, admin, *, period: tuple[date, date] | None = None, state: str = "disetujui"
) -> dict[str, str]:
    """Two people in a Kartu Sehat cycle (12 months' coverage) covering today; returns name -> NIK."""
    ids = families_in(db, admin, KELURAHAN, ["Budi Santoso", "Siti Rahmawati"])
    programme = insert_programme(
        db,
        "LKM-NIK",
        name="Kartu Sehat Berbasis NIK",
        unit="orang",
        benefit_type="layanan",
        amount=0,
        coverage_months=12,
    )
    today = _today()
    _snapshot_months(
        db,
        approved_cycle(
            db,
            programme,
            ids,
            name="LKM-NIK 2025",
            per_person=True,
            state=state,
            period=period or (today - timedelta(days=30), today + timedelta(days=60)),
        ),
        12,
    )
    with db.read() as conn:
        return dict(
            conn.execute(sa.select(members.c.name, members.c.nik).where(members.c.family_id.in_(ids))).all()
        )


@pytest.fixture
def client(db, tmp_path: Path):
    with TestClient(make_app(db, tmp_path)) as c:
        yield c


def test_a_registered_facility_checks_a_nik(db, admin, client) -> None:
    people = _covered_people(db, admin)
    issued = coverage.register_facility(
        db, admin, code="rsud-cam", name="RSUD dr. Chasbullah Abdulmadjid", kind="rsud"
    )
    assert issued.key.startswith("fas_") and issued.code == "RSUD-CAM"
    with db.read() as conn:
        row = conn.execute(sa.select(facilities)).mappings().one()
    assert row["key_hash"] == hashlib.sha256(issued.key.encode()).hexdigest() and issued.key not in str(
        dict(row)
    )
    assert row["key_prefix"] == issued.key[:12]

    answer = client.post(URL, json={"nik": people["Budi Santoso"]}, headers={"X-API-Key": issued.key})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body == {
        "tercakup": True,
        "program": "Kartu Sehat Berbasis NIK",
        "berlaku_sampai": _a_year_from(_today() - timedelta(days=30)).isoformat(),
        "kelas": "III",
        "nama": body["nama"],
    }
    assert body["nama"] == "B**I S*****O"

    unknown = client.post(URL, json={"nik": "3275011705800999"}, headers={"X-API-Key": issued.key}).json()
    assert unknown == {
        "tercakup": False,
        "program": None,
        "berlaku_sampai": None,
        "kelas": None,
        "nama": None,
    }

    with db.read() as conn:
        logged = conn.execute(sa.select(coverage_checks).order_by(coverage_checks.c.id)).mappings().all()
    secret = client.app.state.settings.secret_key
    assert [(r["facility_id"], r["covered"]) for r in logged] == [
        (issued.facility_id, True),
        (issued.facility_id, False),
    ]
    assert logged[0]["nik_hash"] == keyed_hash(secret, "nik", people["Budi Santoso"])
    assert people["Budi Santoso"] not in str([dict(r) for r in logged])


def test_wrong_missing_or_revoked_keys_get_401(db, admin, client) -> None:
    people = _covered_people(db, admin)
    issued = coverage.register_facility(
        db, admin, code="PKM-BJ", name="Puskesmas Bekasijaya", kind="puskesmas"
    )
    nik = {"nik": people["Siti Rahmawati"]}
    assert client.post(URL, json=nik).status_code == 401
    wrong = client.post(URL, json=nik, headers={"X-API-Key": "fas_salah"})
    assert (
        wrong.status_code == 401 and wrong.json()["ok"] is False and "tidak dikenal" in wrong.json()["error"]
    )
    assert client.post(URL, json=nik, headers={"X-API-Key": issued.key}).status_code == 200
    coverage.revoke_facility(db, admin, "pkm-bj")
    revoked = client.post(URL, json=nik, headers={"X-API-Key": issued.key})
    assert revoked.status_code == 401
    with pytest.raises(ValidationError):
        coverage.revoke_facility(db, admin, "PKM-BJ")
    with pytest.raises(NotFound):
        coverage.revoke_facility(db, admin, "TIDAK-ADA")
    with db.read() as conn:
        actions = [r.action for r in conn.execute(sa.select(audit_log.c.action).order_by(audit_log.c.id))]
    assert actions[-2:] == ["facility.register", "facility.revoke"]
    # no GET form: the NIK must not land in access logs
    assert client.get(f"{URL}/{people['Siti Rahmawati']}", headers={"X-API-Key": issued.key}).status_code in (
        404,
        405,
    )


def test_invalid_nik_is_422_and_not_logged(db, admin, client) -> None:
    issued = coverage.register_facility(db, admin, code="RSUD-PG", name="RSUD Pondokgede", kind="rsud")
    r = client.post(URL, json={"nik": "32750117058000AB"}, headers={"X-API-Key": issued.key})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "nik"
    assert (
        client.post(URL, json={"nik": "3275", "extra": 1}, headers={"X-API-Key": issued.key}).status_code
        == 422
    )
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(coverage_checks)).scalar_one() == 0


def test_blocked_expired_unapproved_or_non_service_entitlements_do_not_cover(db, admin) -> None:
    today = _today()
    people = _covered_people(db, admin)
    checker = coverage.CoverageChecker(db, "k" * 40)
    key = coverage.register_facility(db, admin, code="RSUD-BU", name="RSUD Bekasi Utara", kind="rsud").key
    assert checker.check(key, people["Siti Rahmawati"]).covered
    with db.begin() as conn:
        member_id = conn.execute(
            sa.select(members.c.id).where(members.c.nik == people["Siti Rahmawati"])
        ).scalar_one()
        conn.execute(
            sa.update(entitlements)
            .where(entitlements.c.member_id == member_id)
            .values(state="diblokir", block_reason="meninggal")
        )
    assert not checker.check(key, people["Siti Rahmawati"]).covered
    # Cash programmes, cycles not yet approved, and periods over do not cover.
    ids = families_in(db, admin, KELURAHAN, ["Agus Salim"])
    with db.read() as conn:
        nik = conn.execute(sa.select(members.c.nik).where(members.c.family_id == ids[0])).scalar_one()
    approved_cycle(
        db,
        insert_programme(db, "BLT-APBD"),
        ids,
        period=(today - timedelta(days=1), today + timedelta(days=1)),
    )
    service = insert_programme(db, "LKM-2", benefit_type="layanan", unit="orang", amount=0)
    approved_cycle(
        db,
        service,
        ids,
        per_person=True,
        state="ditinjau",
        period=(today - timedelta(days=1), today + timedelta(days=1)),
    )
    approved_cycle(
        db,
        service,
        ids,
        per_person=True,
        name="lalu",
        period=(today - timedelta(days=90), today - timedelta(days=1)),
    )
    assert not checker.check(key, nik).covered
    # Without coverage months in its snapshot a cycle covers its own period; the latest end gives the date.
    approved_cycle(db, service, ids, per_person=True, name="kini", period=(today, today + timedelta(days=10)))
    approved_cycle(
        db,
        service,
        ids,
        per_person=True,
        name="panjang",
        state="ditutup",
        period=(today - timedelta(days=5), today + timedelta(days=40)),
    )
    found = checker.check(key, nik)
    assert found.covered and found.valid_until == today + timedelta(days=40)


def test_each_key_is_rate_limited(db, admin) -> None:
    people = _covered_people(db, admin)
    clock = [0.0]
    checker = coverage.CoverageChecker(db, "k" * 40, limit=Limit.per(3, 60.0), clock=lambda: clock[0])
    one = coverage.register_facility(db, admin, code="A-1", name="Klinik Satu", kind="klinik").key
    two = coverage.register_facility(db, admin, code="A-2", name="Klinik Dua", kind="klinik").key
    for _ in range(3):
        checker.check(one, people["Budi Santoso"])
    with pytest.raises(coverage.TooManyChecks) as refused:
        checker.check(one, people["Budi Santoso"])
    assert refused.value.status_code == 429 and "Coba lagi" in refused.value.message
    assert checker.check(two, people["Budi Santoso"]).covered  # another key has its own allowance
    clock[0] += 30.0
    assert checker.check(one, people["Budi Santoso"]).covered
    with pytest.raises(AuthenticationFailed):
        checker.check(None, people["Budi Santoso"])


def test_workers_sharing_the_rate_limit_file_share_one_allowance(db, admin, tmp_path: Path) -> None:
    from tepat.store.rate_limits import RateLimitFile

    people = _covered_people(db, admin)
    key = coverage.register_facility(db, admin, code="A-3", name="Klinik Tiga", kind="klinik").key
    limit = Limit.per(4, 3600.0)
    workers = [
        coverage.CoverageChecker(db, "k" * 40, limit=limit, limiter=RateLimitFile(tmp_path / "batas.sqlite"))
        for _ in range(2)
    ]
    for i in range(4):
        workers[i % 2].check(key, people["Budi Santoso"])
    for (
        worker
    ) in workers:  # the fifth check is refused by either worker: two workers did not double the allowance
        with pytest.raises(coverage.TooManyChecks):
            worker.check(key, people["Budi Santoso"])


def test_rate_limit_answers_429_over_http(db, admin, client) -> None:
    issued = coverage.register_facility(db, admin, code="RSUD-X", name="RSUD Uji", kind="rsud")
    api = next(r.app for r in client.app.routes if getattr(r, "path", "") == "/api/v1")
    api.state.coverage_checker = coverage.CoverageChecker(db, "k" * 40, limit=Limit.per(1, 3600.0))
    assert (
        client.post(URL, json={"nik": "3275011705800999"}, headers={"X-API-Key": issued.key}).status_code
        == 200
    )
    r = client.post(URL, json={"nik": "3275011705800999"}, headers={"X-API-Key": issued.key})
    assert r.status_code == 429 and r.json()["ok"] is False and int(r.headers["retry-after"]) > 3000


def test_only_admins_manage_facilities(db, admin) -> None:
    for role in (Role.OPERATOR, Role.FINANCE, Role.ANALYST):
        with pytest.raises(PermissionDenied):
            coverage.register_facility(db, actor(role, "32.75"), code="X-1", name="Klinik X", kind="klinik")
        with pytest.raises(PermissionDenied):
            coverage.list_facilities(db, actor(role, "32.75"))
    with pytest.raises(ValidationError) as bad:
        coverage.register_facility(db, admin, code="a b", name="x", kind="apotek")
    assert {e.field for e in bad.value.errors} == {"kode", "nama", "jenis"}
    coverage.register_facility(db, admin, code="RSUD-1", name="RSUD Satu", kind="rsud")
    with pytest.raises(ValidationError):
        coverage.register_facility(db, admin, code="rsud-1", name="RSUD Lain", kind="rsud")
    listed = coverage.list_facilities(db, admin)
    assert [(f["code"], f["kind_label"], f["active"], f["checks"]) for f in listed] == [
        ("RSUD-1", "RSUD", True, 0)
    ]


def test_openapi_documents_the_key_header(client) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "post" in spec["paths"]["/cakupan-kesehatan"]
    assert "get" not in spec["paths"]["/cakupan-kesehatan"]
    assert any(s.get("name") == "X-API-Key" for s in spec["components"]["securitySchemes"].values())


def test_a_death_recorded_after_the_cycle_closed_ends_the_cover(db, admin) -> None:
    people = _covered_people(
        db, admin, state="ditutup"
    )  # closed: the civil-registry import blocks nothing in it
    checker = coverage.CoverageChecker(db, "k" * 40)
    key = coverage.register_facility(db, admin, code="RSUD-CB", name="RSUD Chasbullah", kind="rsud").key
    assert (
        checker.check(key, people["Budi Santoso"]).covered
        and checker.check(key, people["Siti Rahmawati"]).covered
    )
    with db.begin() as conn:
        conn.execute(
            sa.update(members)
            .where(members.c.nik == people["Budi Santoso"])
            .values(life_status="meninggal", death_date=_today())
        )
    assert not checker.check(key, people["Budi Santoso"]).covered
    assert checker.check(key, people["Siti Rahmawati"]).covered


def _checker(db, day: date) -> coverage.CoverageChecker:
    return coverage.CoverageChecker(db, "k" * 40, limit=Limit.per(10**6, 1.0), today=lambda: day)


def _nik_and_ids(db, family_id: int) -> tuple[str, int]:
    with db.read() as conn:
        row = conn.execute(
            sa.select(members.c.nik, members.c.id).where(members.c.family_id == family_id)
        ).one()
    return row.nik, row.id


def test_coverage_runs_for_the_snapshot_months_from_the_cycle_start(db, admin) -> None:
    key = coverage.register_facility(db, admin, code="RSUD-PG", name="RSUD Pondokgede", kind="rsud").key
    ids = families_in(db, admin, KELURAHAN, ["Budi Santoso", "Siti Rahmawati"])
    health = insert_programme(
        db, "LKM-NIK", name="Kartu Sehat", unit="orang", benefit_type="layanan", amount=0, coverage_months=12
    )
    # a one-month cycle covers a year; a year-long cycle with 3 months' coverage covers three months
    _snapshot_months(
        db,
        approved_cycle(
            db, health, ids[:1], per_person=True, name="Januari", period=(date(2025, 1, 1), date(2025, 1, 31))
        ),
        12,
    )
    _snapshot_months(
        db,
        approved_cycle(
            db,
            health,
            ids[1:],
            per_person=True,
            name="Setahun",
            period=(date(2025, 1, 1), date(2025, 12, 31)),
        ),
        3,
    )
    budi, siti = _nik_and_ids(db, ids[0])[0], _nik_and_ids(db, ids[1])[0]
    september = _checker(db, date(2025, 9, 1))
    found = september.check(key, budi)
    assert found.covered and found.programme == "Kartu Sehat" and found.valid_until == date(2025, 12, 31)
    assert not september.check(key, siti).covered
    assert _checker(db, date(2025, 3, 31)).check(key, siti).valid_until == date(2025, 3, 31)
    assert not _checker(db, date(2025, 4, 1)).check(key, siti).covered
    assert not _checker(db, date(2026, 1, 1)).check(key, budi).covered
    # an edit of the catalogue after approval changes no past cycle
    with db.begin() as conn:
        conn.execute(sa.update(programmes).where(programmes.c.id == health).values(coverage_months=1))
    assert september.check(key, budi).valid_until == date(2025, 12, 31)


def test_the_facility_and_the_resident_read_the_same_dates_day_by_day(db, admin) -> None:
    """Over three years, with overlapping, blocked, upcoming and draft cycles: covered ⇔ *Aktif*, with the same day."""
    key = coverage.register_facility(db, admin, code="RSUD-BU", name="RSUD Bekasi Utara", kind="rsud").key
    family = families_in(db, admin, KELURAHAN, ["Agus Salim"])
    nik, member_id = _nik_and_ids(db, family[0])
    health = insert_programme(
        db, "LKM-NIK", name="Kartu Sehat", unit="orang", benefit_type="layanan", amount=0, coverage_months=12
    )
    cycles = [  # (period, snapshot months, cycle state, entitlement state)
        ((date(2025, 1, 1), date(2025, 1, 31)), 12, "ditutup", "terjadwal"),
        ((date(2025, 7, 1), date(2025, 12, 31)), 18, "disetujui", "terjadwal"),  # overlaps: to 31 Dec 2026
        ((date(2026, 3, 1), date(2026, 3, 31)), 24, "disetujui", "diblokir"),  # blocked: covers nothing
        ((date(2027, 3, 1), date(2027, 3, 31)), 6, "pembayaran", "terjadwal"),  # after a gap
        ((date(2027, 5, 1), date(2027, 5, 31)), 24, "draf", "terjadwal"),  # a draft covers nothing
    ]
    for i, (period, months, state, entitlement_state) in enumerate(cycles):
        cycle_id = _snapshot_months(
            db,
            approved_cycle(
                db, health, family, per_person=True, name=f"Siklus {i}", state=state, period=period
            ),
            months,
        )
        with db.begin() as conn:
            conn.execute(
                sa.update(entitlements)
                .where(entitlements.c.cycle_id == cycle_id)
                .values(state=entitlement_state)
            )
    seen: set[str] = set()
    day = date(2024, 12, 1)
    while day <= date(2028, 1, 1):
        answer = _checker(db, day).check(key, nik)
        with db.read() as conn:
            status = programmes_for_person(conn, family[0], member_id, day)
        assert [s["programme"] for s in status] == ["Kartu Sehat"]
        words = status[0]["status"]
        if answer.covered:
            assert words == f"Aktif, berlaku sampai {long_date(answer.valid_until)}", day
        else:
            assert not words.startswith("Aktif"), (day, words)
        seen.add(words.split()[0].rstrip(","))
        day += timedelta(days=9)
    assert set(seen) == {"Aktif", "Berakhir", "Terdaftar"}  # every case was met
    expected = {
        date(2025, 6, 1): date(2025, 12, 31),
        date(2025, 12, 31): date(2026, 12, 31),
        date(2026, 12, 31): date(2026, 12, 31),
        date(2027, 3, 1): date(2027, 8, 31),
    }
    for day, until in expected.items():
        assert _checker(db, day).check(key, nik).valid_until == until
    for day in (date(2024, 12, 31), date(2027, 1, 1), date(2027, 2, 28), date(2027, 9, 1)):
        assert not _checker(db, day).check(key, nik).covered


def test_a_cycle_approved_through_the_services_covers_for_the_months_frozen_at_approval(
    db, admin, tmp_path
) -> None:
    from tepat.services import cycles
    from tepat.services import programmes as catalogue
    from tests.programme_support import CHECKER, ranked_registry

    ranked_registry(db, admin, tmp_path)
    catalogue.seed_catalogue(db, admin)  # LKM-NIK: 12 months' coverage
    cycle_id = cycles.create_cycle(
        db,
        admin,
        "LKM-NIK",
        name="LKM-NIK Juli 2026",
        period_start=date(2026, 7, 1),
        period_end=date(2026, 7, 31),
    )
    cycles.generate(db, admin, cycle_id)
    cycles.submit(db, admin, cycle_id)
    cycles.approve(db, CHECKER, cycle_id)
    with db.read() as conn:
        e = entitlements.c
        person = conn.execute(
            sa.select(e.family_id, e.member_id, e.recipient_nik)
            .where(e.cycle_id == cycle_id, e.state == "aktif")
            .order_by(e.id)
            .limit(1)
        ).one()
        version = conn.execute(
            sa.select(programmes.c.version).where(programmes.c.code == "LKM-NIK")
        ).scalar_one()
    catalogue.update_programme(
        db, admin, "LKM-NIK", version, {"coverage_months": 3}
    )  # after approval: no effect
    key = coverage.register_facility(db, admin, code="RSUD-CAM", name="RSUD Chasbullah", kind="rsud").key
    november = date(2026, 11, 1)  # past 3 months from 1 July, within 12
    answer = _checker(db, november).check(key, person.recipient_nik)
    assert answer.covered and answer.valid_until == date(2027, 6, 30)
    with db.read() as conn:
        status = programmes_for_person(conn, person.family_id, person.member_id, november)
    assert {
        "programme": "Kartu Sehat Berbasis NIK (LKM-NIK)",
        "status": "Aktif, berlaku sampai 30 Juni 2027",
        "period": "Juli 2026–Juni 2027",
    } in status
