"""A benefit cycle has an area: only an admin whose area contains it may generate, submit, approve, return,
cancel or close it, and generation covers the cycle's area, never the acting admin's narrower one (issue 13 point 3)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tepat.domain.access import Role
from tepat.domain.cycles import CycleAction
from tepat.errors import PermissionDenied
from tepat.services import cycles, programmes
from tepat.store.schema import entitlements, families
from tests.conftest import actor
from tests.programme_support import CHECKER, ranked_registry
from tests.targeting_data import DAY

PERIOD = {"period_start": DAY, "period_end": date(2026, 7, 31)}
KECAMATAN_ADMIN = actor(Role.ADMIN, "32.75.01", "admin.bekasi.timur")
KECAMATAN_CHECKER = actor(Role.ADMIN, "32.75.01", "kasi.bekasi.timur")


@pytest.fixture
def ranked(db, admin, tmp_path):
    ids, model_id = ranked_registry(db, admin, tmp_path)
    programmes.seed_catalogue(db, admin)
    with db.begin() as conn:
        conn.execute(families.update().values(verification_status="terverifikasi"))
    return ids, model_id


def _kelurahan_of(db, cycle_id: int) -> set[str]:
    with db.read() as conn:
        return set(
            conn.execute(
                sa.select(entitlements.c.kelurahan_code).where(entitlements.c.cycle_id == cycle_id)
            ).scalars()
        )


def test_a_kecamatan_admin_cannot_act_on_a_city_wide_cycle(db, admin, ranked) -> None:
    cycle_id = cycles.create_cycle(db, admin, "BLT-APBD", name="BLT-APBD Juli 2026", **PERIOD)
    cycles.generate(db, admin, cycle_id)
    city_wide = _kelurahan_of(db, cycle_id)
    assert {"32.75.01.1001", "32.75.02.1001"} <= city_wide
    with pytest.raises(PermissionDenied):
        cycles.generate(db, KECAMATAN_ADMIN, cycle_id)  # would have shrunk the list to one kecamatan
    assert _kelurahan_of(db, cycle_id) == city_wide
    with pytest.raises(PermissionDenied):
        cycles.cancel(db, KECAMATAN_ADMIN, cycle_id, "saya batalkan saja")
    cycles.submit(db, admin, cycle_id)
    with pytest.raises(PermissionDenied):
        cycles.approve(db, KECAMATAN_ADMIN, cycle_id)
    with pytest.raises(PermissionDenied):
        cycles.return_to_draft(db, KECAMATAN_ADMIN, cycle_id, "kembalikan")
    assert cycles.show(db, KECAMATAN_ADMIN, cycle_id).actions == []
    assert CycleAction.APPROVE in cycles.show(db, CHECKER, cycle_id).actions
    cycles.approve(db, CHECKER, cycle_id)
    with pytest.raises(PermissionDenied):
        cycles.close(db, KECAMATAN_ADMIN, cycle_id)


def test_a_kecamatan_cycle_covers_its_kecamatan_whoever_generates_it(db, admin, ranked) -> None:
    cycle_id = cycles.create_cycle(db, KECAMATAN_ADMIN, "BLT-APBD", name="BLT-APBD Bekasi Timur", **PERIOD)
    assert cycles.show(db, admin, cycle_id).cycle.area_code == "32.75.01"
    cycles.generate(db, admin, cycle_id)  # the city admin's wider area does not widen it
    assert _kelurahan_of(db, cycle_id) == {"32.75.01.1001"}
    cycles.submit(db, KECAMATAN_ADMIN, cycle_id)
    cycles.approve(db, KECAMATAN_CHECKER, cycle_id)
    assert cycles.show(db, admin, cycle_id).cycle.state == "disetujui"


def test_a_cycle_may_be_made_for_an_area_inside_the_admins_only(db, admin, ranked) -> None:
    narrow = cycles.create_cycle(
        db, admin, "BLT-APBD", name="BLT-APBD Bekasi Utara", area_code="32.75.02", **PERIOD
    )
    cycles.generate(db, admin, narrow)
    assert _kelurahan_of(db, narrow) == {"32.75.02.1001"}
    with pytest.raises(PermissionDenied):
        cycles.create_cycle(
            db, KECAMATAN_ADMIN, "BLT-APBD", name="BLT-APBD kota", area_code="32.75", **PERIOD
        )


def test_the_cycle_pages_show_the_area_and_a_kecamatan_admin_gets_no_buttons(
    db, admin, ranked, tmp_path
) -> None:
    from fastapi.testclient import TestClient

    from tests.test_web_support import add_user, login, make_app

    cycle_id = cycles.create_cycle(db, admin, "BLT-APBD", name="BLT-APBD Juli 2026", **PERIOD)
    add_user(db, "admin.bekasi.timur", Role.ADMIN, "32.75.01")
    with TestClient(make_app(db, tmp_path), raise_server_exceptions=False) as client:
        csrf = login(client, "admin.bekasi.timur")
        page = client.get(f"/siklus/{cycle_id}").text
        assert 'id="wilayah-siklus">Kota Bekasi' in page and 'action="/siklus/' not in page
        refused = client.post(
            f"/siklus/{cycle_id}/langkah", data={"csrf_token": csrf, "langkah": CycleAction.GENERATE.value}
        )
        assert refused.status_code == 403
        form = client.get("/siklus").text
        assert 'name="area_code"' in form and 'value="32.75.01"' in form and 'value="32.75"' not in form
        made = client.post(
            "/siklus",
            data={
                "csrf_token": csrf,
                "program": "BLT-APBD",
                "name": "BLT Bekasi Timur",
                "period_start": "01-07-2026",
                "period_end": "31-07-2026",
                "area_code": "32.75.01",
            },
            follow_redirects=False,
        )
        assert made.status_code == 303
        outside = client.post(
            "/siklus",
            data={
                "csrf_token": csrf,
                "program": "BLT-APBD",
                "name": "BLT kota",
                "period_start": "01-07-2026",
                "period_end": "31-07-2026",
                "area_code": "32.75",
            },
        )
        assert outside.status_code == 403
