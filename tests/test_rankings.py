"""BPS figures: the shipped files, the Jawa Barat ranking, the Kota Bekasi trend, imports of newer years."""

from __future__ import annotations

import pytest

from tepat.domain.rankings import RegionFigure, rank_regions, trend, years
from tepat.errors import ValidationError
from tepat.files.bps import parse_figures, read_imported, shipped_figures, write_imported


def test_kota_bekasi_is_third_lowest_of_27_in_2024():
    ranking = rank_regions(shipped_figures(), 2024, "32")
    assert len(ranking.places) == 27
    assert [(p.rank, p.name, p.p0) for p in ranking.places[:3]] == [
        (1, "Kota Depok", 2.34),
        (2, "Kota Bandung", 3.87),
        (3, "Kota Bekasi", 4.01),
    ]
    bekasi = ranking.place_of("32.75")
    assert bekasi is not None and bekasi.rank == 3 and bekasi.poor_thousands == 128.84
    assert ranking.places[-1].name == "Kab. Indramayu"
    assert ranking.province_p0 == 7.46 and ranking.province_name == "Provinsi Jawa Barat"


def test_change_on_the_year_only_where_the_previous_year_exists():
    ranking = rank_regions(shipped_figures(), 2024, "32")
    assert ranking.place_of("32.75").change == -0.09  # 4.10 in 2023
    assert ranking.place_of("32.76").change is None


def test_kota_bekasi_trend_2020_2024():
    points = trend(shipped_figures(), "32.75")
    assert [(p.year, p.p0, p.change) for p in points] == [
        (2020, 4.38, None),
        (2021, 4.74, 0.36),
        (2022, 4.43, -0.31),
        (2023, 4.10, -0.33),
        (2024, 4.01, -0.09),
    ]
    assert points[-1].line_rp == 842927


def test_rankable_years_need_more_than_one_region():
    assert years(shipped_figures(), "32") == [2024]  # 2020-2023 only have Kota Bekasi


def test_ties_share_a_place():
    figures = [
        RegionFigure("32.01", "A", 2025, 5.0),
        RegionFigure("32.02", "B", 2025, 5.0),
        RegionFigure("32.03", "C", 2025, 6.0),
    ]
    assert [p.rank for p in rank_regions(figures, 2025, "32").places] == [1, 1, 3]


def test_a_newer_year_imported_in_the_long_layout(tmp_path):
    text = "kode_kemendagri,kab_kota,tahun,p0_persen,penduduk_miskin_ribu\n32.75,Kota Bekasi,2025,3.90,126.1\n32.76,Kota Depok,2025,2.30,\n"
    write_imported(tmp_path, parse_figures(text))
    figures = shipped_figures() + read_imported(tmp_path)
    assert years(figures, "32") == [2024, 2025]
    ranking = rank_regions(figures, 2025, "32")
    assert [p.name for p in ranking.places] == ["Kota Depok", "Kota Bekasi"]
    assert ranking.place_of("32.75").change == pytest.approx(-0.11)
    assert trend(figures, "32.75")[-1].year == 2025


def test_wide_layout_reads_every_year_column():
    text = "kode_kemendagri,kab_kota,p0_persen_2024,p0_persen_2025,p1_2025\n32.01,Kab. Bogor,7.05,6.9,1.1\n"
    figures = parse_figures(text)
    assert [(f.year, f.p0, f.p1) for f in figures] == [(2024, 7.05, None), (2025, 6.9, 1.1)]


def test_bad_rows_are_listed_and_nothing_is_read():
    text = "kode_kemendagri,kab_kota,tahun,p0_persen\n32.75,Kota Bekasi,2025,abc\n99,X,2025,120\n32.75.01,Kec,2025,3\n"
    with pytest.raises(ValidationError) as caught:
        parse_figures(text)
    problems = [(e.row, e.field) for e in caught.value.errors]
    assert problems == [(2, "p0_persen"), (3, "p0_persen"), (4, "kode_kemendagri")]
    assert caught.value.message == "Berkas BPS punya 3 isian yang salah; tidak ada yang disimpan."


def test_a_file_without_a_year_is_refused():
    with pytest.raises(ValidationError, match="kolom tahun"):
        parse_figures("kode_kemendagri,p0\n32.75,4\n")
