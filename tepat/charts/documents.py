"""The formal documents as PDF: Daftar Nominatif, Berita Acara Serah Terima (BAST), realisation report.

Each function takes the plain values ``tepat.services.documents`` gathers (a
dict; nothing here reads the database) and lays the document out with the
shared pieces of ``pdf.py``: letterhead, title, tables, signature block and the
"Halaman x dari y" footer. The wording is the Dinas Sosial's; change it here.

They live beside the statistics report and not in the web package: the CLI
prints the same documents without a web server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from tepat.charts import pdf
from tepat.charts.pdf import text
from tepat.domain.formatting import long_date, number, rupiah
from tepat.domain.programmes import as_aid
from tepat.domain.terbilang import rupiah_words, terbilang, title_words


def _info_widths(orientation: str, label: float) -> list[float]:
    """Label, colon, value: the value takes the rest of the line."""
    return [label, 4 * mm, pdf.frame_width(orientation) - label - 4 * mm]


def _signatures(context: Mapping[str, Any], orientation: str) -> Flowable:
    return pdf.signature_block(
        context["place"], context["signed_on"], context["signatures"], pdf.frame_width(orientation)
    )


# ----------------------------------------------------------------- Daftar Nominatif


def _render(
    c: Mapping[str, Any],
    story: list[Flowable],
    orientation: str,
    title: str,
    on_page: Callable[[int], None] | None,
) -> bytes:
    """A document of the office: its pages with the context's footer, the office's agency as the PDF's author."""
    return pdf.render(
        story,
        orientation=orientation,
        footer=c.get("footer", ""),
        on_page=on_page,
        author=c["office"].agency,
        title=title,
    )


def nominatif_pdf(context: Mapping[str, Any], on_page: Callable[[int], None] | None = None) -> bytes:
    """The Daftar Nominatif of one kelurahan: who receives what, with a column to sign or thumbprint."""
    c = context
    orientation = c.get("orientation", "landscape")
    has_level = bool(c["has_level"])
    info = [
        ["Program", ":", text(f"{c['programme']} ({c['programme_code']}, {c['funding_source']})")],
        ["Siklus", ":", text(c["cycle_name"])],
        ["Periode", ":", text(f"{long_date(c['period_start'])} s.d. {long_date(c['period_end'])}")],
        ["Kelurahan", ":", text(c["kelurahan"])],
        ["Kecamatan", ":", text(c["kecamatan"])],
        [
            text(f"Jumlah {c['unit_label']}"),
            ":",
            text(
                f"{number(c['count'])} (diserahkan {number(c['handed_over'])}; "
                f"diblokir/dibatalkan {number(c['count'] - c['handed_over'])})"
            ),
        ],
        ["Jumlah bantuan", ":", text(rupiah(c["total"]))],
    ]
    story = [
        *pdf.kop(c["office"]),
        *pdf.title(f"Daftar Nominatif Penerima {c['programme']}", text(c["cycle_name"])),
        pdf.info_table(info, _info_widths(orientation, 32 * mm)),
        Spacer(1, 3 * mm),
        # The note and the signatures stay with the last rows: a signature page is never detached from its list.
        _nominatif_table(
            c,
            has_level,
            pdf.frame_width(orientation),
            tail=[
                pdf.paragraph(
                    text(
                        f"Daftar dibekukan saat siklus disetujui ({c['approved_at']}; sidik SHA-256 "
                        f"{c['snapshot']}). Dicetak oleh {c['printed_by']} pada {c['printed_at']}. "
                        "Memuat data pribadi (UU 27/2022): hanya untuk penyaluran bantuan."
                    ),
                    pdf.NOTE,
                ),
                _signatures(c, orientation),
            ],
        ),
    ]
    return _render(c, story, orientation, f"Daftar Nominatif {c['cycle_name']} – {c['kelurahan']}", on_page)


def _nominatif_table(c: Mapping[str, Any], has_level: bool, width: float, tail: list[Flowable]) -> Flowable:
    """One row per recipient (blocked and cancelled ones too, with their status), then the total handed over."""
    columns = [
        "No",
        "Nama",
        "NIK",
        "No. KK",
        "Alamat",
        "RT",
        "RW",
        "Desil",
        *(["Jenjang"] if has_level else []),
        "Jumlah",
        "Status",
        "Tanda tangan / cap jempol",
    ]
    rows = []
    for i, r in enumerate(c["rows"], start=1):
        rows.append(
            [
                str(i),
                r["name"],
                r["nik"],
                r["kk"],
                r["address"],
                f"{r['rt']:03d}",
                f"{r['rw']:03d}",
                str(r["desil"] or "–"),
                *([r["level"]] if has_level else []),
                rupiah(r["amount"]),
                r["status"],
                "",
            ]
        )
    amount = columns.index("Jumlah")
    rows.append(
        [
            f"Jumlah ({number(c['handed_over'])} {c['unit_label']} diserahkan)",
            *[""] * (amount - 1),
            rupiah(c["total"]),
            "",
            "",
        ]
    )
    # Numbers and codes keep one line (a NIK must be read whole); name and address share what is left.
    fixed = {"Status": 26 * mm, "Tanda tangan / cap jempol": 28 * mm}
    for i, name in enumerate(columns):
        if name not in ("Nama", "Alamat", *fixed):
            fixed[name] = pdf.natural_width(name, (row[i] for row in rows[:-1]))
    fixed["Jumlah"] = max(fixed["Jumlah"], pdf.natural_width("", [rows[-1][amount]]))
    name_width, address_width = pdf.share_width(
        width - sum(fixed.values()), [[r["name"] for r in c["rows"]], [r["address"] for r in c["rows"]]]
    )
    widths = [fixed.get(name) or (name_width if name == "Nama" else address_width) for name in columns]
    align = "CLLLLCCC" + ("C" if has_level else "") + "RLL"
    total_style = [
        ("SPAN", (0, -1), (amount - 1, -1)),
        ("ALIGN", (0, -1), (0, -1), "LEFT"),  # "Jumlah (…)"
        ("SPAN", (amount + 1, -1), (-1, -1)),
    ]
    return pdf.data_table(
        columns,
        rows,
        widths,
        align=align,
        wrap=(1, 4, len(columns) - 2),
        total_row=True,
        total_style=total_style,
        tail=tail,
    )


