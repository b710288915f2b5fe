"""Realistic duplicates planted in the synthetic registry, with the truth (``tepat synth --duplicates RATE``).

Registry audits find the same person registered twice in a few ways; each kind is planted in about equal numbers
(a kind that does not apply to the person drawn, a day-month swap when the day is above 12, becomes a name
variant):

- ``nama_lain``: the name written otherwise (Muhammad as Moh./M./Muhamad, Achmad, the old spelling oe/dj/tj, a
  title H./Hj., a leading Siti/Nur/Sri dropped, two letters swapped), registered again at Dukcapil (another
  NIK serial), in a new KK of the same kelurahan;
- ``nik_tertukar``: two digits of the NIK's serial swapped, a new KK of the same kelurahan;
- ``tanggal_tertukar``: the birth day and month swapped (and so the NIK's date digits), a new KK;
- ``dua_kk``: the same person also in another family's KK (as famili lain), with another NIK serial;
- ``pindah_kelurahan``: moved to another kelurahan of the city, a new KK, one digit of the NIK's serial typed
  wrongly.

Every duplicate has a NIK of its own (the import refuses a NIK active in two families; that case needs no
linkage to be found), valid for the import. The truth lists each pair: ``nik``, ``nik_duplikat``, ``jenis``.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from tepat.domain.households import Relationship
from tepat.errors import ValidationError
from tepat.synth.composition import REFERENCE_DAY

KINDS = ("nama_lain", "nik_tertukar", "tanggal_tertukar", "dua_kk", "pindah_kelurahan")
MAX_RATE = 0.2
_MUHAMMAD = ("Muhammad", "Mohammad", "Muhamad", "Mohamad")
_LEADING = ("Siti", "Nur", "Sri")


def name_variant(name: str, rng: np.random.Generator, *, female: bool, adult: bool) -> str:
    """One way the same name is written on another record (in the same letter case)."""
    shouting = name.isupper()
    written = name.title() if shouting else name
    variant = _variant(written, rng, female=female, adult=adult)
    return variant.upper() if shouting else variant


def _variant(name: str, rng: np.random.Generator, *, female: bool, adult: bool) -> str:
    words = name.split()
    options: list[str] = []
    for i, word in enumerate(words):
        if word in _MUHAMMAD:
            options.append(
                " ".join(
                    [*words[:i], str(rng.choice(["Moh.", "M.", "Muhamad", "Mochammad"])), *words[i + 1 :]]
                )
            )
        if word == "Ahmad":
            options.append(" ".join([*words[:i], "Achmad", *words[i + 1 :]]))
        lower = word[1:]
        if "u" in lower:
            options.append(" ".join([*words[:i], word[0] + lower.replace("u", "oe", 1), *words[i + 1 :]]))
        if "j" in lower or "c" in lower:
            old = word[0] + lower.replace("j", "dj", 1).replace("c", "tj", 1)
            options.append(" ".join([*words[:i], old, *words[i + 1 :]]))
    if words[0] in _LEADING and len(words) > 1:
        options.append(" ".join(words[1:]))
    if adult:
        options.append(("Hj. " if female else "H. ") + name)
    long = [i for i, w in enumerate(words) if len(w) >= 5]
    if long:
        i = long[int(rng.integers(len(long)))]
        w = words[i]
        k = int(rng.integers(1, len(w) - 2))
        options.append(" ".join([*words[:i], w[:k] + w[k + 1] + w[k] + w[k + 2 :], *words[i + 1 :]]))
    options = [o for o in options if o != name]
    return str(options[int(rng.integers(len(options)))]) if options else name + name[-1]


def _birth_digits(born: date, female: bool) -> str:
    return f"{born.day + (40 if female else 0):02d}{born.month:02d}{born.year % 100:02d}"


class _Numbers:
    """Fresh NIK and KK numbers: never one already used."""

    def __init__(self, rng: np.random.Generator, niks: set[str], kks: set[str]) -> None:
        self.rng, self.niks, self.kks = rng, niks, kks

    def _fresh(self, prefix: str, used: set[str]) -> str:
        while True:
            number = prefix + f"{int(self.rng.integers(1, 10_000)):04d}"
            if number not in used:
                used.add(number)
                return number

    def nik(self, prefix: str) -> str:
        return self._fresh(prefix, self.niks)

    def kk(self, prefix: str) -> str:
        return self._fresh(prefix, self.kks)

    def take(self, nik: str | None) -> str | None:
        """``nik`` when it is one no one has yet (and its serial is not 0000)."""
        if nik is None or len(nik) != 16 or nik in self.niks or nik.endswith("0000"):
            return None
        self.niks.add(nik)
        return nik


def _swapped_serial(nik: str) -> str | None:
    serial = nik[12:]
    places = [i for i in range(3) if serial[i] != serial[i + 1]]
    if not places:
        return None
    i = places[0]
    return nik[:12] + serial[:i] + serial[i + 1] + serial[i] + serial[i + 2 :]


def _mistyped_serial(nik: str, rng: np.random.Generator) -> str:
    i = 12 + int(rng.integers(4))
    digit = str((int(nik[i]) + int(rng.integers(1, 10))) % 10)
    return nik[:i] + digit + nik[i + 1 :]


def plant_duplicates(members: pl.DataFrame, rate: float, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``members`` with about ``rate`` of its living members of active families registered a second time, and
    the truth (``nik``, ``nik_duplikat``, ``jenis``)."""
    if not 0.0 <= rate <= MAX_RATE:
        raise ValidationError(
            f"--duplicates harus antara 0 dan {MAX_RATE:g}, mis. 0.01 untuk 1 %.".replace(".", ",", 1)
        )
    truth_schema = {"nik": pl.String, "nik_duplikat": pl.String, "jenis": pl.String}
    eligible = members.with_row_index("_i").filter(
        (pl.col("status_keluarga") == "aktif") & (pl.col("status_hidup") == "hidup")
    )
    count = round(rate * members.height)
    if count == 0 or eligible.height == 0:
        return members, pl.DataFrame(schema=truth_schema)
    rng = np.random.default_rng(seed + 15)
    chosen = rng.choice(eligible.height, size=min(count, eligible.height), replace=False)
    numbers = _Numbers(rng, set(members["nik"].to_list()), set(members["nomor_kk"].to_list()))
    kelurahan = members["kode_kelurahan"].unique().sort().to_list()
    family_columns = members.columns[: members.columns.index("nik")]
    rows: list[dict[str, str | None]] = []
    truth: list[tuple[str, str, str]] = []
    for k, position in enumerate(chosen):
        row = eligible.row(int(position), named=True)
        row.pop("_i")
        kind = KINDS[k % len(KINDS)]
        original = row["nik"]
        born = date.fromisoformat(row["tanggal_lahir"])
        female = row["jenis_kelamin"] == "P"
        copy = dict(row)
        copy["nomor_kk"] = numbers.kk(row["nomor_kk"][:12])
        copy["hubungan_keluarga"] = Relationship.KEPALA_KELUARGA.value
        nik: str | None = None
        if kind == "nik_tertukar":
            nik = numbers.take(_swapped_serial(original))
        elif kind == "tanggal_tertukar" and born.day <= 12 and born.day != born.month:
            swapped = date(born.year, born.day, born.month)
            copy["tanggal_lahir"] = swapped.isoformat()
            nik = numbers.take(original[:6] + _birth_digits(swapped, female) + original[12:])
        elif kind == "dua_kk":
            host = eligible.row(int(rng.integers(eligible.height)), named=True)
            copy.update({c: host[c] for c in family_columns})
            copy["hubungan_keluarga"] = Relationship.FAMILI_LAIN.value
            nik = numbers.nik(original[:12])
        elif kind == "pindah_kelurahan":
            others = [c for c in kelurahan if c != row["kode_kelurahan"]] or kelurahan
            copy["kode_kelurahan"] = others[int(rng.integers(len(others)))]
            copy["rw"], copy["rt"] = str(int(rng.integers(1, 15))), str(int(rng.integers(1, 12)))
            copy["alamat"] = members["alamat"][int(rng.integers(members.height))]
            nik = numbers.take(_mistyped_serial(original, rng))
        if nik is None:  # the kind did not apply to this person: the name written otherwise
            kind = "nama_lain"
            adult = (REFERENCE_DAY.astype(date) - born).days >= 40 * 365
            copy["nama"] = name_variant(row["nama"], rng, female=female, adult=adult)
            nik = numbers.nik(original[:12])
        copy["nik"] = nik
        rows.append(copy)
        truth.append((original, nik, kind))
    planted = pl.DataFrame(rows, schema=members.schema)
    return pl.concat([members, planted]), pl.DataFrame(truth, schema=truth_schema, orient="row")
