"""``areas.join_on``: the join of an office key, and the subquery that forgot to carry its office refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tepat.store.areas import join_on
from tepat.store.schema import case_events, cases, families, members


def _sql(condition: sa.ColumnElement[bool]) -> str:
    return str(condition.compile(compile_kwargs={"literal_binds": True}))


def test_two_office_owned_tables_join_on_id_and_office() -> None:
    sql = _sql(join_on(members.c.family_id, families.c.id))
    assert "members.family_id = families.id" in sql
    assert "members.office_code = families.office_code" in sql


def test_a_subquery_carrying_the_office_joins_on_it_too() -> None:
    matches = sa.select(members.c.family_id, members.c.office_code).group_by(
        members.c.family_id, members.c.office_code
    )
    sub = matches.subquery("matches")
    assert "matches.office_code = families.office_code" in _sql(join_on(sub.c.family_id, families.c.id))


def test_a_subquery_without_the_office_is_refused_either_way_round() -> None:
    """It would join on the id alone and read every office's partitions: a mistake in our code, found by any test
    that builds the query (the registry search and the training roster had it)."""
    sub = sa.select(members.c.family_id).group_by(members.c.family_id).subquery("matches")
    with pytest.raises(ValueError, match="office_code"):
        join_on(sub.c.family_id, families.c.id)
    with pytest.raises(ValueError, match="office_code"):
        join_on(families.c.id, sub.c.family_id)


def test_a_table_without_offices_joins_on_the_id_alone() -> None:
    """A table without an office column (a case's events) names its row by id alone."""
    assert _sql(join_on(case_events.c.case_id, cases.c.id)) == "case_events.case_id = cases.id"


def test_two_regions_overlap_when_one_holds_the_other() -> None:
    """``regions.overlaps``: what ``Actor.shares_area`` and ``Offices.touching`` both ask."""
    from tepat.domain.regions import overlaps

    assert overlaps("32.75", "32.75.01.1001") and overlaps("32.75.01.1001", "32.75")
    assert overlaps("", "32.76") and overlaps("32", "32.76") and overlaps("32.75", "32.75")
    assert not overlaps("32.75", "32.76") and not overlaps("32.75.01", "32.75.02.1001")


def test_the_office_an_area_lies_in() -> None:
    """``Offices.holding``: what a programme catalogue and a cycle's budget both ask of an area — its own office,
    the one office of a single-office database (for the system's ``""`` too), or none above several."""
    from tepat.domain.office import Office, Offices

    bekasi = Office(code="32.75", name="Kota Bekasi", province_name="Jawa Barat")
    depok = Office(code="32.76", name="Kota Depok", province_name="Jawa Barat")
    one, two = Offices((bekasi,)), Offices((bekasi, depok))
    assert one.holding("32.75.01") == bekasi and one.holding("") == bekasi
    assert two.holding("32.76.01.1001") == depok and two.holding("32.75") == bekasi
    assert two.holding("") is None and two.holding("32") is None