# ----------------------------------------------------------------- BAST


def bast_pdf(context: Mapping[str, Any], on_page: Callable[[int], None] | None = None) -> bytes:
    """The Berita Acara Serah Terima of one kelurahan: date, count and amount spelled out, summary per RW."""
    c = context
    orientation = c.get("orientation", "portrait")
    width = pdf.frame_width(orientation)
    first, second = c["first_party"], c["second_party"]
    parties = [
        ["1.", "Nama", ":", text(first["name"] or pdf.DOTS)],
        ["", "Jabatan", ":", text(first["title"])],
        ["", "selanjutnya disebut <b>PIHAK PERTAMA</b>;", "", ""],
        ["2.", "Nama", ":", text(second["name"] or pdf.DOTS)],
        ["", "Jabatan", ":", text(second["title"])],
        ["", "selanjutnya disebut <b>PIHAK KEDUA</b>.", "", ""],
    ]
    amounts = [["Jumlah KPM", ":", f"<b>{text(number(c['count']))}</b> ({text(terbilang(c['count']))}) KPM"]]
    if int(c["total"]) > 0:  # a service or training programme hands over no money: no "Rp0 / Nol Rupiah"
        amounts += [
            ["Jumlah bantuan", ":", f"<b>{text(rupiah(c['total']))}</b>"],
            ["Terbilang", ":", f"<i>{text(title_words(rupiah_words(int(c['total']))))}</i>"],
        ]
    money = int(c["total"]) > 0

    def amount(value: int) -> str:
        return rupiah(value) if money else "–"

    by_rw = [[f"{r['rw']:03d}", number(r["recipients"]), amount(r["amount"])] for r in c["by_rw"]]
    by_rw.append(["Jumlah", number(c["count"]), amount(c["total"])])
    story: list[Flowable] = [
        *pdf.kop(c["office"]),
        *pdf.title(
            "Berita Acara Serah Terima",
            f"{text(as_aid(c['programme'])[:1].upper() + as_aid(c['programme'])[1:])} – {text(c['cycle_name'])}<br/>Nomor: {text(c['number'])}",
        ),
        pdf.paragraph(
            text(
                f"Pada {c['date_words']} ({c['signed_on'].strftime('%d-%m-%Y')}), bertempat di Kantor "
                f"Kelurahan {c['kelurahan']}, Kecamatan {c['kecamatan']}, {c['office'].name}, kami yang bertanda "
                "tangan di bawah ini:"
            )
        ),
        pdf.info_table(parties, [7 * mm, 20 * mm, 4 * mm, width - 31 * mm], spans=[(2, 1, 3), (5, 1, 3)]),
        pdf.paragraph(
            text(
                f"PIHAK PERTAMA menyerahkan kepada PIHAK KEDUA, dan PIHAK KEDUA menerima dari PIHAK "
                f"PERTAMA, {as_aid(c['programme'])} ({c['benefit_label']}) periode {c['period']} untuk "
                f"disalurkan kepada Keluarga/Penerima Manfaat (KPM) di Kelurahan {c['kelurahan']}, "
                "dengan rincian:"
            )
        ),
        pdf.info_table(amounts, _info_widths(orientation, 30 * mm)),
        pdf.paragraph(
            "sebagaimana tercantum dalam Daftar Nominatif terlampir, yang merupakan bagian tidak "
            "terpisahkan dari Berita Acara ini. Ringkasan lampiran per RW:"
        ),
        Spacer(1, 1.5 * mm),
        pdf.data_table(
            ["RW", "Jumlah KPM", "Jumlah bantuan"],
            by_rw,
            [width / 3] * 3,
            align="CRR",
            total_row=True,
            total_style=[("ALIGN", (0, -1), (0, -1), "LEFT")],
        ),
    ]
    if c["excluded"]:
        story.append(
            pdf.paragraph(
                text(
                    f"Tidak termasuk {number(c['excluded'])} penerima yang diblokir atau "
                    "dibatalkan (misalnya meninggal dunia atau pindah)."
                ),
                pdf.NOTE,
            )
        )
    story += [
        pdf.paragraph(
            "Demikian Berita Acara Serah Terima ini dibuat dalam rangkap secukupnya untuk "
            "dipergunakan sebagaimana mestinya."
        ),
        _signatures(c, orientation),
    ]
    return _render(c, story, orientation, f"BAST {c['cycle_name']} – {c['kelurahan']}", on_page)


