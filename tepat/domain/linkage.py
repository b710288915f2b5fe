"""Finding the same person twice (issue 15): how names are compared, and what a pair carries.

Registries collect the same person under two NIKs or in two KK: a digit typed
twice or two digits swapped, a name written three ways ("Muhammad", "Muhamad",
"Moh."), a title added on one record ("Hj. Siti Aminah") and not on the other.
Record linkage (Fellegi–Sunter, estimated by Splink in ``tepat.services.
duplicates``) compares the fields; this module says what "the same name" means
for Indonesian names, and what a found pair shows a person.

``name_key`` is the comparable form of a name: lower case without accents,
titles dropped (H., Hj., Drs., …) and the degrees after the comma (", S.Pd."),
the old spelling made new (``oe`` → ``u``, ``dj`` → ``j``, ``tj`` → ``c``,
``nj`` → ``ny``, ``sj`` → ``sy``, ``ch`` and ``kh`` → ``h`` (Achmad, Ahmad), and in such a word a ``j``
→ ``y``: "Tjahjono" → "cahyono"), every way of writing Muhammad made one,
doubled letters made single. ``name_core`` also drops the leading words many names
carry or lose between records (Siti, Nur, Sri, Muhammad): "Siti Aminah" and
"Aminah" share it. A single name (common in Java) stays one word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from tepat.domain.vocabulary import Labelled

# Titles and degrees written before or after a name (lower case, without dots).
TITLES = frozenset(
    {
        "h",
        "hj",
        "haji",
        "hajjah",
        "hajah",
        "kh",
        "drs",
        "dra",
        "dr",
        "ir",
        "prof",
        "tn",
        "ny",
        "nn",
        "sdr",
        "sdri",
        "bpk",
        "bapak",
        "ibu",
        "alm",
        "almh",
        "almarhum",
        "almarhumah",
        "spd",
        "sag",
        "sh",
        "se",
        "st",
        "skom",
        "sked",
        "ssos",
        "sip",
        "shi",
        "spdi",
        "ssi",
        "sth",
        "amd",
        "amk",
        "mm",
        "mpd",
        "msi",
        "mh",
        "mkes",
        "mag",
        "ma",
        "mba",
        "mt",
        "phd",
    }
)
# Every way of writing Muhammad (after lower-casing and dropping dots).
MUHAMMAD = frozenset(
    {
        "m",
        "mh",
        "md",
        "moh",
        "mohd",
        "moch",
        "mochamad",
        "mochammad",
        "mohamad",
        "mohammad",
        "mohamed",
        "muh",
        "muhd",
        "muhamad",
        "muhammad",
        "muhammed",
        "mukhamad",
        "mukhammad",
    }
)
# Leading words that one record of a person has and another often lacks.
COMMON_FIRST = frozenset({"siti", "sitti", "nur", "nurul", "sri", "muhamad"})
_OLD_MARKS = ("oe", "dj", "tj", "nj", "sj")
_OLD_SPELLING = (("oe", "u"), ("dj", "j"), ("tj", "c"), ("nj", "ny"), ("sj", "sy"), ("ch", "h"), ("kh", "h"))
_OLD_J = re.compile(r"(?<![dtns])j")  # a j of the old spelling, not part of dj/tj/nj/sj: today's y
_DOUBLED = re.compile(r"(\w)\1+")


def _plain_words(name: str) -> list[str]:
    """Lower case, no accents, the degrees after a comma left out; words split at spaces, dots and hyphens
    ("Moh.Rizki" is two words), a title keeps its inner dots ("S.Pd" → "spd")."""
    decomposed = unicodedata.normalize("NFKD", name.casefold().split(",")[0])
    letters = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("'", "").replace("’", "")
    words: list[str] = []
    for token in re.split(r"[\s\-]+", letters):
        bare = token.replace(".", "")
        if not bare:
            continue
        words.extend([bare] if bare in TITLES else [w for w in token.split(".") if w])
    return words


def _new_spelling(word: str) -> str:
    if any(mark in word for mark in _OLD_MARKS):
        word = _OLD_J.sub("y", word)
    for old, new in _OLD_SPELLING:
        word = word.replace(old, new)
    return _DOUBLED.sub(r"\1", word)


def name_key(name: str) -> str:
    """The comparable form of a name ("Hj. Siti Aminah, S.Pd." → "siti aminah"; "Moh. Rizky" → "muhamad rizky")."""
    words = [w for w in _plain_words(name) if w not in TITLES]
    if not words:  # a name that is only a title ("Haji") stays itself
        words = _plain_words(name)
    out = ["muhamad" if w in MUHAMMAD else _new_spelling(w) for w in words]
    return " ".join(out)


def name_core(name: str) -> str:
    """``name_key`` without the leading words records often differ in ("Siti Aminah" → "aminah"); a name that is
    only such words keeps them."""
    words = name_key(name).split()
    core = list(words)
    while len(core) > 1 and core[0] in COMMON_FIRST:
        core.pop(0)
    return " ".join(core)


class MergeState(Labelled):
    """A merge of two records of one person (``person_merges.state``)."""

    DIAJUKAN = "diajukan", "Menunggu persetujuan"  # proposed: a paid record, a second person decides
    BERLAKU = "berlaku", "Berlaku"  # applied
    DIBATALKAN = "dibatalkan", "Dibatalkan"  # undone


class PairDecision(Labelled):
    """What staff decided about a found pair (stored in ``duplicate_pairs.decision``)."""

    BELUM = "belum", "Belum diperiksa"  # not reviewed yet
    SAMA = "sama", "Sama orang"  # the same person: to be merged
    BERBEDA = "berbeda", "Berbeda orang"  # two people: never shown again unless one record changes
    KUNJUNGAN = "kunjungan", "Perlu kunjungan"  # needs a field visit


LINK_FIELDS: tuple[str, ...] = (
    "nik",
    "nomor_kk",
    "nama",
    "tanggal_lahir",
    "jenis_kelamin",
    "alamat",
    "kode_pos",
    "kode_kelurahan",
    "rt",
    "rw",
)
"""The canonical fields of a person list linked by ``tepat dedup`` and ``tepat link`` (any subset may be present:
an outside list may have no NIK at all)."""


FIELD_LABELS = {
    "nik": "NIK",
    "name": "Nama",
    "birth_date": "Tanggal lahir",
    "sex": "Jenis kelamin",
    "kk_number": "Nomor KK",
    "kelurahan_code": "Kelurahan",
    "rw_rt": "RT/RW",
}


@dataclass(frozen=True)
class Evidence:
    """One field's part in a pair's match weight (log2 of the likelihood ratio): positive for agreement that
    speaks for one person, negative for disagreement that speaks against."""

    field: str
    weight: float

    @property
    def label(self) -> str:
        return FIELD_LABELS.get(self.field, self.field)


def probability_of(weight: float) -> float:
    """A match weight as a probability (Fellegi–Sunter: weight = log2 of the odds)."""
    return float(2.0**weight / (1.0 + 2.0**weight))
