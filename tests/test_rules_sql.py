"""Rules compiled to SQL agree with the Python explanation, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tepat.domain.households import ASSETS
from tepat.domain.regions import office_of
from tepat.domain.rule_explain import evaluate_rule, explain_rule
from tepat.domain.rules import parse_rule
from tepat.errors import ValidationError
from tepat.store.database import Database
from tepat.store.rule_sql import birth_date_cut, compile_rule, select_eligible
from tepat.store.schema import families, members

KELURAHAN = ("32.75.01.1001", "32.75.01.1002", "32.75.02.1001")
DAYS = (date(2025, 7, 1), date(2024, 2, 29), date(2025, 2, 28), date(2025, 3, 1), date(2023, 12, 31))

score_meta = sa.MetaData()
scores = sa.Table(
    "test_rule_scores",
    score_meta,
    sa.Column("family_id", sa.Integer, primary_key=True),
    sa.Column("desil", sa.Integer),
    sa.Column("skor", sa.Float),
)


@pytest.fixture
def rule_db(db: Database) -> Iterator[Database]:
    with db.begin() as conn:
        score_meta.create_all(conn)
    try:
        yield db
    finally:
        with db.begin() as conn:
            score_meta.drop_all(conn)


def _versioning() -> dict[str, object]:
    return {
        "version": 1,
        "valid_from": datetime(2025, 1, 1, tzinfo=UTC),
        "changed_by": "test",
        "change_reason": "uji",
    }


def store(db: Database, rows: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
    """Replace every family, member and score with ``rows`` (family dict, member dicts)."""
    with db.begin() as conn:
        conn.execute(scores.delete())
        conn.execute(members.delete())
        conn.execute(families.delete())
        family_rows, member_rows, score_rows = [], [], []
        for family, people in rows:
            record = {k: v for k, v in family.items() if k not in ("desil", "skor")}
            record.setdefault("kecamatan_code", record["kelurahan_code"].rsplit(".", 1)[0])
            record["office_code"] = office_of(record["kelurahan_code"])
            family_rows.append({**record, **_versioning()})
            if family.get("desil") is not None or family.get("skor") is not None:
                score_rows.append(
                    {"family_id": family["id"], "desil": family.get("desil"), "skor": family.get("skor")}
                )
            member_rows += [
                {**m, "family_id": family["id"], "office_code": record["office_code"], **_versioning()}
                for m in people
            ]
        conn.execute(families.insert(), family_rows)
        if member_rows:
            conn.execute(members.insert(), member_rows)
        if score_rows:
            conn.execute(scores.insert(), score_rows)


def eligible_in_sql(db: Database, source: str, day: date) -> set[int]:
    with db.read() as conn:
        return set(conn.scalars(select_eligible(parse_rule(source), reference_date=day, scores=scores)))


def family(fid: int, **values: Any) -> dict[str, Any]:
    row = {
        "id": fid,
        "kk_number": f"32750112{fid:08d}",
        "kelurahan_code": KELURAHAN[0],
        "rw": 1,
        "rt": 1,
        "registry_status": "aktif",
        "verification_status": "terverifikasi",
    }
    row.update(values)
    return row


def person(mid: int, born: date, **values: Any) -> dict[str, Any]:
    row = {
        "id": mid,
        "nik": f"3275015{mid:09d}",
        "name": f"Orang {mid}",
        "sex": "P",
        "birth_date": born,
        "relationship": "anak",
        "life_status": "hidup",
        "status": "aktif",
    }
    row.update(values)
    return row


# ----------------------------------------------------------------- fixed cases


def test_issue_example_selects_the_right_families(rule_db: Database) -> None:
    day = date(2025, 7, 1)
    rows = [
        (family(1, desil=3), [person(1, date(2015, 1, 1), school_participation="masih_sekolah")]),
        (family(2, desil=5), [person(2, date(2015, 1, 1), school_participation="masih_sekolah")]),
        (family(3, desil=2), [person(3, date(2015, 1, 1), school_participation="tidak_sekolah_lagi")]),
        (
            family(4, desil=1, registry_status="nonaktif"),
            [person(4, date(2015, 1, 1), school_participation="masih_sekolah")],
        ),
        (
            family(5, desil=4),
            [person(5, date(2006, 7, 2), school_participation="masih_sekolah")],
        ),  # 18 today-ish
        (family(6, desil=4), [person(6, date(2006, 7, 1), school_participation="masih_sekolah")]),  # 19 today
        (family(7), [person(7, date(2015, 1, 1), school_participation="masih_sekolah")]),  # no score
        (
            family(8, desil=1),
            [person(8, date(2015, 1, 1), school_participation="masih_sekolah", life_status="meninggal")],
        ),
    ]
    store(rule_db, rows)
    source = 'desil <= 4 and status == "aktif" and any(anggota, umur >= 6 and umur <= 18 and sekolah)'
    assert eligible_in_sql(rule_db, source, day) == {1, 5}
    assert {f["id"] for f, m in rows if evaluate_rule(parse_rule(source), f, m, day)} == {1, 5}


def test_age_boundaries_agree_with_python_on_the_backend(rule_db: Database) -> None:
    day = date(2024, 2, 29)
    births = [
        date(2018, 2, 28),
        date(2018, 3, 1),
        date(2016, 2, 29),
        date(2016, 3, 1),
        date(2017, 2, 28),
        date(2017, 3, 1),
        date(2024, 3, 1),
    ]
    rows = [(family(i + 1), [person(i + 1, born)]) for i, born in enumerate(births)]
    store(rule_db, rows)
    for age in range(10):
        for op in ("==", "!=", "<", "<=", ">", ">="):
            source = f"any(anggota, umur {op} {age})"
            expected = {f["id"] for f, m in rows if evaluate_rule(parse_rule(source), f, m, day)}
            assert eligible_in_sql(rule_db, source, day) == expected, source


def test_birth_date_cut_handles_29_february() -> None:
    assert birth_date_cut(date(2024, 2, 29), 1) == date(2023, 2, 28)
    assert birth_date_cut(date(2024, 2, 29), 4) == date(2020, 2, 29)
    assert birth_date_cut(date(2025, 7, 1), 6) == date(2019, 7, 1)


def test_rule_with_desil_needs_a_scores_source() -> None:
    with pytest.raises(ValidationError, match="belum ada skor"):
        compile_rule(parse_rule("desil <= 4"), reference_date=date(2025, 7, 1))
    # a rule without desil/skor compiles without one
    compile_rule(parse_rule("aset_mobil == false"), reference_date=date(2025, 7, 1))


# ----------------------------------------------------------------- property: SQL == explanation

OPS = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
EQ = st.sampled_from(["==", "!="])


def _text(values: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from(values).map(lambda v: f'"{v}"')


def _listing(values: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True).map(
        lambda vs: "[" + ", ".join(f'"{v}"' for v in vs) + "]"
    )


FLOORS = ("keramik", "tanah", "bambu", "semen_bata")
family_atoms = st.one_of(
    st.builds("desil {} {}".format, OPS, st.integers(1, 10)),
    st.builds("skor {} {}".format, OPS, st.sampled_from(["0.5", "1.25", "2", "3.75"])),
    st.builds("luas_lantai {} {}".format, OPS, st.sampled_from([20, 36, 50])),
    st.builds("jenis_lantai {} {}".format, EQ, _text(FLOORS)),
    st.builds("jenis_lantai {} {}".format, st.sampled_from(["in", "not in"]), _listing(FLOORS)),
    st.sampled_from(["aset_mobil", "aset_televisi", "aset_mobil == false", "aset_televisi != true"]),
    st.builds("status {} {}".format, EQ, _text(("aktif", "nonaktif"))),
    st.builds("status_verifikasi {} {}".format, EQ, _text(("belum", "terverifikasi"))),
    st.builds("jumlah_anggota {} {}".format, OPS, st.integers(0, 3)),
    st.builds("kelurahan {} {}".format, EQ, _text(KELURAHAN)),
    st.builds("kecamatan in {}".format, _listing(("32.75.01", "32.75.02"))),
    st.builds("rw {} {}".format, OPS, st.integers(1, 3)),
)
member_atoms = st.one_of(
    st.builds("umur {} {}".format, OPS, st.sampled_from([0, 1, 5, 6, 17, 18, 60])),
    st.builds(
        "umur {} [{}]".format, st.sampled_from(["in", "not in"]), st.sampled_from(["6, 7", "0", "18, 60"])
    ),
    st.sampled_from(
        [
            "sekolah",
            "sekolah == false",
            "disabilitas",
            "penyakit_kronis != true",
            "hamil",
            "hamil == false",
            "hidup",
            "aktif",
        ]
    ),
    st.builds("jenis_kelamin {} {}".format, EQ, _text(("L", "P"))),
    st.builds("hubungan in {}".format, _listing(("kepala_keluarga", "anak", "cucu"))),
    st.builds("pendidikan {} {}".format, EQ, _text(("sd", "sma"))),
    st.builds("jenis_disabilitas {} {}".format, EQ, _text(("tidak_ada", "fisik"))),
)


def _combine(atoms: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.recursive(
        atoms,
        lambda inner: st.one_of(
            st.builds("{} and {}".format, inner, inner),
            st.builds("({} or {})".format, inner, inner),
            inner.map("not ({})".format),
        ),
        max_leaves=4,
    )


quantified = st.one_of(
    st.builds(
        "{}({}, {})".format,
        st.sampled_from(["any", "all"]),
        st.sampled_from(["anggota", "semua_anggota"]),
        _combine(member_atoms),
    ),
    st.builds(
        "count({}, {}) {} {}".format,
        st.sampled_from(["anggota", "semua_anggota"]),
        _combine(member_atoms),
        OPS,
        st.integers(0, 2),
    ),
)
rules = _combine(st.one_of(family_atoms, quantified))


def _maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values)


@st.composite
def registries(draw: st.DrawFn) -> tuple[date, list[tuple[dict[str, Any], list[dict[str, Any]]]]]:
    day = draw(st.sampled_from(DAYS))
    rows = []
    next_member = 1
    for fid in range(1, draw(st.integers(1, 5)) + 1):
        assets = {name: draw(_maybe(st.booleans())) for name in ("asset_car", "asset_tv")}
        values = {
            "registry_status": draw(st.sampled_from(["aktif", "nonaktif"])),
            "verification_status": draw(st.sampled_from(["belum", "terverifikasi"])),
            "kelurahan_code": draw(st.sampled_from(KELURAHAN)),
            "rw": draw(st.integers(1, 3)),
            "floor_area_m2": draw(_maybe(st.sampled_from([20, 36, 50, 90]))),
            "floor_material": draw(_maybe(st.sampled_from(FLOORS))),
            "desil": draw(_maybe(st.integers(1, 10))),
            "skor": draw(_maybe(st.sampled_from([0.5, 1.25, 2.0, 3.75, 9.5]))),
            **assets,
        }
        people = []
        for _ in range(draw(st.integers(0, 4))):
            age = draw(st.sampled_from([0, 1, 5, 6, 7, 17, 18, 19, 60, 61]))
            shift = draw(st.sampled_from([-1, 0, 1, 0]))
            try:
                born = day.replace(year=day.year - age) + timedelta(days=shift)
            except ValueError:  # 29 February in a common year
                born = date(day.year - age, 3, 1) + timedelta(days=shift)
            people.append(
                person(
                    next_member,
                    born,
                    sex=draw(st.sampled_from(["L", "P"])),
                    relationship=draw(st.sampled_from(["kepala_keluarga", "anak", "cucu", "orang_tua"])),
                    education=draw(_maybe(st.sampled_from(["sd", "sma"]))),
                    school_participation=draw(
                        _maybe(st.sampled_from(["masih_sekolah", "tidak_sekolah_lagi"]))
                    ),
                    disability=draw(_maybe(st.sampled_from(["tidak_ada", "fisik"]))),
                    chronic_illness=draw(_maybe(st.sampled_from(["tidak_ada", "diabetes"]))),
                    pregnant=draw(_maybe(st.booleans())),
                    life_status=draw(st.sampled_from(["hidup", "hidup", "meninggal"])),
                    status=draw(st.sampled_from(["aktif", "aktif", "nonaktif"])),
                )
            )
            next_member += 1
        rows.append((family(fid, **values), people))
    return day, rows


assert {"asset_car", "asset_tv"} <= {name for name, _, _ in ASSETS}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=registries(), source=rules)
def test_sql_and_explanation_never_disagree(rule_db: Database, data: Any, source: str) -> None:
    day, rows = data
    rule = parse_rule(source)
    store(rule_db, rows)
    expected = set()
    for fam, people in rows:
        verdict = evaluate_rule(rule, fam, people, day)
        assert explain_rule(rule, fam, people, day).eligible == verdict
        if verdict:
            expected.add(fam["id"])
    assert eligible_in_sql(rule_db, source, day) == expected
    # the same decisions from rows read back from the database, as a service would pass them
    assert {
        fid for fid, (fam, people) in read_back(rule_db).items() if evaluate_rule(rule, fam, people, day)
    } == expected


def read_back(db: Database) -> dict[int, tuple[dict[str, Any], list[dict[str, Any]]]]:
    with db.read() as conn:
        query = sa.select(families, scores.c.desil, scores.c.skor).select_from(
            families.outerjoin(scores, scores.c.family_id == families.c.id)
        )
        out = {row.id: (dict(row._mapping), []) for row in conn.execute(query)}
        for row in conn.execute(sa.select(members)):
            out[row.family_id][1].append(dict(row._mapping))
    return out
