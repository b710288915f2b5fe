"""The ReportLab layout of the documents, without a database: escaping, long lists, page sizes, footers."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader

from tepat.charts import documents, pdf
from tepat.domain.office import Office
from tepat.services.documents import Signature
from tests.document_data import pdf_text


def _context(names: list[str], **extra: object) -> dict[str, object]:
    rows = [
        {
            "name": name,
            "nik": f"3275011705{i:06d}",
            "kk": f"3275011507{i:06d}",
            "address": f"Jl. Melati No. {i}",
            "rt": 1 + i % 9,
            "rw": 1 + i % 12,
            "desil": (None if i % 5 == 0 else 1 + i % 4),
            "level": "",
            "amount": 250_000,
            "status": "Terjadwal",
        }
        for i, name in enumerate(names)
    ]
    return {
        "programme": "BLT-APBD",
        "programme_code": "BLT-APBD",
        "funding_source": "APBD",
        "cycle_name": "BLT-APBD Juli 2025",
        "period_start": date(2025, 7, 1),
        "period_end": date(2025, 7, 31),
        "kelurahan": "Bekasijaya",
        "kecamatan": "Bekasi Timur",
        "unit_label": "KPM",
        "place": "Bekasi",
        "office": Office("32.75", "Kota Bekasi", "Jawa Barat", address="Jl. Ir. H. Juanda No. 100, Bekasi"),
        "footer": "BLT-APBD Juli 2025 · Kel. Bekasijaya",
        "printed_by": "Ani",
        "printed_at": "14 Juli 2025 10.05 WIB",
        "rows": rows,
        "count": len(rows),
        "handed_over": len(rows),
        "total": 250_000 * len(rows),
        "has_level": False,
        "approved_at": "1 Juli 2025 09.00 WIB",
        "snapshot": "0123456789abcdef",
        "orientation": "landscape",
        "signed_on": date(2025, 7, 14),
        "signatures": [
            Signature("Mengetahui,", "Lurah Bekasijaya"),
            Signature("", "TKSK / Pendamping", id_label="NIK"),
            Signature("", "Kepala Dinas Sosial Kota Bekasi"),
        ],
    } | extra


def _pages(content: bytes) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(content)).pages]


def test_markup_characters_in_names_are_printed_as_written() -> None:
    long = "Siti <Rahmawati> & Keluarga Besar Bapak Haji Abdullah bin Muhammad Yusuf Tanjung"
    content = documents.nominatif_pdf(
        _context(["Budi & <Sari>", long], kelurahan="Teluk & <Pucung>", footer="Kel. A&B <C>")
    )
    text = pdf_text(content)
    assert "Budi & <Sari>" in text  # a short name is a plain cell
    assert (
        "Siti <Rahmawati> & Keluarga" in text and "Yusuf Tanjung" in text
    )  # a long one wraps in a Paragraph
    assert "Kelurahan : Teluk & <Pucung>" in text and "Kel. A&B <C>" in text
    assert "&amp;" not in text and "&lt;" not in text


def test_a_long_list_repeats_its_header_on_every_page_and_ends_with_the_total() -> None:
    content = documents.nominatif_pdf(_context([f"Warga Nomor {i:04d}" for i in range(2_000)]))
    pages = _pages(content)
    assert len(pages) > 40
    for n, page in enumerate(pages, start=1):
        assert f"Halaman {n} dari {len(pages)}" in page and "BLT-APBD Juli 2025 · Kel. Bekasijaya" in page
    for page in pages[:-1]:  # the last page may hold only the signatures
        assert "No Nama NIK No. KK Alamat RT RW Desil Jumlah Status" in page
    assert "PEMERINTAH KOTA BEKASI" in pages[0] and "PEMERINTAH KOTA BEKASI" not in pages[1]
    text = " ".join(pages)
    assert all(f"Warga Nomor {i:04d}" in text for i in range(2_000))  # no row lost at a page break
    assert text.count("Jumlah (2.000 KPM diserahkan) Rp500.000.000") == 1
    assert (
        text.index("Warga Nomor 1999")
        < text.index("Jumlah (2.000 KPM diserahkan)")
        < text.index("Bekasi, 14 Juli 2025")
    )


def test_the_nominatif_is_a4_landscape_and_the_bast_a4_portrait() -> None:
    box = PdfReader(io.BytesIO(documents.nominatif_pdf(_context(["Budi Santoso"])))).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)
    assert pdf.page_size("portrait") == (595.2755905511812, 841.8897637795277)


def test_rows_keep_their_order_and_figures_their_format() -> None:
    context = _context(["Budi Santoso", "Agus Salim"], has_level=True)
    context["rows"][1] |= {"level": "SMP", "amount": 1_500_000, "rt": 7, "rw": 12}  # type: ignore[index]
    context["total"] = 1_750_000
    text = pdf_text(documents.nominatif_pdf(context))
    assert (
        "1 Budi Santoso 3275011705000000 3275011507000000 Jl. Melati No. 0 001 001 – Rp250.000 Terjadwal"
        in text
    )
    assert "2 Agus Salim" in text and "007 012 2 SMP Rp1.500.000 Terjadwal" in text
    assert "Jumlah (2 KPM diserahkan) Rp1.750.000" in text and "Jenjang" in text


def test_the_signature_block_names_or_dots_and_the_id_label() -> None:
    context = _context(["Budi Santoso"])
    context["signatures"] = [
        Signature("Mengetahui,", "Lurah Bekasijaya", name="H. Ahmad & Rekan", id_number="1970"),
        Signature("", ""),
        Signature("", "Kepala Dinas Sosial Kota Bekasi", id_label=None),
    ]
    text = pdf_text(documents.nominatif_pdf(context))
    assert "Bekasi, 14 Juli 2025" in text
    assert "Mengetahui, Lurah Bekasijaya ( H. Ahmad & Rekan ) NIP. 1970" in text
    assert "Kepala Dinas Sosial Kota Bekasi ( ...................................... )" in text
    assert "NIK." not in text and text.count("NIP.") == 1


def test_free_text_columns_share_the_width_by_what_their_values_need() -> None:
    short, long = ["Ani"] * 20, ["Jalan Raya Kalimalang Gang Melati Nomor 12"] * 20
    name, address = pdf.share_width(400, [short, long])
    assert name + address == 400 and address > 2 * name  # each gets its need, the spare shared equally
    assert name - pdf.share_width(10_000, [short, long])[0] < 0  # more room: both grow

    assert pdf.share_width(100, [long, long]) == [50, 50]  # not enough room for either: equal shares
    very_long = [
        "Jalan Raya Kalimalang Gang Melati Nomor 12 Kelurahan Bekasijaya Kecamatan Bekasi Timur"
    ] * 20
    name, address = pdf.share_width(300, [very_long, short])
    assert name + address == 300 and isinstance(pdf.fit("Ani", address), str)
    assert not isinstance(pdf.fit(very_long[0], name), str)
    # too little room: the short column still gets all it needs (one line), the long one the rest and wraps

    one_outlier = ["Ani"] * 99 + ["Nama Yang Sangat Panjang Sekali " * 4]
    name, address = pdf.share_width(400, [one_outlier, long])
    assert name < address  # the 95th-percentile name decides, not the single longest one
