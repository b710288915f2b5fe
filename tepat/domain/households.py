"""Families (keluarga), members (anggota) and their coded indicators (docs/registry.md).

Every socio-economic indicator is a coded category (a ``StrEnum`` whose values
are the codes stored in the database and written in files) with an Indonesian
label for pages. ``FAMILY_FIELDS`` and ``MEMBER_FIELDS`` list, in order, every
field of the registry with its canonical file column name: the import, the
export, the forms and the API all follow these lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from tepat.domain.vocabulary import Labelled


class Coded(Labelled):
    """A coded category with an Indonesian label."""

    @classmethod
    def names(cls) -> dict[str, str]:
        """Every name a file or form may use for a category (lower case) → its code.

        The code (``istri_suami``, or ``istri suami``), the label (``Istri/suami``) and the common aliases offices'
        files use (``Istri``, ``Anak Kandung``, ``KRT``).
        """
        names = dict(_ALIASES.get(cls.__name__, {}))
        for choice in cls:
            for name in (choice.label, choice.value.replace("_", " "), choice.value):
                names[name.lower()] = choice.value
        return names

    @classmethod
    def from_text(cls, text: str) -> Coded | None:
        """The category named by ``text`` (see ``names``; case and spacing ignored), else None."""
        code = cls.names().get(" ".join(text.split()).lower())
        return cls(code) if code is not None else None


# ----------------------------------------------------------------- family status


class RegistryStatus(Coded):
    """A family's place in the registry, and a member's in the family (``members.status``)."""

    AKTIF = "aktif", "Aktif"
    NONAKTIF = "nonaktif", "Nonaktif"


class InactiveReason(Coded):
    MENINGGAL = "meninggal", "Meninggal"
    PINDAH = "pindah", "Pindah"
    DUPLIKAT = "duplikat", "Duplikat"
    TIDAK_DITEMUKAN = "tidak_ditemukan", "Tidak ditemukan"
    MAMPU = "mampu", "Mampu"
    LAINNYA = "lainnya", "Lainnya"


class VerificationStatus(Coded):
    BELUM = "belum", "Belum diverifikasi"
    TERVERIFIKASI = "terverifikasi", "Terverifikasi"
    DITOLAK = "ditolak", "Ditolak"


# ----------------------------------------------------------------- housing


class Tenure(Coded):
    MILIK_SENDIRI = "milik_sendiri", "Milik sendiri"
    KONTRAK_SEWA = "kontrak_sewa", "Kontrak/sewa"
    BEBAS_SEWA = "bebas_sewa", "Bebas sewa"
    DINAS = "dinas", "Dinas"
    LAINNYA = "lainnya", "Lainnya"


class FloorMaterial(Coded):
    MARMER_GRANIT = "marmer_granit", "Marmer/granit"
    KERAMIK = "keramik", "Keramik"
    PARKET_VINIL = "parket_vinil", "Parket/vinil/karpet"
    UBIN_TEGEL = "ubin_tegel", "Ubin/tegel/teraso"
    KAYU_PAPAN = "kayu_papan", "Kayu/papan"
    SEMEN_BATA = "semen_bata", "Semen/bata merah"
    BAMBU = "bambu", "Bambu"
    TANAH = "tanah", "Tanah"
    LAINNYA = "lainnya", "Lainnya"


class WallMaterial(Coded):
    TEMBOK = "tembok", "Tembok"
    PLESTERAN_BAMBU_KAWAT = "plesteran_bambu_kawat", "Plesteran anyaman bambu/kawat"
    KAYU_PAPAN = "kayu_papan", "Kayu/papan"
    ANYAMAN_BAMBU = "anyaman_bambu", "Anyaman bambu"
    BATANG_KAYU = "batang_kayu", "Batang kayu"
    BAMBU = "bambu", "Bambu"
    LAINNYA = "lainnya", "Lainnya"


class RoofMaterial(Coded):
    BETON = "beton", "Beton"
    GENTENG = "genteng", "Genteng"
    ASBES = "asbes", "Asbes"
    SENG = "seng", "Seng"
    KAYU_SIRAP = "kayu_sirap", "Kayu/sirap"
    BAMBU = "bambu", "Bambu"
    JERAMI_IJUK = "jerami_ijuk", "Jerami/ijuk/daun/rumbia"
    LAINNYA = "lainnya", "Lainnya"


class WaterSource(Coded):
    AIR_KEMASAN = "air_kemasan", "Air kemasan bermerk"
    AIR_ISI_ULANG = "air_isi_ulang", "Air isi ulang"
    LEDING = "leding", "Leding (PDAM)"
    SUMUR_BOR = "sumur_bor", "Sumur bor/pompa"
    SUMUR_TERLINDUNG = "sumur_terlindung", "Sumur terlindung"
    SUMUR_TAK_TERLINDUNG = "sumur_tak_terlindung", "Sumur tak terlindung"
    MATA_AIR_TERLINDUNG = "mata_air_terlindung", "Mata air terlindung"
    MATA_AIR_TAK_TERLINDUNG = "mata_air_tak_terlindung", "Mata air tak terlindung"
    AIR_PERMUKAAN = "air_permukaan", "Air permukaan"
    AIR_HUJAN = "air_hujan", "Air hujan"
    LAINNYA = "lainnya", "Lainnya"


class Lighting(Coded):
    PLN_METERAN = "pln_meteran", "Listrik PLN dengan meteran"
    PLN_TANPA_METERAN = "pln_tanpa_meteran", "Listrik PLN tanpa meteran"
    NON_PLN = "non_pln", "Listrik non-PLN"
    BUKAN_LISTRIK = "bukan_listrik", "Bukan listrik"


class PowerVA(Coded):
    VA_450 = "450", "450 VA"
    VA_900 = "900", "900 VA"
    VA_1300 = "1300", "1.300 VA"
    VA_2200 = "2200", "2.200 VA"
    VA_LEBIH_2200 = "lebih_2200", "Lebih dari 2.200 VA"
    TANPA_METERAN = "tanpa_meteran", "Tanpa meteran"


class CookingFuel(Coded):
    LISTRIK = "listrik", "Listrik"
    LPG_LEBIH_3KG = "lpg_lebih_3kg", "LPG lebih dari 3 kg"
    LPG_3KG = "lpg_3kg", "LPG 3 kg"
    GAS_KOTA = "gas_kota", "Gas kota"
    BIOGAS = "biogas", "Biogas"
    MINYAK_TANAH = "minyak_tanah", "Minyak tanah"
    BRIKET = "briket", "Briket"
    ARANG = "arang", "Arang"
    KAYU_BAKAR = "kayu_bakar", "Kayu bakar"
    TIDAK_MEMASAK = "tidak_memasak", "Tidak memasak"


class Toilet(Coded):
    SENDIRI = "sendiri", "Sendiri"
    BERSAMA = "bersama", "Bersama"
    UMUM = "umum", "Umum"
    TIDAK_ADA = "tidak_ada", "Tidak ada"


class SepticDisposal(Coded):
    TANGKI_SEPTIK = "tangki_septik", "Tangki septik"
    IPAL = "ipal", "IPAL"
    KOLAM_SAWAH_SUNGAI = "kolam_sawah_sungai", "Kolam/sawah/sungai/danau"
    LUBANG_TANAH = "lubang_tanah", "Lubang tanah"
    PANTAI_KEBUN = "pantai_kebun", "Pantai/tanah lapang/kebun"
    LAINNYA = "lainnya", "Lainnya"


# ----------------------------------------------------------------- members


class Sex(Coded):
    LAKI_LAKI = "L", "Laki-laki"
    PEREMPUAN = "P", "Perempuan"


class Relationship(Coded):
    KEPALA_KELUARGA = "kepala_keluarga", "Kepala keluarga"
    ISTRI_SUAMI = "istri_suami", "Istri/suami"
    ANAK = "anak", "Anak"
    MENANTU = "menantu", "Menantu"
    CUCU = "cucu", "Cucu"
    ORANG_TUA = "orang_tua", "Orang tua"
    MERTUA = "mertua", "Mertua"
    FAMILI_LAIN = "famili_lain", "Famili lain"
    LAINNYA = "lainnya", "Lainnya"


class MaritalStatus(Coded):
    BELUM_KAWIN = "belum_kawin", "Belum kawin"
    KAWIN = "kawin", "Kawin"
    CERAI_HIDUP = "cerai_hidup", "Cerai hidup"
    CERAI_MATI = "cerai_mati", "Cerai mati"


class Education(Coded):
    TIDAK_BELUM_SEKOLAH = "tidak_belum_sekolah", "Tidak/belum sekolah"
    SD = "sd", "SD/sederajat"
    SMP = "smp", "SMP/sederajat"
    SMA = "sma", "SMA/SMK/sederajat"
    DIPLOMA = "diploma", "Diploma I–III"
    S1 = "s1", "D4/S1"
    S2_S3 = "s2_s3", "S2/S3"


class SchoolParticipation(Coded):
    BELUM_SEKOLAH = "belum_sekolah", "Belum sekolah"
    MASIH_SEKOLAH = "masih_sekolah", "Masih sekolah"
    TIDAK_SEKOLAH_LAGI = "tidak_sekolah_lagi", "Tidak sekolah lagi"


class WorkStatus(Coded):
    TIDAK_BEKERJA = "tidak_bekerja", "Tidak bekerja"
    BERUSAHA_SENDIRI = "berusaha_sendiri", "Berusaha sendiri"
    BERUSAHA_DIBANTU_BURUH = "berusaha_dibantu_buruh", "Berusaha dibantu buruh"
    BURUH_KARYAWAN = "buruh_karyawan", "Buruh karyawan"
    PEKERJA_BEBAS = "pekerja_bebas", "Pekerja bebas"
    PEKERJA_KELUARGA = "pekerja_keluarga", "Pekerja keluarga"


class Disability(Coded):
    TIDAK_ADA = "tidak_ada", "Tidak ada"
    FISIK = "fisik", "Fisik"
    NETRA = "netra", "Netra"
    RUNGU_WICARA = "rungu_wicara", "Rungu/wicara"
    MENTAL = "mental", "Mental"
    INTELEKTUAL = "intelektual", "Intelektual"
    GANDA = "ganda", "Ganda"


class ChronicIllness(Coded):
    TIDAK_ADA = "tidak_ada", "Tidak ada"
    HIPERTENSI = "hipertensi", "Hipertensi"
    DIABETES = "diabetes", "Diabetes"
    JANTUNG = "jantung", "Jantung"
    PARU = "paru", "Paru"
    KANKER = "kanker", "Kanker"
    STROKE = "stroke", "Stroke"
    GINJAL = "ginjal", "Ginjal"
    TBC = "tbc", "TBC"
    LAINNYA = "lainnya", "Lainnya"


class LifeStatus(Coded):
    HIDUP = "hidup", "Hidup"
    MENINGGAL = "meninggal", "Meninggal"


# Other names offices' files use for a category (lower case), per category type: DTKS exports write the relation
# to the head as "Istri", "Anak Kandung", "KRT" (kepala rumah tangga) and so on.
_ALIASES: dict[str, dict[str, str]] = {
    "Relationship": {
        "kepala rumah tangga": "kepala_keluarga",
        "krt": "kepala_keluarga",
        "kk": "kepala_keluarga",
        "istri": "istri_suami",
        "suami": "istri_suami",
        "anak kandung": "anak",
        "anak tiri": "anak",
        "anak angkat": "anak",
        "pembantu": "lainnya",
        "pembantu rumah tangga": "lainnya",
        "famili": "famili_lain",
    },
}


# ----------------------------------------------------------------- field catalogue

FieldKind = Literal["text", "name", "int", "date", "enum", "bool", "nik", "kk", "region"]


@dataclass(frozen=True)
class FieldSpec:
    """One registry field: its attribute name, file column and rules."""

    name: str  # attribute / database column (English)
    column: str  # canonical file column (as DTKS exports name it)
    label: str  # Indonesian label for pages and messages
    kind: FieldKind
    required: bool = False
    choices: type[Coded] | None = None
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    default: str | None = None  # stored when a new record leaves it empty; an edit may not empty it


def _enum(
    name: str,
    column: str,
    label: str,
    choices: type[Coded],
    required: bool = False,
    default: str | None = None,
) -> FieldSpec:
    return FieldSpec(name, column, label, "enum", required=required, choices=choices, default=default)


HOUSING = (
    "tenure",
    "floor_area_m2",
    "floor_material",
    "wall_material",
    "roof_material",
    "water_source",
    "lighting",
    "power_va",
    "cooking_fuel",
    "toilet",
    "septic",
)
"""The house's indicators: the form's group "Rumah", and with the assets what a verifier sees at the house."""

ASSETS: tuple[tuple[str, str, str], ...] = (
    ("asset_gas_cylinder", "aset_tabung_gas", "Tabung gas 5,5 kg atau lebih"),
    ("asset_refrigerator", "aset_kulkas", "Lemari es/kulkas"),
    ("asset_ac", "aset_ac", "AC"),
    ("asset_water_heater", "aset_pemanas_air", "Pemanas air"),
    ("asset_landline", "aset_telepon_rumah", "Telepon rumah"),
    ("asset_tv", "aset_televisi", "Televisi"),
    ("asset_gold", "aset_emas", "Emas/perhiasan 10 gram atau lebih"),
    ("asset_computer", "aset_komputer", "Komputer/laptop"),
    ("asset_bicycle", "aset_sepeda", "Sepeda"),
    ("asset_motorcycle", "aset_sepeda_motor", "Sepeda motor"),
    ("asset_car", "aset_mobil", "Mobil"),
    ("asset_boat", "aset_perahu", "Perahu/kapal"),
    ("asset_land", "aset_lahan", "Lahan/tanah"),
    ("asset_other_house", "aset_rumah_lain", "Rumah di tempat lain"),
    ("asset_livestock", "aset_ternak", "Ternak"),
)

FAMILY_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("kk_number", "nomor_kk", "Nomor KK", "kk", required=True),
    FieldSpec("kelurahan_code", "kode_kelurahan", "Kelurahan", "region", required=True),
    FieldSpec("rw", "rw", "RW", "int", required=True, min_value=1, max_value=999),
    FieldSpec("rt", "rt", "RT", "int", required=True, min_value=1, max_value=999),
    FieldSpec("address", "alamat", "Alamat", "text", max_length=200),
    _enum("tenure", "status_rumah", "Status kepemilikan rumah", Tenure),
    FieldSpec("floor_area_m2", "luas_lantai", "Luas lantai (m²)", "int", min_value=1, max_value=10000),
    _enum("floor_material", "jenis_lantai", "Jenis lantai terluas", FloorMaterial),
    _enum("wall_material", "jenis_dinding", "Jenis dinding terluas", WallMaterial),
    _enum("roof_material", "jenis_atap", "Jenis atap terluas", RoofMaterial),
    _enum("water_source", "sumber_air_minum", "Sumber air minum", WaterSource),
    _enum("lighting", "sumber_penerangan", "Sumber penerangan", Lighting),
    _enum("power_va", "daya_listrik", "Daya listrik PLN", PowerVA),
    _enum("cooking_fuel", "bahan_bakar_memasak", "Bahan bakar memasak", CookingFuel),
    _enum("toilet", "fasilitas_bab", "Fasilitas buang air besar", Toilet),
    _enum("septic", "pembuangan_tinja", "Pembuangan akhir tinja", SepticDisposal),
    *(FieldSpec(name, column, label, "bool") for name, column, label in ASSETS),
    _enum(
        "registry_status",
        "status_keluarga",
        "Status keluarga dalam registri",
        RegistryStatus,
        default="aktif",
    ),
    _enum("inactive_reason", "alasan_nonaktif", "Alasan nonaktif", InactiveReason),
    _enum(
        "verification_status", "status_verifikasi", "Status verifikasi", VerificationStatus, default="belum"
    ),
    FieldSpec("verified_on", "tanggal_verifikasi", "Tanggal verifikasi", "date"),
)

MEMBER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("nik", "nik", "NIK", "nik", required=True),
    FieldSpec("name", "nama", "Nama lengkap", "name", required=True, max_length=120),
    _enum("sex", "jenis_kelamin", "Jenis kelamin", Sex, required=True),
    FieldSpec("birth_place", "tempat_lahir", "Tempat lahir", "text", max_length=80),
    FieldSpec("birth_date", "tanggal_lahir", "Tanggal lahir", "date", required=True),
    _enum(
        "relationship", "hubungan_keluarga", "Hubungan dengan kepala keluarga", Relationship, required=True
    ),
    _enum("marital_status", "status_kawin", "Status perkawinan", MaritalStatus),
    _enum("education", "pendidikan", "Pendidikan tertinggi", Education),
    _enum("school_participation", "partisipasi_sekolah", "Partisipasi sekolah", SchoolParticipation),
    _enum("work_status", "status_pekerjaan", "Status pekerjaan", WorkStatus),
    _enum("disability", "disabilitas", "Jenis disabilitas", Disability),
    _enum("chronic_illness", "penyakit_kronis", "Penyakit kronis", ChronicIllness),
    FieldSpec("pregnant", "hamil", "Sedang hamil", "bool"),
    _enum("life_status", "status_hidup", "Status hidup", LifeStatus, default="hidup"),
    FieldSpec("death_date", "tanggal_meninggal", "Tanggal meninggal", "date"),
)

CANONICAL_COLUMNS: tuple[str, ...] = tuple(f.column for f in FAMILY_FIELDS + MEMBER_FIELDS)
"""The canonical import/export layout: one row per member, family columns repeated."""

FAMILY_FIELD_BY_NAME = {f.name: f for f in FAMILY_FIELDS}
MEMBER_FIELD_BY_NAME = {f.name: f for f in MEMBER_FIELDS}


def age_on(birth: date, day: date) -> int:
    """Age in completed years on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def lacks_active_head(registry_status: str, members: Sequence[Mapping[str, object]]) -> bool:
    """An active family none of whose active members is its head (kepala keluarga): kept out of benefit cycles
    until fixed (the same rule as ``tepat.store.candidates`` and ``families.headless_after_import``)."""
    return registry_status == RegistryStatus.AKTIF and not any(
        m.get("relationship") == "kepala_keluarga" and m.get("status") == RegistryStatus.AKTIF
        for m in members
    )


def deceased_but_active(members: Sequence[Mapping[str, object]]) -> list[Mapping[str, object]]:
    """Members recorded as dead who are still active (to be deactivated with the reason *meninggal*)."""
    return [
        m
        for m in members
        if m.get("life_status") == LifeStatus.MENINGGAL and m.get("status") == RegistryStatus.AKTIF
    ]
