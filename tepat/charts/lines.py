"""The trend line: one region's P0 by year, with the value at each point."""

from __future__ import annotations

from collections.abc import Sequence

from tepat.charts.svg import HIGHLIGHT, MUTED, document, footer, header, nice_ticks, number, text
from tepat.domain.rankings import TrendPoint


def trend_chart(
    points: Sequence[TrendPoint], *, region_name: str, source: str = "Sumber: BPS (diolah tepat)"
) -> str:
    """A line chart of P0 over the years of ``points``."""
    width, height, left, right, top, bottom = 640, 340, 60, 30, 80, 60
    first, last = (points[0].year, points[-1].year) if points else (0, 0)
    title = (
        f"Tren persentase penduduk miskin {region_name}, {first}–{last}"
        if points
        else f"Tren persentase penduduk miskin {region_name}"
    )
    body = header(width, title, "Satuan: persen (%) penduduk di bawah garis kemiskinan, Maret tiap tahun")
    body += [
        f'<line x1="{width - 190}" y1="64" x2="{width - 166}" y2="64" stroke="{HIGHLIGHT}" stroke-width="2.5"/>',
        text(width - 160, 68, f"P0 {region_name}", size=11),
    ]
    if points:
        values = [p.p0 for p in points]
        low, high = min(values), max(values)
        pad = max((high - low) * 0.25, 0.25)
        ticks = nice_ticks(max(0.0, low - pad), high + pad)
        low, high = ticks[0], ticks[-1]
        span_x = max(last - first, 1)
        plot_w, plot_h = width - left - right, height - top - bottom

        def xy(p: TrendPoint) -> tuple[float, float]:
            return left + 30 + (p.year - first) / span_x * (plot_w - 60), top + (high - p.p0) / (
                high - low
            ) * plot_h

        for value in ticks:  # horizontal grid and y labels, at round values
            y = top + (high - value) / (high - low) * plot_h
            body += [
                f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e4e7eb"/>',
                text(left - 6, y + 4, number(value), size=10, anchor="end", fill=MUTED),
            ]
        coordinates = [xy(p) for p in points]
        path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coordinates))
        body.append(
            f'<path d="{path}" fill="none" stroke="{HIGHLIGHT}" stroke-width="2.5" class="garis-tren"/>'
        )
        for p, (x, y) in zip(points, coordinates):
            body += [
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{HIGHLIGHT}" data-tahun="{p.year}" data-p0="{p.p0}"/>',
                text(x, y - 9, number(p.p0), size=11, anchor="middle"),
                text(x, top + plot_h + 18, str(p.year), size=11, anchor="middle", fill=MUTED),
            ]
    else:
        body.append(text(width / 2, height / 2, "Belum ada data", size=13, anchor="middle", fill=MUTED))
    body += footer(height, source)
    return document(width, height, body, title=title)
