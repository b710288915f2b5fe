"""Indonesian names, birthplaces and street addresses for synthetic families.

Each family gets a naming tradition (Javanese, Sundanese, Betawi, Batak,
Minang, Chinese-Indonesian, Arab-Indonesian); each person one to three words.
Arabic-derived names are common in Muslim families, younger people often carry
"modern" names, and only Batak marga and some Chinese- and Arab-Indonesian
family names are shared inside a family. Lists are in ``data/``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import polars as pl

from tepat.synth.composition import CHILD, GRANDCHILD, HEAD, PARENT, Composition
from tepat.synth.geography import DATA

TRADITIONS = ("jawa", "sunda", "betawi", "batak", "minang", "tionghoa", "arab")
TRADITION_SHARES = np.array([0.44, 0.22, 0.16, 0.07, 0.06, 0.04, 0.01])
JAWA, SUNDA, BETAWI, BATAK, MINANG, TIONGHOA, ARAB = range(7)
STYLES = ("jawa", "sunda", "betawi", "batak", "minang", "tionghoa", "islami", "modern")
ISLAMI, MODERN = 6, 7
# Chance that a person of each tradition carries an Arabic-derived first name.
_ISLAMI_SHARE = np.array([0.35, 0.40, 0.60, 0.0, 0.55, 0.0, 1.0])
# Chance of a one-word name for people born before 1990, by tradition.
_ONE_WORD_OLD = np.array([0.45, 0.30, 0.30, 0.0, 0.15, 0.05, 0.10])


@dataclass(frozen=True)
class _Pool:
    """Names in one flat series with (offset, length) per bucket."""

    names: pl.Series
    offset: np.ndarray
    length: np.ndarray

    def draw(self, rng: np.random.Generator, bucket: np.ndarray) -> pl.Series:
        idx = self.offset[bucket] + (rng.random(len(bucket)) * self.length[bucket]).astype(np.int64)
        return self.names.gather(idx)


def _pool(rows: list[tuple[int, str]], buckets: int) -> _Pool:
    rows = sorted(rows, key=lambda r: r[0])
    keys = np.array([k for k, _ in rows])
    length = np.bincount(keys, minlength=buckets)
    offset = np.concatenate([[0], np.cumsum(length)[:-1]])
    if (length == 0).any():
        raise ValueError(f"empty name buckets: {np.flatnonzero(length == 0).tolist()}")
    return _Pool(pl.Series([n for _, n in rows], dtype=pl.String), offset, length)


def _read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def _pools() -> tuple[_Pool, _Pool, _Pool]:
    # first names: bucket = (style * 2 + female) * 2 + young; "semua" fills both generations,
    # and a style missing a generation borrows the other one.
    firsts: dict[int, list[str]] = {}
    for r in _read("nama_depan.csv"):
        style, female = STYLES.index(r["kelompok"]), int(r["jenis_kelamin"] == "P")
        gens = (0, 1) if r["generasi"] == "semua" else ((1,) if r["generasi"] == "baru" else (0,))
        for g in gens:
            firsts.setdefault((style * 2 + female) * 2 + g, []).append(r["nama"].upper())
    for style in range(len(STYLES)):
        for female in (0, 1):
            old, young = (style * 2 + female) * 2, (style * 2 + female) * 2 + 1
            firsts.setdefault(old, firsts.get(young, []))
            firsts.setdefault(young, firsts.get(old, []))
    first = _pool([(k, n) for k, names in firsts.items() for n in names], len(STYLES) * 4)
    second = _pool(
        [
            ((STYLES.index(r["kelompok"]) * 2 + int(r["jenis_kelamin"] == "P")), r["nama"].upper())
            for r in _read("nama_kedua.csv")
        ],
        len(STYLES) * 2,
    )
    family_kinds = ("batak", "tionghoa", "arab")
    family = _pool(
        [(family_kinds.index(r["kelompok"]), r["nama"].upper()) for r in _read("nama_keluarga.csv")], 3
    )
    return first, second, family


def draw_traditions(rng: np.random.Generator, families: int) -> np.ndarray:
    """A naming tradition per family (index into ``TRADITIONS``)."""
    cum = np.cumsum(TRADITION_SHARES) / TRADITION_SHARES.sum()
    return np.searchsorted(cum, rng.random(families), side="right").astype(np.int8)


def draw_names(rng: np.random.Generator, comp: Composition, tradition: np.ndarray) -> pl.Series:
    """Full names (upper case, as on a KK) for every member."""
    first_pool, second_pool, family_pool = _pools()
    n = len(comp.age)
    fam = comp.member_family
    trad = tradition[fam].astype(np.int64)
    # Spouses, in-laws and relatives sometimes come from another tradition.
    outsider = np.isin(comp.relationship, (1, 3, 6, 7)) & (rng.random(n) < 0.25)
    other = draw_traditions(rng, n)
    trad = np.where(outsider, np.where(other == ARAB, JAWA, other), trad)
    female = comp.female.astype(np.int64)
    birth_year = 2025 - comp.age
    young = (birth_year >= 1990).astype(np.int64)

    style = trad.copy()
    style[trad == ARAB] = ISLAMI
    islami = rng.random(n) < _ISLAMI_SHARE[trad]
    style = np.where(islami, ISLAMI, style)
    modern = (birth_year >= 2005) & (trad != BATAK) & (trad != TIONGHOA) & (rng.random(n) < 0.45)
    style = np.where(modern, MODERN, style)

    first = first_pool.draw(rng, (style * 2 + female) * 2 + young)
    u = rng.random(n)
    one_word = np.where(young == 1, 0.10, _ONE_WORD_OLD[trad])
    three_words = np.where(young == 1, 0.30, 0.05)
    words = np.where(u < one_word, 1, np.where(u > 1 - three_words, 3, 2))
    second_style = np.where(style == MODERN, np.where(rng.random(n) < 0.5, MODERN, ISLAMI), style)
    second = second_pool.draw(rng, second_style * 2 + female)
    third = second_pool.draw(rng, np.where(rng.random(n) < 0.5, MODERN, ISLAMI) * 2 + female)

    # Family names: Batak marga pass from father to children; some Chinese- and Arab-Indonesian
    # families share a family name. Wives and in-laws keep their own.
    kinds = np.select([trad == BATAK, trad == TIONGHOA, trad == ARAB], [0, 1, 2], default=-1)
    family_name = family_pool.draw(rng, np.maximum(kinds, 0))
    shared = family_pool.draw(
        rng,
        np.maximum(
            np.select([tradition == BATAK, tradition == TIONGHOA, tradition == ARAB], [0, 1, 2], default=0), 0
        ),
    )[fam]
    lineage = np.isin(comp.relationship, (HEAD, CHILD, GRANDCHILD)) | (
        (comp.relationship == PARENT) & ~comp.female
    )
    uses_shared = (
        lineage
        & (trad == tradition[fam])
        & ((trad == BATAK) | ((trad == TIONGHOA) & (rng.random(n) < 0.6)) | (trad == ARAB))
    )
    has_family = (kinds >= 0) & (uses_shared | (trad == BATAK) | (rng.random(n) < 0.4))
    surname = shared.zip_with(pl.Series(uses_shared), family_name)
    words = np.where(has_family, np.minimum(words, 2), words)

    frame = pl.DataFrame(
        {
            "a": first,
            "b": second.zip_with(pl.Series(words >= 2), pl.Series([None] * n, dtype=pl.String)),
            "c": third.zip_with(pl.Series(words >= 3), pl.Series([None] * n, dtype=pl.String)),
            "d": surname.zip_with(pl.Series(has_family), pl.Series([None] * n, dtype=pl.String)),
        }
    )
    return frame.select(pl.concat_str(["a", "b", "c", "d"], separator=" ", ignore_nulls=True)).to_series()


@lru_cache(maxsize=1)
def _birthplaces() -> tuple[pl.Series, np.ndarray, np.ndarray]:
    rows = _read("tempat_lahir.csv")
    styles = np.array([STYLES.index(r["kelompok"]) for r in rows])
    order = np.argsort(styles, kind="stable")
    names = pl.Series([rows[i]["tempat"].upper() for i in order], dtype=pl.String)
    weights = np.array([float(rows[i]["bobot"]) for i in order])
    return names, styles[order], weights


def draw_birthplaces(
    rng: np.random.Generator,
    comp: Composition,
    tradition: np.ndarray,
    born_in_city: np.ndarray,
    city_place: str = "BEKASI",
) -> pl.Series:
    """Birthplace text; people whose NIK was first issued in the city were mostly born there."""
    names, styles, weights = _birthplaces()
    n = len(comp.age)
    style = np.where(comp.age < 20, MODERN, tradition[comp.member_family])
    style = np.where(style == ARAB, ISLAMI, style)
    # Inverse CDF per style: cumulative weights restart at each style's first row.
    u = rng.random(n)
    idx = np.empty(n, np.int64)
    for s in range(len(STYLES)):
        rows = np.flatnonzero(styles == s)
        cum = np.cumsum(weights[rows]) / weights[rows].sum()
        mine = style == s
        idx[mine] = rows[0] + np.minimum(np.searchsorted(cum, u[mine], side="right"), len(rows) - 1)
    city = born_in_city & (rng.random(n) < 0.85)
    return names.gather(idx).zip_with(pl.Series(~city), pl.repeat(city_place, n, eager=True, dtype=pl.String))


@lru_cache(maxsize=1)
def _streets() -> dict[str, pl.Series]:
    out: dict[str, list[str]] = {}
    for r in _read("jalan.csv"):
        out.setdefault(r["jenis"], []).append(r["nama"])
    return {k: pl.Series(v, dtype=pl.String) for k, v in out.items()}


def draw_addresses_text(rng: np.random.Generator, families: int) -> pl.Series:
    """Street addresses: ``Jl. Mawar No. 12``, ``Gg. Sawo No. 3``, ``Perum Taman Galaxy Blok C4 No. 7``."""
    streets = _streets()
    n = families

    def pick(kind: str) -> pl.Series:
        names = streets[kind]
        return names.gather((rng.random(n) * len(names)).astype(np.int64))

    number = pl.Series(rng.integers(1, 160, n)).cast(pl.String)
    block = pl.Series(np.array(list("ABCDEFGH"))[rng.integers(0, 8, n)]) + pl.Series(
        rng.integers(1, 25, n)
    ).cast(pl.String)
    kind = rng.random(n)
    frame = pl.DataFrame(
        {
            "j": pick("jalan"),
            "g": pick("gang"),
            "p": pick("perumahan"),
            "no": number,
            "blok": block,
            "k": kind,
        }
    )
    return frame.select(
        pl.when(pl.col("k") < 0.55)
        .then(pl.concat_str([pl.lit("Jl. "), "j", pl.lit(" No. "), "no"]))
        .when(pl.col("k") < 0.8)
        .then(pl.concat_str([pl.lit("Gg. "), "g", pl.lit(" No. "), "no"]))
        .otherwise(pl.concat_str([pl.lit("Perum "), "p", pl.lit(" Blok "), "blok", pl.lit(" No. "), "no"]))
    ).to_series()
