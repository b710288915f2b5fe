"""Charts out of the browser: PNG (cairosvg) and the statistics report as PDF (ReportLab, see ``pdf.py``)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, Image, KeepTogether

from tepat.charts import pdf


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


_TITLE = ParagraphStyle(
    "report-title",
    pdf.BODY,
    fontName=pdf.BOLD,
    fontSize=16,
    leading=20,
    alignment=TA_LEFT,
    spaceBefore=0,
    spaceAfter=2 * mm,
)
_SUBTITLE = ParagraphStyle(
    "report-subtitle", pdf.PLAIN, textColor=colors.HexColor("#616e7c"), spaceAfter=5 * mm
)
_HEADING = ParagraphStyle(
    "report-heading", pdf.HEADING, fontSize=12, leading=15, spaceBefore=7 * mm, spaceAfter=2 * mm
)


def report_pdf(
    title: str,
    subtitle: str,
    sections: Sequence[ReportSection],
    on_page: Callable[[int], None] | None = None,
) -> bytes:
    """The report as PDF bytes: A4 portrait, per section its heading, paragraphs, chart (as PNG) and table;
    ``on_page(n)`` is told each page laid out."""
    width = pdf.frame_width("portrait")
    story: list[Flowable] = [
        pdf.paragraph(pdf.text(title), _TITLE),
        pdf.paragraph(pdf.text(subtitle), _SUBTITLE),
    ]
    for section in sections:
        opening: list[Flowable] = [pdf.paragraph(pdf.text(section.heading), _HEADING)]
        opening += [pdf.paragraph(pdf.text(p)) for p in section.paragraphs]
        if section.svg:
            opening.append(_chart(section.svg, width))
        story.append(
            KeepTogether(opening)
        )  # a heading is not left at the foot of a page, away from its chart
        if section.columns:
            n = len(
                section.columns
            )  # the first column names the row (and may wrap); the figures share the rest
            widths = [width] if n == 1 else [0.4 * width] + [0.6 * width / (n - 1)] * (n - 1)
            story.append(
                pdf.data_table(
                    section.columns,
                    [list(row) for row in section.rows],
                    widths,
                    wrap=(0,),
                    align="L" + "R" * (n - 1),
                )
            )
    return pdf.render(story, orientation="portrait", title=title, on_page=on_page)


def _chart(svg: str, width: float) -> Image:
    """The SVG chart as a PNG image the width of the text, its aspect kept (and no taller than 60 % of a page)."""
    png = to_png(svg, scale=3)  # three times the SVG's size: sharp in print
    pixels_wide, pixels_high = ImageReader(io.BytesIO(png)).getSize()
    height = width * pixels_high / pixels_wide
    most = 0.6 * pdf.page_size("portrait")[1]
    if height > most:
        width, height = width * most / height, most
    return Image(io.BytesIO(png), width=width, height=height)
