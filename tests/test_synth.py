"""Synthetic Kota Bekasi registry: layout, identifiers, families, welfare and indicators."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from tepat.domain.households import CANONICAL_COLUMNS, FAMILY_FIELDS, MEMBER_FIELDS
from tepat.domain.nik import check_kk, check_nik
from tepat.domain.regions import Level, RegionIndex
from tepat.errors import ValidationError
from tepat.files.reference import read_regions
from tepat.synth import POVERTY_LINE, SynthRegistry, generate_registry, write_registry, write_truth

REFERENCE = date(2025, 6, 30)


@pytest.fixture(scope="module")
def reg() -> SynthRegistry:
    return generate_registry(3000, seed=11)


@pytest.fixture(scope="module")
def regions() -> RegionIndex:
    return RegionIndex(read_regions())


@pytest.fixture(scope="module")
def people(reg: SynthRegistry) -> pl.DataFrame:
    """Members with typed birth date, age in years and the consumption of their family."""
    return (
        reg.members.with_columns(
            lahir=pl.col("tanggal_lahir").str.to_date(),
        )
        .with_columns(
            umur=(pl.lit(REFERENCE) - pl.col("lahir")).dt.total_days() / 365.2425,
        )
        .join(reg.truth.select("nomor_kk", "pengeluaran_per_kapita"), on="nomor_kk")
    )


def test_same_seed_gives_identical_frames_and_another_seed_does_not():
    a, b, c = generate_registry(300, seed=5), generate_registry(300, seed=5), generate_registry(300, seed=6)
    assert a.members.equals(b.members) and a.truth.equals(b.truth)
    assert not a.members.equals(c.members)
    assert a.members["nik"].to_list() != c.members["nik"].to_list()


def test_members_are_in_the_canonical_layout_as_text(reg: SynthRegistry):
    assert tuple(reg.members.columns) == CANONICAL_COLUMNS
    assert all(dtype == pl.String for dtype in reg.members.dtypes)
    assert reg.truth.columns[:2] == ["nomor_kk", "pengeluaran_per_kapita"]
    assert {"jumlah_art", "kode_kecamatan", "kode_kelurahan"} <= set(reg.truth.columns)
    assert reg.truth["jumlah_art"].sum() == reg.members.height


def test_coded_columns_hold_only_valid_codes(reg: SynthRegistry):
    for spec in FAMILY_FIELDS + MEMBER_FIELDS:
        values = set(reg.members[spec.column].drop_nulls().unique().to_list())
        if spec.choices is not None:
            assert values <= {c.value for c in spec.choices}, spec.column
        elif spec.kind == "bool":
            assert values <= {"0", "1"}, spec.column
        elif spec.kind == "date":
            assert all(len(v) == 10 and date.fromisoformat(v) <= REFERENCE for v in values), spec.column
        if spec.required:
            assert reg.members[spec.column].null_count() == 0, spec.column
    rw = reg.members["rw"].cast(pl.Int64)
    rt = reg.members["rt"].cast(pl.Int64)
    assert rw.min() >= 1 and rw.max() <= 25 and rt.min() >= 1 and rt.max() <= 15


def test_every_nik_is_valid_unique_and_agrees_with_sex_and_birth_date(
    reg: SynthRegistry, regions: RegionIndex
):
    kecamatan = regions.kecamatan_codes()
    m = reg.members
    assert m["nik"].n_unique() == m.height
    for nik, sex, born in zip(m["nik"], m["jenis_kelamin"], m["tanggal_lahir"], strict=True):
        birth = date.fromisoformat(born)
        r = check_nik(nik, known_regions=kecamatan, birth_date_hint=birth)
        assert r.valid and not r.warnings, (nik, r.errors, r.warnings)
        assert r.sex == sex and r.birth_date == birth
    in_city = m["nik"].str.starts_with("3275").mean()
    assert 0.6 < in_city < 0.95  # most were first registered in Kota Bekasi, some elsewhere


def test_every_kk_is_valid_unique_and_issued_in_the_familys_kecamatan(
    reg: SynthRegistry, regions: RegionIndex
):
    kecamatan = regions.kecamatan_codes()
    t = reg.truth
    assert t["nomor_kk"].n_unique() == t.height
    youngest = reg.members.group_by("nomor_kk").agg(pl.col("tanggal_lahir").max())
    born = dict(zip(youngest["nomor_kk"], youngest["tanggal_lahir"], strict=True))
    for kk, kec in zip(t["nomor_kk"], t["kode_kecamatan"], strict=True):
        r = check_kk(kk, known_regions=kecamatan)
        assert r.valid and not r.warnings, (kk, r.errors)
        assert r.region_code == kec
        issued = date(2000 + int(kk[10:12]), int(kk[8:10]), int(kk[6:8]))
        assert date.fromisoformat(born[kk]) < issued <= REFERENCE


def test_families_have_realistic_size_and_one_head(reg: SynthRegistry):
    mean = reg.truth["jumlah_art"].mean()
    assert 3.1 <= mean <= 3.5
    sizes = reg.truth["jumlah_art"].value_counts()
    assert set(range(1, 6)) <= set(sizes["jumlah_art"].to_list())
    heads = reg.members.filter(pl.col("hubungan_keluarga") == "kepala_keluarga")
    assert heads.height == reg.families and heads["nomor_kk"].n_unique() == reg.families
    assert 0.75 < (heads["jenis_kelamin"] == "L").mean() < 0.95
    # Members of a family are consecutive rows, the head first.
    first = reg.members.group_by("nomor_kk", maintain_order=True).agg(pl.col("hubungan_keluarga").first())
    assert (first["hubungan_keluarga"] == "kepala_keluarga").all()
    assert reg.members["nomor_kk"].rle_id().max() == reg.families - 1


def test_ages_are_consistent_within_families(people: pl.DataFrame):
    heads = people.filter(pl.col("hubungan_keluarga") == "kepala_keluarga").select(
        "nomor_kk", umur_kepala="umur", jk_kepala="jenis_kelamin"
    )
    spouses = people.filter(pl.col("hubungan_keluarga") == "istri_suami").select(
        "nomor_kk", umur_pasangan="umur", jk_pasangan="jenis_kelamin"
    )
    couples = heads.join(spouses, on="nomor_kk")
    assert couples.height > 0 and (couples["jk_kepala"] != couples["jk_pasangan"]).all()
    assert (couples["umur_pasangan"] >= 18).all()
    children = (
        people.filter(pl.col("hubungan_keluarga") == "anak")
        .join(heads, on="nomor_kk")
        .join(spouses, on="nomor_kk", how="left")
    )
    gap_head = children["umur_kepala"] - children["umur"]
    assert gap_head.min() >= 18 and gap_head.max() <= 45
    with_spouse = children.filter(pl.col("umur_pasangan").is_not_null())
    gap_spouse = with_spouse["umur_pasangan"] - with_spouse["umur"]
    assert gap_spouse.min() >= 18 and gap_spouse.max() <= 45
    parents = people.filter(pl.col("hubungan_keluarga") == "orang_tua").join(heads, on="nomor_kk")
    assert ((parents["umur"] - parents["umur_kepala"]) >= 18).all()
    assert people["umur"].min() >= 0 and people["umur"].max() < 95


def test_marriage_school_and_pregnancy_follow_age_and_sex(people: pl.DataFrame):
    spouses = people.filter(pl.col("hubungan_keluarga") == "istri_suami")
    assert (spouses["status_kawin"] == "kawin").all()
    assert (people.filter(pl.col("umur") < 16)["status_kawin"] == "belum_kawin").all()
    school_age = people.filter((pl.col("umur") >= 7) & (pl.col("umur") < 13))
    assert (school_age["partisipasi_sekolah"] == "masih_sekolah").mean() > 0.95
    teens = people.filter((pl.col("umur") >= 13) & (pl.col("umur") < 19))
    assert (teens["partisipasi_sekolah"] == "masih_sekolah").mean() > 0.75
    toddlers = people.filter(pl.col("umur") < 5)
    assert (toddlers["partisipasi_sekolah"] == "belum_sekolah").all()
    assert (toddlers["pendidikan"] == "tidak_belum_sekolah").all()
    assert (toddlers["status_pekerjaan"] == "tidak_bekerja").all()
    pregnant = people.filter(pl.col("hamil") == "1")
    assert pregnant.height > 0
    assert (pregnant["jenis_kelamin"] == "P").all()
    assert pregnant["umur"].min() >= 18 and pregnant["umur"].max() < 46
    disabled = (people["disabilitas"] != "tidak_ada").mean()
    ill = (people["penyakit_kronis"] != "tidak_ada").mean()
    assert 0.005 < disabled < 0.06 and 0.02 < ill < 0.2
    assert people["status_hidup"].unique().to_list() == ["hidup"]


def test_names_are_indonesian_style_and_upper_case(reg: SynthRegistry):
    names = reg.members["nama"]
    words = names.str.split(" ").list.len()
    assert names.null_count() == 0 and (names == names.str.to_uppercase()).all()
    assert words.min() >= 1 and words.max() <= 5 and (words <= 3).mean() > 0.98
    assert 0.1 < (words == 1).mean() < 0.4 and (words == 2).mean() > 0.35
    assert names.n_unique() > reg.members.height * 0.5


def test_all_56_kelurahan_are_real_and_used(reg: SynthRegistry, regions: RegionIndex):
    real = {r.code for r in regions.descendants("32.75", Level.KELURAHAN)}
    assert len(real) == 56
    assert set(reg.members["kode_kelurahan"].unique().to_list()) == real
    kec = set(reg.truth["kode_kecamatan"].unique().to_list())
    assert kec == {r.code for r in regions.descendants("32.75", Level.KECAMATAN)}


def test_poverty_share_is_calibrated_to_kota_bekasi_2024():
    big = generate_registry(50_000, seed=99)
    share = big.summary()["persen_miskin"]
    assert abs(share - 4.01) < 0.5


def test_indicators_follow_consumption(reg: SynthRegistry):
    fam = reg.members.unique("nomor_kk", keep="first").join(
        reg.truth.select("nomor_kk", "pengeluaran_per_kapita"), on="nomor_kk"
    )
    y = np.log(fam["pengeluaran_per_kapita"].to_numpy())
    fam = fam.with_columns(y=pl.Series(y))

    def mean_by(column: str, code: str) -> float:
        return float(fam.filter(pl.col(column) == code)["y"].mean())

    assert mean_by("jenis_lantai", "keramik") > mean_by("jenis_lantai", "semen_bata")
    assert (
        mean_by("daya_listrik", "lebih_2200")
        > mean_by("daya_listrik", "900")
        > mean_by("daya_listrik", "450")
    )
    assert mean_by("bahan_bakar_memasak", "lpg_lebih_3kg") > mean_by("bahan_bakar_memasak", "lpg_3kg")
    assert mean_by("fasilitas_bab", "sendiri") > mean_by("fasilitas_bab", "bersama")
    assets = [c for c in reg.members.columns if c.startswith("aset_")]
    count = fam.select(pl.sum_horizontal(pl.col(assets).cast(pl.Int64)))[:, 0].to_numpy()
    assert np.corrcoef(count, y)[0, 1] > 0.4
    for asset in ("aset_mobil", "aset_ac", "aset_kulkas", "aset_komputer"):
        has = fam[asset] == "1"
        assert fam.filter(has)["y"].mean() > fam.filter(~has)["y"].mean(), asset


def test_a_proxy_means_regression_explains_about_half_the_variance(reg: SynthRegistry):
    fam = reg.members.unique("nomor_kk", keep="first", maintain_order=True).join(
        reg.truth.select("nomor_kk", "pengeluaran_per_kapita", "jumlah_art"), on="nomor_kk"
    )
    y = np.log(fam["pengeluaran_per_kapita"].to_numpy())
    coded = [f.column for f in FAMILY_FIELDS[5:31] if f.kind == "enum"]
    numeric = [f.column for f in FAMILY_FIELDS[5:31] if f.kind in ("bool", "int")]
    dummies = fam.select(coded).fill_null("kosong").to_dummies(drop_first=True).to_numpy().astype(float)
    x = fam.select(pl.col(numeric).cast(pl.Float64)).to_numpy()
    size = fam["jumlah_art"].to_numpy().astype(float)
    design = np.column_stack([np.ones(len(y)), np.log(size), np.log(x[:, 0]), x[:, 1:], dummies])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    r2 = 1 - np.var(y - design @ beta) / np.var(y)
    assert 0.35 < r2 < 0.7


def test_registry_status_and_verification(reg: SynthRegistry):
    fam = reg.members.unique("nomor_kk", keep="first")
    assert (fam["status_keluarga"] == "aktif").mean() > 0.9
    inactive = fam.filter(pl.col("status_keluarga") == "nonaktif")
    assert inactive["alasan_nonaktif"].null_count() == 0
    assert (
        fam.filter(pl.col("status_keluarga") == "aktif")["alasan_nonaktif"].null_count()
        == fam.filter(pl.col("status_keluarga") == "aktif").height
    )
    verified = fam.filter(pl.col("status_verifikasi") == "terverifikasi")
    assert 0.4 < verified.height / fam.height < 0.8
    dates = verified["tanggal_verifikasi"].str.to_date()
    assert dates.min() >= REFERENCE - timedelta(days=3 * 366) and dates.max() <= REFERENCE
    assert fam.filter(pl.col("status_verifikasi") == "belum")["tanggal_verifikasi"].null_count() > 0


def test_truth_marks_the_poor(reg: SynthRegistry):
    t = reg.truth
    assert (t["miskin"] == (t["pengeluaran_per_kapita"] < POVERTY_LINE)).all()
    assert t["pengeluaran_per_kapita"].min() > 0


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_write_registry_by_suffix_keeps_every_digit(tmp_path, suffix):
    small = generate_registry(40, seed=3)
    path = write_registry(small, tmp_path / f"registry{suffix}")
    if suffix == ".csv":
        back = pl.read_csv(path, infer_schema_length=0)
    elif suffix == ".parquet":
        back = pl.read_parquet(path)
    else:
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0] == CANONICAL_COLUMNS
        assert all(isinstance(r[CANONICAL_COLUMNS.index("nik")], str) for r in rows[1:])
        back = pl.DataFrame(rows[1:], schema=list(CANONICAL_COLUMNS), orient="row")
    assert back["nik"].to_list() == small.members["nik"].to_list()
    assert back["nomor_kk"].to_list() == small.members["nomor_kk"].to_list()
    truth = write_truth(small, tmp_path / "truth.parquet")
    assert pl.read_parquet(truth).equals(small.truth)


def test_write_registry_refuses_an_unknown_suffix(tmp_path):
    with pytest.raises(ValidationError, match="Format berkas tidak dikenal"):
        write_registry(generate_registry(5, seed=1), tmp_path / "registry.txt")


def test_at_least_one_family_is_needed():
    with pytest.raises(ValidationError, match="paling sedikit 1"):
        generate_registry(0)


def test_text_xlsx_is_the_same_bytes_whenever_it_is_written(tmp_path):
    """Issue 19 point 6: the same frame gives the same file (no clock in the zip)."""
    import time

    from tepat.synth.spreadsheet import write_text_xlsx

    frame = pl.DataFrame({"nik": ["3275010101900001"], "nama": ["Budi"]})
    write_text_xlsx(frame, tmp_path / "a.xlsx")
    time.sleep(2.1)  # zip times have a resolution of two seconds
    write_text_xlsx(frame, tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_text_xlsx_keeps_special_characters_spaces_and_empty_cells(tmp_path):
    from openpyxl import load_workbook

    from tepat.synth.spreadsheet import write_text_xlsx

    frame = pl.DataFrame({"nik": ["3275010101900001", None, "0012"], "nama": ["A & B <C>", "  SPASI ", ""]})
    path = tmp_path / "teks.xlsx"
    write_text_xlsx(frame, path, sheet="data")
    sheet = load_workbook(path).active
    assert sheet.title == "data"
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["nik", "nama"],
        ["3275010101900001", "A & B <C>"],
        [None, "  SPASI "],
        ["0012", None],
    ]
    back = pl.read_excel(path, infer_schema_length=0)
    assert back["nik"].to_list() == ["3275010101900001", None, "0012"]
