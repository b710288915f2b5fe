"""Rupiah and dates in Indonesian words, as printed on a BAST."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tepat.domain.terbilang import MAX, date_in_words, rupiah_words, terbilang, title_words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "nol"),
        (1, "satu"),
        (9, "sembilan"),
        (10, "sepuluh"),
        (11, "sebelas"),
        (12, "dua belas"),
        (19, "sembilan belas"),
        (20, "dua puluh"),
        (21, "dua puluh satu"),
        (99, "sembilan puluh sembilan"),
        (100, "seratus"),
        (101, "seratus satu"),
        (110, "seratus sepuluh"),
        (111, "seratus sebelas"),
        (200, "dua ratus"),
        (999, "sembilan ratus sembilan puluh sembilan"),
        (1000, "seribu"),
        (1001, "seribu satu"),
        (1100, "seribu seratus"),
        (2000, "dua ribu"),
        (11_000, "sebelas ribu"),
        (100_000, "seratus ribu"),
        (250_000, "dua ratus lima puluh ribu"),
        (1_000_000, "satu juta"),
        (1_500_000, "satu juta lima ratus ribu"),
        (1_800_000, "satu juta delapan ratus ribu"),
        (2_025, "dua ribu dua puluh lima"),
        (10_000_000, "sepuluh juta"),
        (111_111_111, "seratus sebelas juta seratus sebelas ribu seratus sebelas"),
        (1_000_000_000, "satu miliar"),
        (2_000_001_000, "dua miliar seribu"),
        (62_500_000_000, "enam puluh dua miliar lima ratus juta"),
        (1_000_000_000_000, "satu triliun"),
        (
            1_234_567_890_123,
            (
                "satu triliun dua ratus tiga puluh empat miliar "
                "lima ratus enam puluh tujuh juta delapan ratus sembilan puluh ribu seratus dua puluh tiga"
            ),
        ),
        (-5, "minus lima"),
    ],
)
def test_numbers_in_words(n: int, words: str) -> None:
    assert terbilang(n) == words


def test_rupiah_and_title_case() -> None:
    assert rupiah_words(250_000) == "dua ratus lima puluh ribu rupiah"
    assert title_words(rupiah_words(1_750_000)) == "Satu Juta Tujuh Ratus Lima Puluh Ribu Rupiah"


def test_bast_date_opening() -> None:
    assert date_in_words(date(2025, 7, 14)) == (
        "hari Senin tanggal empat belas bulan Juli tahun dua ribu dua puluh lima"
    )
    assert date_in_words(date(2026, 1, 1)).startswith("hari Kamis tanggal satu bulan Januari")


def test_refuses_what_it_cannot_spell() -> None:
    with pytest.raises(ValueError):
        terbilang(MAX + 1)
    with pytest.raises(TypeError):
        terbilang(2.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        terbilang(True)


_VALUE = {
    "nol": 0,
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
    "sepuluh": 10,
    "sebelas": 11,
    "seratus": 100,
    "seribu": 1000,
}
_MULT = {"belas": None, "puluh": 10, "ratus": 100}
_BIG = {"ribu": 1000, "juta": 10**6, "miliar": 10**9, "triliun": 10**12}


def _parse(words: str) -> int:
    """An independent reader of the words (the inverse), so the round trip checks every number."""
    total, group, last = 0, 0, 0
    for w in words.split():
        if w in _VALUE:
            last = _VALUE[w]
            group += last
        elif w == "belas":
            group += 10  # the digit was already added: "dua belas" = 2 + 10
        elif w in _MULT:
            group += last * (_MULT[w] or 1) - last
        elif w in _BIG:
            total += (group or 1) * _BIG[w]
            group = 0
        else:
            raise AssertionError(w)
        if w in ("seribu",):
            total += group
            group = 0
    return total + group


@given(st.integers(min_value=0, max_value=MAX))
def test_words_read_back_to_the_number(n: int) -> None:
    words = terbilang(n)
    assert _parse(words) == n
    assert "  " not in words and words == words.strip()
    assert "satu puluh" not in words and "satu belas" not in words
    # "se-" for one hundred / one thousand when it opens a group (but "seratus satu ribu" = 101.000 is right)
    assert not re.search(r"(^|juta |miliar |triliun )satu (ratus|ribu)", words)
