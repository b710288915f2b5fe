"""Charts out of the browser: PNG (cairosvg) and a PDF report (WeasyPrint, HTML to PDF)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape


def to_png(svg: str, *, scale: float = 2.0) -> bytes:
    """The SVG rasterised to PNG, ``scale`` times its size (sharp in print)."""
    import cairosvg  # type: ignore[import-untyped]  # only downloads of PNG need cairo

    png: bytes = cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=scale)
    return png


@dataclass(frozen=True)
class ReportSection:
    """One section of the PDF report: a heading, paragraphs, an optional chart and table."""

    heading: str
    paragraphs: Sequence[str] = ()
    svg: str | None = None
    columns: Sequence[str] = ()
    rows: Sequence[Sequence[str]] = field(default_factory=tuple)


_CSS = """
@page { size: A4; margin: 18mm 16mm; @bottom-right { content: "Halaman " counter(page) " dari " counter(pages); font-size: 8pt; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 9.5pt; color: #1f2933; }
h1 { font-size: 16pt; margin: 0 0 2mm; } h2 { font-size: 12pt; margin: 7mm 0 2mm; break-after: avoid; }
.meta { color: #616e7c; margin-bottom: 5mm; }
img { width: 100%; break-inside: avoid; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; } th, td { border: 0.4pt solid #bbb; padding: 1mm 2mm; }
th { background: #eef1f4; text-align: left; } td.n { text-align: right; }
"""


def report_html(title: str, subtitle: str, sections: Sequence[ReportSection]) -> str:
    """The report as standalone HTML (charts embedded as data URIs, so nothing is fetched)."""
    parts = [
        f"<!doctype html><html lang='id'><head><meta charset='utf-8'><title>{escape(title)}</title>",
        f"<style>{_CSS}</style></head><body><h1>{escape(title)}</h1><p class='meta'>{escape(subtitle)}</p>",
    ]
    for section in sections:
        parts.append(f"<h2>{escape(section.heading)}</h2>")
        parts += [f"<p>{escape(p)}</p>" for p in section.paragraphs]
        if section.svg:
            data = base64.b64encode(section.svg.encode("utf-8")).decode("ascii")
            parts.append(f"<img alt='{escape(section.heading)}' src='data:image/svg+xml;base64,{data}'>")
        if section.columns:
            parts.append(
                "<table><thead><tr>"
                + "".join(f"<th>{escape(c)}</th>" for c in section.columns)
                + "</tr></thead><tbody>"
            )
            for row in section.rows:
                cells = "".join(f"<td class='{'n' if i else ''}'>{escape(v)}</td>" for i, v in enumerate(row))
                parts.append(f"<tr>{cells}</tr>")
            parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "".join(parts)


def report_pdf(title: str, subtitle: str, sections: Sequence[ReportSection]) -> bytes:
    """The report as PDF bytes."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # only the PDF download needs it

    pdf: bytes = HTML(string=report_html(title, subtitle, sections)).write_pdf()
    return pdf
