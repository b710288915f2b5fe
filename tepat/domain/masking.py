"""Masking personal data for public answers: names and NIKs (UU 27/2022: mask identifiers in public answers).

A masked name keeps the shape of the name (its words and their lengths, so a
resident recognises their own) but shows only the first and last letter of
each word, the first two of a long first word: ``ALEXANDER ZULKARNAIN`` →
``AL******R Z*********N``. Apostrophes, hyphens and dots stay where they are;
letters of any script are masked the same way.
"""

from __future__ import annotations

import unicodedata

from tepat.domain.nik import mask_nik

MASK = "*"
__all__ = ["MASK", "mask_name", "mask_nik", "mask_word", "shown_letters"]


def _upper(char: str) -> str:
    # "ß".upper() is "SS": keep one character per character so the shape stays.
    up = char.upper()
    return up if len(up) == 1 else char


def shown_letters(length: int, *, first_word: bool) -> tuple[int, int]:
    """How many letters of a word of ``length`` letters stay visible at its start and end."""
    if length <= 1:
        return (length, 0)
    if length == 2:
        return (1, 0)
    if first_word and length >= 6:
        return (2, 1)
    return (1, 1)


def mask_word(word: str, *, first_word: bool = False) -> str:
    """One word masked; characters that are not letters (``'``, ``-``, ``.``) are kept as they are."""
    letters = [i for i, c in enumerate(word) if c.isalpha()]
    head, tail = shown_letters(len(letters), first_word=first_word)
    visible = set(letters[:head]) | set(letters[len(letters) - tail :] if tail else [])
    return "".join(_upper(c) if (i in visible or not c.isalpha()) else MASK for i, c in enumerate(word))


def mask_name(name: str) -> str:
    """A name masked for the public status check: ``AL*****R Z*******N``."""
    words = unicodedata.normalize("NFC", name).split()
    return " ".join(mask_word(w, first_word=(i == 0)) for i, w in enumerate(words))
