"""Charts and maps: the right areas, titles, units, sources and legends; PNG and PDF come out."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from tepat.charts.bars import ranking_chart
from tepat.charts.export import ReportSection, report_pdf, to_png
from tepat.charts.lines import trend_chart
from tepat.charts.maps import boundaries, choropleth, class_breaks

JAWA_BARAT = "jawa_barat_kab_kota.geojson"
KOTA_BEKASI_KELURAHAN = "kota_bekasi_kelurahan.geojson"
from tepat.domain.rankings import rank_regions, trend
from tepat.files.bps import shipped_figures

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element, css: str) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == css]


def jawa_barat_map() -> str:
    ranking = rank_regions(shipped_figures(), 2024, "32")
    return choropleth(
        boundaries(JAWA_BARAT),
        {p.code: p.p0 for p in ranking.places},
        title="Persentase penduduk miskin kabupaten/kota di Jawa Barat, 2024",
        unit="persen (%) penduduk",
        source="Sumber: BPS, Maret 2024",
        legend_title="P0 (%)",
        highlight="32.75",
    )


def test_jawa_barat_map_has_the_27_kab_kota_coloured_by_p0():
    root = parse(jawa_barat_map())
    areas = [p for p in root.iter(f"{SVG}path") if p.get("class") == "wilayah"]
    assert len(areas) == 27
    codes = {p.get("data-kode") for p in areas}
    assert codes == {p.code for p in rank_regions(shipped_figures(), 2024, "32").places}
    assert all(p.get("id") == f"wilayah-{p.get('data-kode')}" for p in areas)
    depok = next(p for p in areas if p.get("data-kode") == "32.76")
    indramayu = next(p for p in areas if p.get("data-kode") == "32.12")
    assert depok.get("fill") != indramayu.get("fill")  # lowest and highest fall in different classes
    assert "Kota Depok: 2,34 (persen (%) penduduk)" in depok.find(f"{SVG}title").text


def test_map_has_title_units_source_and_legend():
    root = parse(jawa_barat_map())
    assert texts(root, "judul") == ["Persentase penduduk miskin kabupaten/kota di Jawa Barat, 2024"]
    assert texts(root, "satuan") == ["Satuan: persen (%) penduduk"]
    assert texts(root, "sumber") == ["Sumber: BPS, Maret 2024"]
    assert texts(root, "legenda") == ["P0 (%)"]
    legend = [t.text for t in root.iter(f"{SVG}text") if t.text and "–" in t.text]
    assert legend[0].startswith("2,34 –") and legend[-1].endswith("11,93")


def test_kelurahan_map_has_56_areas_and_greys_out_suppressed_cells():
    geo = boundaries(KOTA_BEKASI_KELURAHAN)
    codes = [f["properties"]["kode"] for f in geo["features"]]
    values = {code: (None if i < 5 else float(i)) for i, code in enumerate(codes)}
    svg = choropleth(
        geo,
        values,
        title="Keluarga belum diverifikasi",
        unit="persen keluarga",
        source="Sumber: registri tepat",
        legend_title="Persen",
        missing_label="Disembunyikan (< 10 keluarga)",
    )
    root = parse(svg)
    areas = [p for p in root.iter(f"{SVG}path") if p.get("class") == "wilayah"]
    assert len(areas) == 56 and len(set(codes)) == 56
    grey = [p for p in areas if p.get("data-nilai") == ""]
    assert len(grey) == 5 and len({p.get("fill") for p in grey}) == 1
    assert "Disembunyikan (< 10 keluarga)" in [t.text for t in root.iter(f"{SVG}text")]


def test_ranking_chart_has_27_bars_kota_bekasi_highlighted():
    ranking = rank_regions(shipped_figures(), 2024, "32")
    root = parse(ranking_chart(ranking, highlight="32.75"))
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("data-kode")]
    assert len(bars) == 27
    fills = {r.get("data-kode"): r.get("fill") for r in bars}
    assert fills["32.75"] != fills["32.76"] and len(set(fills.values())) == 2
    assert texts(root, "judul") == [
        "Persentase penduduk miskin (P0) kabupaten/kota di Provinsi Jawa Barat, 2024"
    ]
    assert texts(root, "sumber") == ["Sumber: BPS, Maret 2024 (diolah tepat)"]
    assert "3. Kota Bekasi" in [t.text for t in root.iter(f"{SVG}text")]


def test_trend_chart_has_a_point_per_year():
    root = parse(trend_chart(trend(shipped_figures(), "32.75"), region_name="Kota Bekasi"))
    assert [c.get("data-tahun") for c in root.iter(f"{SVG}circle")] == [
        "2020",
        "2021",
        "2022",
        "2023",
        "2024",
    ]
    assert texts(root, "judul") == ["Tren persentase penduduk miskin Kota Bekasi, 2020–2024"]
    assert texts(root, "satuan")[0].startswith("Satuan: persen (%)")
    assert "4,01" in [t.text for t in root.iter(f"{SVG}text")]


def test_class_breaks_are_equal_count():
    assert class_breaks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) == [2, 4, 6, 8, 10]
    assert class_breaks([3.0, 3.0]) == [3.0]
    assert class_breaks([]) == []


def test_png_and_pdf_come_out():
    svg = trend_chart(trend(shipped_figures(), "32.75"), region_name="Kota Bekasi")
    png = to_png(svg)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    from io import BytesIO

    from PIL import Image

    pixels = Image.open(BytesIO(png)).convert("RGBA")
    alpha_low, _ = pixels.getextrema()[3]
    red_low, _ = pixels.getextrema()[0]
    assert alpha_low == 255 and red_low < 100  # opaque, and something dark (text, lines) was drawn
    pdf = report_pdf(
        "Laporan", "uji", [ReportSection("Tren", ["Kalimat."], svg, ["Tahun", "P0"], [["2024", "4,01"]])]
    )
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF") and len(pdf) > 5000


def test_report_pdf_has_the_headings_as_text_and_the_chart_as_an_image():
    from io import BytesIO

    from pypdf import PdfReader

    svg = trend_chart(trend(shipped_figures(), "32.75"), region_name="Kota Bekasi")
    rows = [[f"Kelurahan & <{i:02d}>", str(i), "4,01"] for i in range(120)]  # long enough for a second page
    pdf = report_pdf(
        "Statistik kemiskinan",
        "Disusun oleh tepat",
        [
            ReportSection("Tren Kota Bekasi", ["Kalimat pertama."], svg, ["Tahun", "P0"], [["2024", "4,01"]]),
            ReportSection("Registri per kelurahan", [], None, ["Kelurahan", "Keluarga", "Persen"], rows),
        ],
    )
    pages = PdfReader(BytesIO(pdf)).pages
    texts = [" ".join((page.extract_text() or "").split()) for page in pages]
    assert (
        "Statistik kemiskinan" in texts[0]
        and "Tren Kota Bekasi" in texts[0]
        and "Kalimat pertama." in texts[0]
    )
    assert "Registri per kelurahan" in " ".join(texts) and "Kelurahan & <119> 119 4,01" in " ".join(texts)
    assert len(pages) >= 2 and f"Halaman {len(pages)} dari {len(pages)}" in texts[-1]
    images = [
        x for x in pages[0]["/Resources"]["/XObject"].values() if x.get_object()["/Subtype"] == "/Image"
    ]
    assert (
        len(images) == 1 and images[0].get_object()["/Width"] > 1000
    )  # the PNG at three times the SVG's size
    assert "/XObject" not in pages[-1]["/Resources"]  # only the chart is an image


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 60, allow_nan=False), st.floats(0.01, 40, allow_nan=False))
def test_axis_ticks_are_round_and_cover_the_values(low: float, span: float) -> None:
    """Issue 12 point 17: the trend's axis reads 3,5 · 3,75 · 4 …, not 3,83 · 4,11 …"""
    from tepat.charts.svg import nice_ticks

    ticks = nice_ticks(low, low + span)
    step = ticks[1] - ticks[0]
    assert ticks[0] <= low + 1e-9 and ticks[-1] >= low + span - 1e-9 and 2 <= len(ticks) <= 8
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(abs(mantissa - m) < 1e-6 for m in (1, 2, 2.5, 5, 10))
    assert all(abs(t / step - round(t / step)) < 1e-6 for t in ticks)


def test_the_trend_axis_is_labelled_at_round_values() -> None:
    import re

    from tepat.charts.lines import trend_chart
    from tepat.domain.rankings import TrendPoint

    svg = trend_chart(
        [TrendPoint(2020 + i, p0, None, None, None) for i, p0 in enumerate([4.38, 4.11, 4.01, 3.83])],
        region_name="Kota Bekasi",
    )
    labels = re.findall(r'text-anchor="end"[^>]*>([0-9,]+)<', svg)
    assert labels and all(len(label.split(",")[1]) <= 2 and label.endswith(("0", "5")) for label in labels)
