"""Numbers, rupiah and dates in Indonesian words (*terbilang*), as written on a BAST or a receipt.

``terbilang(250000)`` is ``"dua ratus lima puluh ribu"``; ``rupiah_words(250000)``
is ``"dua ratus lima puluh ribu rupiah"``. Indonesian says *se-* for one of a
unit below a million (``sepuluh``, ``sebelas``, ``seratus``, ``seribu``) but
``satu juta``, ``satu miliar``. Formal documents spell the amount out so that
it cannot be altered, so this must be exact for every integer a budget holds.
"""

from __future__ import annotations

from datetime import date

from tepat.domain.formatting import day_name, month_name

_ONES = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
_SCALES = ((10**12, "triliun"), (10**9, "miliar"), (10**6, "juta"))
MAX = 10**15 - 1
"""The largest number spelled (just under a thousand trillion: well above any city's budget)."""


def _below_thousand(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds == 1:
        words.append("seratus")
    elif hundreds > 1:
        words += [_ONES[hundreds], "ratus"]
    if rest == 0:
        return words
    if rest < 10:
        words.append(_ONES[rest])
    elif rest == 10:
        words.append("sepuluh")
    elif rest == 11:
        words.append("sebelas")
    elif rest < 20:
        words += [_ONES[rest - 10], "belas"]
    else:
        tens, ones = divmod(rest, 10)
        words += [_ONES[tens], "puluh"]
        if ones:
            words.append(_ONES[ones])
    return words


def terbilang(n: int) -> str:
    """A whole number from 0 to ``MAX`` in Indonesian words, lower case."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("terbilang takes an int")
    if n < 0:
        return "minus " + terbilang(-n)
    if n > MAX:
        raise ValueError(f"number too large to spell: {n}")
    if n == 0:
        return _ONES[0]
    words: list[str] = []
    rest = n
    for size, name in _SCALES:
        count, rest = divmod(rest, size)
        if count:
            words += _below_thousand(count) + [name]
    thousands, rest = divmod(rest, 1000)
    if thousands == 1:
        words.append("seribu")
    elif thousands > 1:
        words += _below_thousand(thousands) + ["ribu"]
    words += _below_thousand(rest)
    return " ".join(words)


def rupiah_words(amount: int) -> str:
    """An amount of rupiah in words: ``"dua ratus lima puluh ribu rupiah"``."""
    return f"{terbilang(amount)} rupiah"


def title_words(text: str) -> str:
    """Each word capitalised, as amounts in words are usually printed: ``"Dua Ratus Ribu Rupiah"``."""
    return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))


def date_in_words(day: date) -> str:
    """The opening of a *berita acara*: ``"hari Senin tanggal empat belas bulan Juli tahun dua ribu dua puluh lima"``."""
    return (
        f"hari {day_name(day)} tanggal {terbilang(day.day)} bulan {month_name(day.month)} "
        f"tahun {terbilang(day.year)}"
    )
