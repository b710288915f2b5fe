"""One small-cell rule for every aggregate an analyst can reach: area pages, /api/v1/areas and the statistics
(issue 13 point 9)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.domain.disclosure import hidden_cells, shown
from tepat.services import auth, registry_reads
from tests.conftest import actor
from tests.factories import KELURAHAN, OTHER_KELURAHAN, make_family
from tests.test_web_support import SYSTEM_ADMIN, add_user, login, make_app

ANALYST = actor(Role.ANALYST, "32.75", "analis")


def test_the_rule_hides_small_cells_and_one_more_when_a_single_one_could_be_derived() -> None:
    assert hidden_cells({"a": 1, "b": 50, "c": 0, "d": 30}, 10) == {
        "a",
        "d",
    }  # 'a' alone would follow from the total
    assert hidden_cells({"a": 1, "b": 3, "c": 50}, 10) == {"a", "b"}
    assert hidden_cells({"a": 10, "b": 0}, 10) == set()
    assert (shown(0, 10), shown(3, 10), shown(10, 10)) == (0, None, 10)


def test_an_analyst_never_sees_a_one_family_rw(db, admin) -> None:
    make_family(db, admin, KELURAHAN, rw=7)  # RW 7 of this kelurahan holds one family
    for _ in range(11):
        make_family(db, admin, KELURAHAN, rw=3)
    operator = actor(Role.OPERATOR, KELURAHAN)
    exact = {
        r["name"]: r["families"]
        for r in registry_reads.browse_area(db, operator, KELURAHAN, min_cell_size=10).rows
    }
    assert exact == {"RW 03": 11, "RW 07": 1}  # staff who can open the families see the real counts
    masked = {
        r["name"]: (r["families"], r["members"])
        for r in registry_reads.browse_area(db, ANALYST, KELURAHAN, min_cell_size=10).rows
    }
    assert masked == {"RW 03": (None, None), "RW 07": (None, None)}  # 11 = total − 1: hidden too


def test_area_page_api_and_home_follow_the_rule_for_analysts(db, admin, tmp_path: Path) -> None:
    make_family(db, admin, OTHER_KELURAHAN)
    for _ in range(12):
        make_family(db, admin, KELURAHAN)
    add_user(db, "analis", Role.ANALYST, "32.75")
    token = auth.issue_token(db, SYSTEM_ADMIN, "analis").token
    with TestClient(make_app(db, tmp_path)) as client:
        login(client, "analis")
        page = client.get("/wilayah/32.75").text
        assert page.count(">disembunyikan<") == 4  # families and members of two kecamatan
        rows = client.get(
            "/api/v1/areas", params={"code": "32.75"}, headers={"Authorization": f"Bearer {token}"}
        ).json()["rows"]
        by_code = {r["code"]: r for r in rows}
        assert by_code["32.75.02"]["families"] is None and by_code["32.75.02"]["members"] is None
        assert (
            by_code["32.75.01"]["families"] is None
        )  # the complementary cell: else 13 − 12 gives 32.75.02 away
        assert by_code["32.75.03"]["families"] == 0
        home = client.get("/").text
        assert 'id="jumlah-keluarga">13<' in home  # the whole city's total is large enough to show
