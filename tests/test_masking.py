"""Masking names and NIKs for public answers."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from tepat.domain.masking import MASK, mask_name, mask_nik, mask_word


def test_the_example_from_the_issue() -> None:
    assert mask_name("Alexander Zulkarnain") == "AL******R Z********N"
    assert mask_name("albashir zulkarnan") == "AL*****R Z*******N"


def test_short_words_one_letter_words_apostrophes_and_hyphens() -> None:
    assert mask_name("M. Nur") == "M. N*R"
    assert mask_name("a b") == "A B"
    assert mask_name("Siti") == "S**I"
    assert mask_name("Ni Luh") == "N* L*H"
    assert mask_name("Nur'aini") == "NU*'***I"  # a first word of 6+ letters shows two
    assert mask_name("Siti-Aminah Ma'ruf") == "SI**-*****H M*'**F"


def test_non_ascii_letters_and_spacing() -> None:
    assert mask_name("  Ömer   ß-Weiß ") == "Ö**R ß-***ß"
    assert mask_name("e\u0301lodie") == "ÉL***E"  # combining accent composed first


def test_nik_shows_region_and_last_two_only() -> None:
    assert mask_nik("3275011705800001") == "3275**********01"


name_chars = st.characters(categories=("Lu", "Ll", "Lo"), max_codepoint=0x2FFF) | st.sampled_from(
    list("'-. ")
)
names = st.text(name_chars, min_size=0, max_size=60)


@given(names)
def test_shape_is_kept(name: str) -> None:
    masked = mask_name(name)
    words = unicodedata.normalize("NFC", name).split()
    assert masked.split(" ") == [mask_word(w, first_word=i == 0) for i, w in enumerate(words)] or masked == ""
    assert [len(w) for w in masked.split()] == [len(w) for w in words]
    for original, shown in zip(words, masked.split()):
        # punctuation stays where it was
        assert [c for c in original if not c.isalpha()] == [c for c in shown if c != MASK and not c.isalpha()]


@given(names)
def test_at_most_three_letters_of_a_word_show_and_long_words_are_mostly_hidden(name: str) -> None:
    for word in mask_name(name).split():
        letters = sum(1 for c in word if c.isalpha() or c == MASK)
        visible = sum(1 for c in word if c.isalpha())
        assert visible <= 3
        if letters >= 2:
            assert MASK in word
        if letters >= 6:
            assert visible * 2 <= letters


@given(names)
def test_masking_is_idempotent_on_its_visible_letters(name: str) -> None:
    once = mask_name(name)
    assert mask_name(name) == once
    assert all(c.isupper() or not c.isalpha() or c.upper() == c or len(c.upper()) != 1 for c in once)
