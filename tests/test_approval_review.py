"""The approver sees what changed since submission (lines that approval will block, with reasons) and confirms the
count and total; a list that changed after the page was opened is not approved (issue 18 point 3)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.errors import StateError
from tepat.services import cycles, registry
from tepat.store.schema import benefit_cycles, members
from tests.factories import KELURAHAN, letters, make_family, member_values
from tests.programme_data import approved_cycle, insert_programme
from tests.test_web_support import add_user, login, make_app


@pytest.fixture
def submitted(db, admin):
    ids = [
        make_family(
            db, admin, KELURAHAN, members=[member_values(f"Kepala {letters(i)}", "L", date(1970 + i, 1, 2))]
        )
        for i in range(4)
    ]
    cycle_id = approved_cycle(db, insert_programme(db), ids, state="ditinjau")
    with db.begin() as conn:
        conn.execute(benefit_cycles.update().where(benefit_cycles.c.id == cycle_id).values(area_code="32.75"))
    with db.read() as conn:
        dead = conn.execute(sa.select(members).where(members.c.family_id == ids[0])).mappings().one()
    registry.deactivate_member(
        db,
        admin,
        dead["id"],
        "meninggal",
        expected_version=dead["version"],
        note="wafat",
        death_date=date(2026, 1, 1),
    )
    return cycle_id, ids


def test_the_review_lists_what_approval_will_block(db, admin, submitted) -> None:
    cycle_id, _ids = submitted
    review = cycles.approval_review(db, admin, cycle_id)
    assert (review.entitlements, review.total_amount) == (4, 1_000_000)
    assert (review.payable, review.payable_amount) == (3, 750_000)
    assert [(b["reason"], b["count"]) for b in review.blocked_by_reason] == [("meninggal", 1)]
    assert [line["recipient_name"] for line in review.blocked_lines] == ["Kepala A"]


def test_approval_refuses_a_confirmation_that_no_longer_matches(db, admin, submitted) -> None:
    from tests.programme_support import CHECKER

    cycle_id, ids = submitted
    review = cycles.approval_review(db, CHECKER, cycle_id)
    with db.read() as conn:
        other = conn.execute(sa.select(members).where(members.c.family_id == ids[1])).mappings().one()
    registry.deactivate_member(
        db,
        admin,
        other["id"],
        "meninggal",
        expected_version=other["version"],
        note="wafat",
        death_date=date(2026, 1, 2),
    )
    with pytest.raises(StateError, match="berubah"):
        cycles.approve(db, CHECKER, cycle_id, confirm=(review.payable, review.payable_amount))
    fresh = cycles.approval_review(db, CHECKER, cycle_id)
    assert (
        cycles.approve(db, CHECKER, cycle_id, confirm=(fresh.payable, fresh.payable_amount))["blocked"] == 2
    )


def test_the_approval_page_shows_the_changes_and_asks_for_confirmation(
    db, admin, submitted, tmp_path: Path
) -> None:
    cycle_id, _ = submitted
    add_user(db, "kepala.bidang", Role.ADMIN, "32.75")
    with TestClient(make_app(db, tmp_path)) as client:
        csrf = login(client, "kepala.bidang")
        page = client.get(f"/siklus/{cycle_id}").text
        assert 'id="tinjauan-persetujuan"' in page and "Kepala A" in page and "meninggal" in page
        assert "3 penerima" in page and "Rp750.000" in page.replace("\xa0", "")
        unconfirmed = client.post(
            f"/siklus/{cycle_id}/langkah",
            data={"csrf_token": csrf, "langkah": "setujui", "jumlah": "3", "total": "750000"},
        )
        assert unconfirmed.status_code == 422 and "Centang" in unconfirmed.text
        done = client.post(
            f"/siklus/{cycle_id}/langkah",
            data={
                "csrf_token": csrf,
                "langkah": "setujui",
                "jumlah": "3",
                "total": "750000",
                "konfirmasi": "1",
            },
            follow_redirects=False,
        )
        assert done.status_code == 303
    assert cycles.show(db, admin, cycle_id).cycle.state == "disetujui"
