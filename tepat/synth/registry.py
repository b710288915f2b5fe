"""A synthetic Kota Bekasi registry in the canonical layout, with its hidden truth.

``generate_registry(families, seed)`` returns every member as a row of text in
``CANONICAL_COLUMNS`` order (the layout ``tepat import`` reads) and, per family,
the per-capita consumption no registry knows. Same seed, same frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from tepat.domain.households import CANONICAL_COLUMNS
from tepat.errors import ValidationError
from tepat.synth.composition import MARITAL, REFERENCE_DAY, RELATIONSHIPS
from tepat.synth.geography import SYNTH_CITY, draw_addresses, geography
from tepat.synth.identifiers import SERIALS, draw_kk_numbers, draw_nik_regions, draw_niks
from tepat.synth.names import draw_addresses_text, draw_birthplaces, draw_names, draw_traditions
from tepat.synth.people import DISABILITY, EDUCATION, ILLNESS, SCHOOL, WORK
from tepat.synth.population import Population, decode, draw_kelurahan, draw_population, indicator_frame
from tepat.synth.spreadsheet import write_text_xlsx
from tepat.synth.welfare import POVERTY_LINE, children_0_17

XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header


@dataclass(frozen=True)
class SynthRegistry:
    """Members in the canonical layout and the hidden per-family truth."""

    members: pl.DataFrame
    truth: pl.DataFrame

    @property
    def families(self) -> int:
        return self.truth.height

    @property
    def people(self) -> int:
        return self.members.height

    def summary(self) -> dict[str, float | int]:
        """Families, people, mean family size and the person-weighted share below the poverty line."""
        size = self.truth["jumlah_art"]
        poor = (self.truth["pengeluaran_per_kapita"] < POVERTY_LINE).cast(pl.Int64)
        return {
            "keluarga": self.families,
            "jiwa": self.people,
            "rata_rata_anggota": float(size.cast(pl.Float64).mean() or 0.0),  # type: ignore[arg-type]
            "persen_miskin": float(100 * (poor * size).sum() / max(int(size.sum()), 1)),
        }


def _dates(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype("datetime64[D]")).cast(pl.Date).dt.strftime("%Y-%m-%d")


def _family_status(rng: np.random.Generator, pop: Population) -> dict[str, pl.Series]:
    n = pop.families
    u = rng.random(n)
    inactive = u < 0.03
    # Families found well-off leave the registry as "mampu"; others moved or were not found.
    reason = np.where(pop.consumption.welfare > 1.0, 4, rng.choice([1, 3, 5], size=n, p=[0.6, 0.3, 0.1]))
    v = rng.random(n)
    verification = np.where(v < 0.60, 1, np.where(v < 0.63, 2, 0))
    verified_on = REFERENCE_DAY - rng.integers(0, 3 * 365, n).astype("timedelta64[D]")
    return {
        "status_keluarga": decode(("aktif", "nonaktif"), inactive.astype(np.int64)),
        "alasan_nonaktif": decode(
            ("meninggal", "pindah", "duplikat", "tidak_ditemukan", "mampu", "lainnya"),
            np.where(inactive, reason, -1),
        ),
        "status_verifikasi": decode(("belum", "terverifikasi", "ditolak"), verification),
        "tanggal_verifikasi": _dates(verified_on).zip_with(
            pl.Series(verification > 0), pl.Series([None] * n, dtype=pl.String)
        ),
    }


def generate_registry(
    families: int, seed: int = 2024, city: str = SYNTH_CITY, serial_band: tuple[int, int] = SERIALS
) -> SynthRegistry:
    """A synthetic registry of ``families`` families of kabupaten/kota ``city`` (Kota Bekasi by default),
    reproducible from ``seed``; NIK serials in ``serial_band`` (cities meant for one database take disjoint
    bands)."""
    if families < 1:
        raise ValidationError("Jumlah keluarga harus paling sedikit 1.")
    rng = np.random.default_rng(seed)
    geo = geography(city)
    kelurahan = draw_kelurahan(rng, families, geo)
    pop = draw_population(rng, kelurahan, geo)
    return registry_from_population(rng, pop, serial_band)


def registry_from_population(
    rng: np.random.Generator, pop: Population, serial_band: tuple[int, int] = SERIALS
) -> SynthRegistry:
    """Names, identifiers and addresses for a drawn population, as canonical text."""
    geo, comp, attrs = pop.geography, pop.composition, pop.attributes
    kecamatan = pop.kecamatan
    tradition = draw_traditions(rng, pop.families)
    kk, _ = draw_kk_numbers(rng, geo, comp, kecamatan)
    rw, rt = draw_addresses(rng, geo, pop.kelurahan)
    kel_codes = pl.Series(geo.kelurahan_codes, dtype=pl.String).gather(pop.kelurahan)

    family = pl.DataFrame(
        {
            "nomor_kk": kk,
            "kode_kelurahan": kel_codes,
            "rw": pl.Series(rw).cast(pl.String),
            "rt": pl.Series(rt).cast(pl.String),
            "alamat": draw_addresses_text(rng, pop.families),
        }
    )
    family = pl.concat(
        [family, indicator_frame(pop, text=True), pl.DataFrame(_family_status(rng, pop))], how="horizontal"
    )

    region, in_city = draw_nik_regions(rng, geo, comp, kecamatan)
    birth = comp.birth_date
    n = len(comp.age)
    members = pl.DataFrame(
        {
            "nik": draw_niks(rng, birth, comp.female, region, serial_band),
            "nama": draw_names(rng, comp, tradition),
            "jenis_kelamin": np.where(comp.female, "P", "L"),
            "tempat_lahir": draw_birthplaces(rng, comp, tradition, in_city, geo.place),
            "tanggal_lahir": _dates(birth),
            "hubungan_keluarga": decode(RELATIONSHIPS, comp.relationship.astype(np.int64)),
            "status_kawin": decode(MARITAL, comp.marital.astype(np.int64)),
            "pendidikan": decode(EDUCATION, attrs.education.astype(np.int64)),
            "partisipasi_sekolah": decode(SCHOOL, attrs.school.astype(np.int64)),
            "status_pekerjaan": decode(WORK, attrs.work.astype(np.int64)),
            "disabilitas": decode(DISABILITY, attrs.disability.astype(np.int64)),
            "penyakit_kronis": decode(ILLNESS, attrs.illness.astype(np.int64)),
            "hamil": np.where(attrs.pregnant, "1", "0"),
            "status_hidup": pl.repeat("hidup", n, eager=True, dtype=pl.String),
            "tanggal_meninggal": pl.Series([None] * n, dtype=pl.String),
        }
    )
    rows = pl.concat([family[comp.member_family], members], how="horizontal").select(CANONICAL_COLUMNS)

    truth = pl.DataFrame(
        {
            "nomor_kk": kk,
            "pengeluaran_per_kapita": pop.consumption.per_capita,
            "jumlah_art": comp.size,
            "jumlah_anak": children_0_17(comp),
            "kode_kecamatan": pl.Series(geo.kecamatan_codes, dtype=pl.String).gather(kecamatan),
            "kode_kelurahan": kel_codes,
            "miskin": pop.consumption.per_capita < POVERTY_LINE,
        }
    )
    return SynthRegistry(members=rows, truth=truth)


def write_registry(reg: SynthRegistry, path: Path) -> Path:
    """Write the members as CSV, XLSX (NIK/KK as text cells) or Parquet, chosen by the suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        reg.members.write_csv(path)
    elif suffix == ".parquet":
        reg.members.write_parquet(path)
    elif suffix == ".xlsx":
        if reg.members.height > XLSX_MAX_ROWS:
            raise ValidationError(
                f"{reg.members.height:,} baris melebihi batas Excel ({XLSX_MAX_ROWS:,}); "
                "pakai format CSV atau Parquet.".replace(",", ".")
            )
        write_text_xlsx(reg.members, path)
    else:
        raise ValidationError(
            f"Format berkas tidak dikenal: {suffix or '(tanpa akhiran)'}; pakai .csv, .xlsx atau .parquet."
        )
    return path


def write_truth(reg: SynthRegistry, path: Path) -> Path:
    """Write the hidden per-family truth as Parquet."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    reg.truth.write_parquet(path)
    return path