# ----------------------------------------------------------------- training attendance sheet


def attendance_pdf(context: Mapping[str, Any], on_page: Callable[[int], None] | None = None) -> bytes:
    """The Daftar Hadir of a training batch: one row per participant, one column to sign per day."""
    c = context
    orientation = c.get("orientation", "landscape")
    width = pdf.frame_width(orientation)
    days = [d.strftime("%d-%m-%Y") if d else "Tgl: ……" for d in c["days"]]
    info = [
        ["Program", ":", text(f"{c['programme']} ({c['programme_code']})")],
        ["Angkatan", ":", text(c["cycle_name"])],
        ["Periode", ":", text(f"{long_date(c['period_start'])} s.d. {long_date(c['period_end'])}")],
        ["Jumlah peserta", ":", text(number(len(c["rows"])))],
    ]
    columns = ["No", "Nama", "Kelurahan", "RT/RW", *days]
    rows = [
        [str(i), r["name"], r["kelurahan"], f"{r['rt']:03d}/{r['rw']:03d}", *[""] * len(days)]
        for i, r in enumerate(c["rows"], start=1)
    ]
    fixed = [pdf.natural_width("No", (r[0] for r in rows)), 0.0, 0.0, pdf.natural_width("RT/RW", ["000/000"])]
    day_width = 24 * mm
    name_width, place_width = pdf.share_width(
        width - fixed[0] - fixed[3] - day_width * len(days),
        [[r["name"] for r in c["rows"]], [r["kelurahan"] for r in c["rows"]]],
    )
    widths = [fixed[0], name_width, place_width, fixed[3], *[day_width] * len(days)]
    story: list[Flowable] = [
        *pdf.kop(c["office"]),
        *pdf.title(f"Daftar Hadir Peserta {c['programme']}", text(c["cycle_name"])),
        pdf.info_table(info, _info_widths(orientation, 32 * mm)),
        Spacer(1, 3 * mm),
        pdf.data_table(
            columns,
            rows,
            widths,
            align="CLLC" + "C" * len(days),
            wrap=(1, 2),
            tail=[
                pdf.paragraph(
                    text(
                        f"Peserta menandatangani kolom hari yang dihadirinya. Dicetak oleh {c['printed_by']} "
                        f"pada {c['printed_at']}. Memuat data pribadi (UU 27/2022): hanya untuk "
                        "penyelenggaraan pelatihan."
                    ),
                    pdf.NOTE,
                ),
                _signatures(c, orientation),
            ],
        ),
    ]
    return _render(c, story, orientation, f"Daftar Hadir {c['cycle_name']}", on_page)


# ----------------------------------------------------------------- realisation report


def realisation_pdf(context: Mapping[str, Any], on_page: Callable[[int], None] | None = None) -> bytes:
    """The realisation report of a year: one table per grouping (programme, kecamatan, month), then the note."""
    c = context
    orientation = c.get("orientation", "landscape")
    width = pdf.frame_width(orientation)
    story: list[Flowable] = [
        *pdf.kop(c["office"]),
        *pdf.title(
            f"Laporan Realisasi Bantuan Sosial Tahun {c['year']}",
            text(f"Wilayah: {c['area']} · keadaan {c['as_of']}"),
        ),
    ]
    for table in c["tables"]:
        columns, rows = list(table["columns"]), table["rows"]
        figures = [pdf.natural_width(name, (row[i] for row in rows)) for i, name in enumerate(columns) if i]
        # The label takes what the figures leave, up to 80 mm; any more is shared among the figures.
        label = min(max(width - sum(figures), 40 * mm), 80 * mm)
        spare = max(width - label - sum(figures), 0) / len(figures)
        widths = [label, *(f + spare for f in figures)]
        story += [
            pdf.paragraph(text(table["heading"]), pdf.HEADING),
            pdf.data_table(
                columns,
                rows,
                widths,
                align="L" + "R" * (len(columns) - 1),
                wrap=(0,),
                total_row=bool(table.get("total")),
            ),
        ]
    story += [
        pdf.paragraph(
            "Rencana = bantuan dalam siklus yang disetujui (tanpa yang diblokir/dibatalkan). Tersalur "
            "= pembayaran yang dilaporkan berhasil oleh bank/PT Pos; dana yang dikembalikan tidak "
            "dihitung tersalur. Bulan = bulan awal periode siklus. Pagu = anggaran tahunan program.",
            pdf.NOTE,
        ),
        _signatures(c, orientation),
    ]
    return _render(c, story, orientation, f"Laporan Realisasi Bantuan Sosial {c['year']}", on_page)
