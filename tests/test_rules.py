"""Eligibility rule language: parsing, errors with positions, evaluation and explanations."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tepat.domain.rule_ast import FIELDS, And, Compare, Count, Flag, InList, Not, Or, Quantifier
from tepat.domain.rule_explain import age_on, evaluate_rule, explain_rule
from tepat.domain.rules import check_rule, parse_rule, tokenize
from tepat.errors import ValidationError

DAY = date(2025, 7, 1)
EXAMPLE = 'desil <= 4 and status == "aktif" and any(anggota, umur >= 6 and umur <= 18 and sekolah)'


def member(name: str, born: date, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "name": name,
        "birth_date": born,
        "status": "aktif",
        "life_status": "hidup",
        "school_participation": None,
        "disability": "tidak_ada",
    }
    row.update(values)
    return row


def error_of(source: str) -> str:
    with pytest.raises(ValidationError) as caught:
        parse_rule(source)
    assert caught.value.errors and caught.value.errors[0].field == "aturan"
    return caught.value.errors[0].message


# ----------------------------------------------------------------- parsing


def test_the_issue_example_parses_into_the_expected_tree() -> None:
    rule = parse_rule(EXAMPLE)
    assert isinstance(rule.root, And)
    desil, status, anyone = rule.root.operands
    assert isinstance(desil, Compare) and (desil.field.column, desil.op, desil.value) == ("desil", "<=", 4)
    assert isinstance(status, Compare) and (status.field.column, status.value) == ("registry_status", "aktif")
    assert isinstance(anyone, Quantifier) and anyone.kind == "any" and anyone.collection == "anggota"
    assert isinstance(anyone.body, And) and len(anyone.body.operands) == 3
    assert rule.fields() == {"desil", "status", "umur", "sekolah"}
    assert rule.uses_scores()


def test_precedence_not_over_and_over_or() -> None:
    root = parse_rule("not aset_mobil and desil <= 2 or desil >= 9").root
    assert isinstance(root, Or)
    left = root.operands[0]
    assert isinstance(left, And) and isinstance(left.operands[0], Not)
    assert isinstance(left.operands[0].operand, Flag)


def test_in_lists_counts_and_quotes() -> None:
    root = parse_rule(
        "jenis_lantai not in ['tanah', \"bambu\"] and count(semua_anggota, not hidup) >= 1"
    ).root
    assert isinstance(root, And)
    listed, counted = root.operands
    assert isinstance(listed, InList) and listed.negated and listed.values == ("tanah", "bambu")
    assert isinstance(counted, Count) and counted.collection == "semua_anggota" and counted.value == 1


def test_tokens_carry_one_based_columns() -> None:
    tokens = tokenize('desil <= 4 and kelurahan == "32.75.01.1001"')
    assert [(t.kind, t.pos) for t in tokens] == [
        ("name", 1),
        ("op", 7),
        ("int", 10),
        ("name", 12),
        ("name", 16),
        ("op", 26),
        ("text", 29),
        ("end", 44),
    ]
    assert tokens[6].value == "32.75.01.1001"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("desil <= ", "posisi 10: diharapkan angka atau teks setelah '<=', bukan akhir aturan"),
        (
            "desil <= 4 and umur",
            (
                "posisi 16: 'umur' adalah data anggota; pakai di dalam any(anggota, …), "
                "all(anggota, …) atau count(anggota, …)"
            ),
        ),
        (
            "desil <= 4 and",
            "posisi 15: aturan berakhir terlalu cepat; diharapkan sebuah kondisi, mis. desil <= 4",
        ),
        ('status == "aktf"', "posisi 11: nilai 'aktf' tidak dikenal untuk status; pilihan: aktif, nonaktif"),
        (
            'status < "aktif"',
            "posisi 8: operator '<' tidak dapat dipakai untuk status; gunakan ==, != atau in",
        ),
        (
            "status == 1",
            (
                "posisi 11: status berisi teks (kode); diharapkan teks dalam tanda kutip, bukan '1'; "
                'tulis sebagai teks, mis. "1"'
            ),
        ),
        ('desil == "4"', "posisi 10: desil adalah angka; diharapkan angka setelah '==', bukan '\"4\"'"),
        ("desil < 1.5", "posisi 9: desil adalah bilangan bulat; diharapkan bilangan bulat, bukan '1.5'"),
        ("aset_mobil == 1", "posisi 15: aset_mobil bernilai ya/tidak; diharapkan true atau false, bukan '1'"),
        (
            "aset_mobil in [true]",
            (
                "posisi 12: 'in' tidak dapat dipakai untuk aset_mobil (ya/tidak); "
                "gunakan == true atau == false"
            ),
        ),
        ("gaji > 5", "posisi 1: nama data 'gaji' tidak dikenal"),
        ("desil = 4", "posisi 7: karakter '=' tidak dikenal; gunakan '==' untuk membandingkan"),
        ("desil <= 4 && aset_tv", "posisi 12: karakter '&' tidak dikenal; gunakan 'and'"),
        ('status == "aktif', "posisi 11: teks belum ditutup dengan tanda kutip"),
        ("(desil <= 4", "posisi 12: diharapkan ')' setelah kondisi di dalam kurung, bukan akhir aturan"),
        ("desil <= 4)", "posisi 11: ')' tanpa '(' pasangannya"),
        ("desil <= 4 aset_tv", "posisi 12: diharapkan 'and', 'or' atau akhir aturan, bukan 'aset_tv'"),
        (
            "desil",
            (
                "posisi 6: diharapkan perbandingan (==, !=, <, <=, >, >=) atau 'in' setelah 'desil', "
                "bukan akhir aturan"
            ),
        ),
        (
            "any(keluarga, umur > 1)",
            ("posisi 5: diharapkan 'anggota' atau 'semua_anggota' setelah 'any(', bukan 'keluarga'"),
        ),
        ("any(anggota umur > 1)", "posisi 13: diharapkan ',' setelah 'anggota', bukan 'umur'"),
        (
            "any(anggota, desil < 3)",
            ("posisi 14: 'desil' adalah data keluarga dan tidak dapat dipakai di dalam any/all/count"),
        ),
        (
            "all(anggota, any(anggota, hamil))",
            "posisi 14: 'any' tidak boleh dipakai di dalam any/all/count lain",
        ),
        (
            "count(anggota, hamil)",
            ("posisi 22: diharapkan perbandingan (mis. >= 1) setelah count(…), bukan akhir aturan"),
        ),
        ("count(anggota, hamil) >= x", "posisi 26: diharapkan bilangan bulat setelah '>=', bukan 'x'"),
        ("any(anggota, umur > 200)", "posisi 21: umur harus antara 0 dan 150"),
        ("jenis_lantai in [tanah]", "posisi 18: diharapkan angka atau teks di dalam daftar, bukan 'tanah'"),
        ("4 >= desil", "posisi 1: diharapkan nama data (mis. desil), 'not' atau '(', bukan '4'"),
        ("   ", "posisi 1: aturan kosong"),
        ("desl <= 4", "posisi 1: nama data 'desl' tidak dikenal; mungkin maksudnya 'desil'"),
        (
            "desil <= 4 dan aset_mobil",
            "posisi 12: diharapkan 'and', 'or' atau akhir aturan, bukan 'dan'; gunakan 'and'",
        ),
        (
            "any(anggota, hamil atau disabilitas)",
            "posisi 20: diharapkan ')' setelah kondisi di dalam any(…), bukan 'atau'; gunakan 'or'",
        ),
        (
            "skor < 2,5",
            (
                "posisi 9: diharapkan 'and', 'or' atau akhir aturan, bukan ','; angka desimal ditulis "
                "dengan titik, mis. 2.5"
            ),
        ),
        ("desil ≤ 4", "posisi 7: karakter '≤' tidak dikenal; gunakan '<='"),
        ("status == “aktif”", "posisi 11: karakter '“' tidak dikenal; gunakan tanda kutip biasa \""),
        (
            "anggota",
            (
                "posisi 1: nama data 'anggota' tidak dikenal; pakai anggota di dalam any(anggota, …), "
                "all(anggota, …) atau count(anggota, …)"
            ),
        ),
    ],
)
def test_errors_point_at_the_position_and_say_what_was_expected(source: str, message: str) -> None:
    assert error_of(source) == message


def test_error_message_is_a_full_sentence_and_check_rule_lists_it() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_rule("desil <= ")
    assert (
        caught.value.message
        == "Aturan tidak valid: posisi 10: diharapkan angka atau teks setelah '<=', bukan akhir aturan."
    )
    assert [e.message for e in check_rule("desil <= ")] == [
        "posisi 10: diharapkan angka atau teks setelah '<=', bukan akhir aturan"
    ]
    assert check_rule(EXAMPLE) == []


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("desilumr anggotany(),[]<=>!\"'0123456789.&|notiku_")), max_size=40)
)
def test_any_text_either_parses_or_fails_with_a_positioned_validation_error(source: str) -> None:
    try:
        parse_rule(source)
    except ValidationError as exc:
        assert exc.errors[0].message.startswith("posisi ")
        position = int(exc.errors[0].message.split(":")[0].removeprefix("posisi "))
        assert 1 <= position <= max(len(source), 1) + 1


# ----------------------------------------------------------------- evaluation and explanation


def test_explanation_of_the_issue_example() -> None:
    family = {"registry_status": "aktif", "desil": 3}
    members = [
        member("Budi", date(2015, 3, 1), school_participation="masih_sekolah"),
        member("Siti", date(1980, 1, 1)),
    ]
    explanation = explain_rule(parse_rule(EXAMPLE), family, members, DAY)
    assert explanation.eligible
    assert explanation.as_dict()["clauses"][0] == {"depth": 0, "text": "desil 3 ≤ 4", "passed": True}
    assert explanation.summary() == (
        "desil 3 ≤ 4 ✓; status aktif = aktif ✓; ada anggota yang berusia 6–18 tahun dan masih sekolah (Budi) ✓"
        " → memenuhi syarat"
    )
    members[0]["school_participation"] = "tidak_sekolah_lagi"
    family["desil"] = 5
    explanation = explain_rule(parse_rule(EXAMPLE), family, members, DAY)
    assert not explanation.eligible
    assert explanation.text().splitlines() == [
        "desil 5 ≤ 4 ✗",
        "status aktif = aktif ✓",
        "ada anggota yang berusia 6–18 tahun dan masih sekolah (tidak ada) ✗",
        "Hasil: tidak memenuhi syarat",
    ]


def test_missing_values_make_comparisons_false_and_say_so() -> None:
    rule = parse_rule('jenis_lantai != "keramik" or desil <= 4 or not aset_mobil')
    explanation = explain_rule(rule, {"floor_material": None, "asset_car": None}, [], DAY)
    assert explanation.eligible  # only through "not aset_mobil": a missing yes/no counts as no
    assert explanation.text().splitlines() == [
        "salah satu syarat berikut ✓",
        "  jenis_lantai: tidak ada data (syarat ≠ keramik) ✗",
        "  desil: tidak ada data (syarat ≤ 4) ✗",
        "  tidak memiliki mobil (tidak ada data) ✓",
        "Hasil: memenuhi syarat",
    ]
    assert not evaluate_rule(parse_rule('jenis_lantai not in ["keramik"]'), {"floor_material": None}, [], DAY)
    assert evaluate_rule(parse_rule('not (jenis_lantai == "keramik")'), {"floor_material": None}, [], DAY)


def test_collections_count_only_living_active_members_unless_all_are_asked_for() -> None:
    members = [
        member("A", date(1950, 1, 1), life_status="meninggal"),
        member("B", date(2000, 1, 1), status="nonaktif"),
        member("C", date(2010, 1, 1)),
    ]
    family = {"registry_status": "aktif"}
    assert evaluate_rule(parse_rule("jumlah_anggota == 1"), family, members, DAY)
    assert not evaluate_rule(parse_rule("any(anggota, umur >= 60)"), family, members, DAY)
    assert evaluate_rule(parse_rule("any(semua_anggota, umur >= 60 and not hidup)"), family, members, DAY)
    assert evaluate_rule(parse_rule("count(semua_anggota, aktif) == 2"), family, members, DAY)
    assert evaluate_rule(parse_rule("all(anggota, umur < 18)"), family, members, DAY)
    # an empty collection: any is false, all is true, count is 0
    assert not evaluate_rule(parse_rule("any(anggota, hamil)"), family, [], DAY)
    assert evaluate_rule(parse_rule("all(anggota, hamil)"), family, [], DAY)
    assert evaluate_rule(parse_rule("count(anggota, hamil) == 0"), family, [], DAY)


def test_explanation_of_all_count_and_nested_or() -> None:
    rule = parse_rule(
        'count(anggota, umur < 5) >= 1 and all(anggota, not disabilitas) and (kecamatan == "32.75.01" or rw in [1, 2])'
    )
    members = [member("Ani", date(2022, 6, 30)), member("Joko", date(1990, 5, 5), disability="netra")]
    explanation = explain_rule(rule, {"kelurahan_code": "32.75.01.1001", "rw": 7}, members, DAY)
    assert explanation.text().splitlines() == [
        "banyaknya anggota yang umur < 5: 1 ≥ 1 ✓",
        "semua anggota tidak penyandang disabilitas (tidak: Joko) ✗",
        "salah satu syarat berikut ✓",
        "  kecamatan 32.75.01 = 32.75.01 ✓",
        "  rw 7 salah satu dari [1, 2] ✗",
        "Hasil: tidak memenuhi syarat",
    ]


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(2019, 7, 1), date(2025, 7, 1), 6),  # birthday today
        (date(2019, 7, 2), date(2025, 7, 1), 5),  # birthday tomorrow
        (date(2020, 2, 29), date(2025, 2, 28), 4),  # leapling before 1 March in a common year
        (date(2020, 2, 29), date(2025, 3, 1), 5),
        (date(2020, 2, 29), date(2024, 2, 29), 4),
        (date(2019, 3, 1), date(2024, 2, 29), 4),
    ],
)
def test_age_is_completed_years(born: date, day: date, age: int) -> None:
    assert age_on(born, day) == age
    assert evaluate_rule(parse_rule(f"any(anggota, umur == {age})"), {}, [member("X", born)], day)


def test_values_from_database_rows_are_normalised() -> None:
    # SQLite gives booleans as 0/1 and dates may arrive as text
    rule = parse_rule("aset_televisi and any(anggota, umur >= 18)")
    assert evaluate_rule(rule, {"asset_tv": 1}, [member("A", "1990-01-01")], DAY)  # type: ignore[arg-type]
    assert not evaluate_rule(rule, {"asset_tv": 0}, [member("A", "1990-01-01")], DAY)  # type: ignore[arg-type]


# ----------------------------------------------------------------- documentation

DOC = Path(__file__).parent.parent / "docs" / "targeting.md"


def test_every_identifier_is_documented() -> None:
    text = DOC.read_text()
    assert [name for name in FIELDS if f"| `{name}` |" not in text] == []


def test_every_rule_example_in_the_docs_parses() -> None:
    examples = re.findall(r"^\| [^|]+ \| `([^`]+)` \|$", DOC.read_text(), flags=re.MULTILINE)
    rules = [e for e in examples if " " in e]
    assert len(rules) >= 8
    for source in rules:
        parse_rule(source)
