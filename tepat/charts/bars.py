"""The ranking bar chart: every kabupaten/kota of a province by P0, lowest at the top."""

from __future__ import annotations

from html import escape

from tepat.charts.svg import BAR, HIGHLIGHT, INK, MUTED, document, footer, header, number, text
from tepat.domain.rankings import Ranking


def ranking_chart(ranking: Ranking, *, highlight: str, source: str | None = None) -> str:
    """A horizontal bar chart of the ranking, the highlighted region in red and the province rate dashed."""
    rows = ranking.places
    width, row_height, left, top = 760, 20, 190, 96
    plot_width = width - left - 70
    height = top + row_height * len(rows) + 44
    largest = max([p.p0 for p in rows] + [ranking.province_p0 or 0.0, 1.0])
    scale = plot_width / (largest * 1.05)
    title = f"Persentase penduduk miskin (P0) kabupaten/kota di {ranking.province_name}, {ranking.year}"
    body = header(
        width, title, "Satuan: persen (%) penduduk di bawah garis kemiskinan; peringkat 1 = terendah"
    )
    # Legend
    body += [
        f'<rect x="16" y="58" width="12" height="12" fill="{HIGHLIGHT}"/>',
        text(32, 69, _name_of(ranking, highlight), size=11),
        f'<rect x="160" y="58" width="12" height="12" fill="{BAR}"/>',
        text(176, 69, "Kabupaten/kota lain", size=11),
    ]
    if ranking.province_p0 is not None:
        body += [
            f'<line x1="330" y1="64" x2="352" y2="64" stroke="{INK}" stroke-dasharray="4 3"/>',
            text(358, 69, f"{ranking.province_name} ({number(ranking.province_p0)} %)", size=11),
        ]
    if ranking.province_p0 is not None:
        x = left + ranking.province_p0 * scale
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{top + row_height * len(rows) + 4}" stroke="{INK}" stroke-dasharray="4 3"/>'
        )
    for i, place in enumerate(rows):
        y = top + i * row_height
        colour = HIGHLIGHT if place.code == highlight else BAR
        bar = place.p0 * scale
        body += [
            text(
                left - 8,
                y + 14,
                f"{place.rank}. {place.name}",
                size=11,
                anchor="end",
                weight="bold" if place.code == highlight else "normal",
            ),
            (
                f'<rect x="{left}" y="{y + 3}" width="{bar:.1f}" height="{row_height - 6}" fill="{colour}" '
                f'data-kode="{escape(place.code)}" data-p0="{place.p0}"><title>{escape(place.name)}: {number(place.p0)} %</title></rect>'
            ),
            text(left + bar + 4, y + 14, number(place.p0), size=10, fill=MUTED),
        ]
    body += footer(height, source or f"Sumber: BPS, Maret {ranking.year} (diolah tepat)")
    return document(width, height, body, title=title)


def _name_of(ranking: Ranking, code: str) -> str:
    place = ranking.place_of(code)
    return place.name if place else code
