"""Targeting charts: inclusion/exclusion error of model versions, and families per desil by kecamatan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tepat.charts.svg import BAR, HIGHLIGHT, INK, MUTED, SCALE, document, footer, header, number, text

SOURCE = "Sumber: tepat"


def accuracy_chart(
    models: Mapping[str, Sequence[tuple[float, float, float]]], *, title: str | None = None
) -> str:
    """Grouped bars: for each coverage, each model's inclusion (solid) and exclusion (light) error in %.

    ``models`` maps a model label to ``(coverage, inclusion_error, exclusion_error)`` triples (shares 0–1).
    """
    labels = list(models)
    coverages = sorted({c for rows in models.values() for c, _, _ in rows})
    width, left, top, plot_height = 760, 56, 96, 220
    bar = 16
    group = bar * 2 * max(len(labels), 1) + 28
    height = top + plot_height + 70 + 18 * len(labels)
    body = header(
        width,
        title or "Galat inklusi dan eksklusi menurut cakupan",
        "Satuan: persen (%); makin rendah makin tepat sasaran",
    )
    palette = [BAR, HIGHLIGHT, SCALE[3], SCALE[1], MUTED]
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_height - plot_height * pct / 100
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 16}" y2="{y:.1f}" stroke="#e4e7eb"/>')
        body.append(text(left - 6, y + 4, f"{pct}", size=10, anchor="end", fill=MUTED))
    for g, coverage in enumerate(coverages):
        x0 = left + 12 + g * group
        for m, label in enumerate(labels):
            found = [r for r in models[label] if r[0] == coverage]
            if not found:
                continue
            _, inclusion, exclusion = found[0]
            color = palette[m % len(palette)]
            for k, value in enumerate((inclusion, exclusion)):
                h = plot_height * max(0.0, min(1.0, value))
                x = x0 + (m * 2 + k) * bar
                opacity = "1" if k == 0 else "0.45"
                body.append(
                    f'<rect x="{x:.1f}" y="{top + plot_height - h:.1f}" width="{bar - 2}" height="{h:.1f}" '
                    f'fill="{color}" fill-opacity="{opacity}"><title>{label}: '
                    f"{'inklusi' if k == 0 else 'eksklusi'} {number(100 * value, 1)} %</title></rect>"
                )
        body.append(
            text(
                x0 + bar * len(labels),
                top + plot_height + 16,
                f"{number(100 * coverage, 0)} % termiskin",
                size=11,
                anchor="middle",
            )
        )
    y = top + plot_height + 40
    for m, label in enumerate(labels):
        color = palette[m % len(palette)]
        body += [
            f'<rect x="16" y="{y - 10}" width="12" height="12" fill="{color}"/>',
            f'<rect x="30" y="{y - 10}" width="12" height="12" fill="{color}" fill-opacity="0.45"/>',
            text(48, y, f"{label}: galat inklusi (pekat), galat eksklusi (pudar)", size=11, fill=INK),
        ]
        y += 18
    body += footer(height, SOURCE + ", survei rumah tangga (Alatas dkk. 2012)")
    return document(width, height, body, title=title or "Galat inklusi dan eksklusi")


def decile_chart(rows: Sequence[tuple[str, Sequence[int]]], *, title: str, source: str = SOURCE) -> str:
    """Stacked horizontal bars: each kecamatan's families by desil 1–10 (desil 1 darkest), as shares."""
    width, left, top, row_height = 760, 170, 96, 24
    plot_width = width - left - 30
    height = top + row_height * len(rows) + 70
    body = header(width, title, "Satuan: persen keluarga per kecamatan; desil 1 = 10 % termiskin sekota")
    shades = [
        SCALE[4],
        SCALE[3],
        SCALE[2],
        SCALE[1],
        SCALE[0],
        "#dfe7ef",
        "#c3d2e2",
        "#a5bcd4",
        "#7f9cbc",
        "#5a7ea5",
    ]
    for i, (name, counts) in enumerate(rows):
        y = top + i * row_height
        total = sum(counts) or 1
        body.append(text(left - 8, y + 15, name, size=11, anchor="end"))
        x = float(left)
        for d, count in enumerate(counts):
            w = plot_width * count / total
            if w > 0:
                body.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_height - 6}" fill="{shades[d]}">'
                    f"<title>{name}, desil {d + 1}: {count} keluarga ({number(100 * count / total, 1)} %)</title></rect>"
                )
            x += w
    y = top + row_height * len(rows) + 20
    for d in range(10):
        body += [
            f'<rect x="{16 + d * 70}" y="{y - 10}" width="12" height="12" fill="{shades[d]}" stroke="#cbd2d9"/>',
            text(32 + d * 70, y, f"desil {d + 1}", size=10),
        ]
    body += footer(height, source)
    return document(width, height, body, title=title)
