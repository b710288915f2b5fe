"""Shared pieces of every chart: SVG text, Indonesian number format, the palette, title and source lines."""

from __future__ import annotations

import math
import zlib
from html import escape

from tepat.domain import formatting

FONT = "DejaVu Sans, Arial, sans-serif"
INK = "#1f2933"
MUTED = "#616e7c"
HIGHLIGHT = "#c0392b"
BAR = "#7f9cbc"
NO_DATA = "#d9d9d9"
# A sequential light-to-dark scale (lower class = lighter), readable in greyscale print.
SCALE = ("#fff1d6", "#fdc98a", "#f7944d", "#d9582b", "#9e2a16")


def number(value: float, digits: int = 2) -> str:
    """A number the Indonesian way: ``4,01``; ``1.234,5``."""
    return formatting.number(value, digits)


def nice_ticks(low: float, high: float, most: int = 6) -> list[float]:
    """Round axis values covering ``low``..``high``: a step of 1, 2, 2.5 or 5 times a power of ten, at most ``most``
    ticks (``3.83, 4.11, 4.39`` become ``3.8, 4.0, 4.2, 4.4``)."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(most - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)
    first = math.floor(low / step + 1e-9)
    ticks = [round(first * step, 10)]
    # Multiples of the step, compared at the precision the ticks are returned in: float noise (0.1 + 0.2) adds
    # no tick, a value above the last tick by any amount that shows (2.6e-9 did not, before) does.
    while ticks[-1] < round(high, 10) or len(ticks) < 2:
        ticks.append(round((first + len(ticks)) * step, 10))
    return ticks


def text(
    x: float,
    y: float,
    content: str,
    *,
    size: int = 12,
    anchor: str = "start",
    weight: str = "normal",
    fill: str = INK,
    css: str = "",
) -> str:
    """One ``<text>`` element with the content escaped."""
    klass = f' class="{css}"' if css else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" text-anchor="{anchor}" '
        f'font-weight="{weight}" fill="{fill}"{klass}>{escape(content)}</text>'
    )


def document(width: int, height: int, body: list[str], *, title: str, description: str = "") -> str:
    """A standalone SVG document with an accessible title and description."""
    ident = f"judul-{zlib.crc32(title.encode()):08x}"  # unique when several charts share one page
    return "\n".join(
        [
            (
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
                f'role="img" aria-labelledby="{ident}">'  # sized to the page by CSS (tepat.css), which PNG export ignores
            ),
            f'<title id="{ident}">{escape(title)}</title>',
            f"<desc>{escape(description or title)}</desc>",
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
            *body,
            "</svg>",
        ]
    )


def header(width: int, title: str, subtitle: str) -> list[str]:
    """The title and the units line at the top of a chart."""
    return [
        text(16, 26, title, size=15, weight="bold", css="judul"),
        text(16, 45, subtitle, size=12, fill=MUTED, css="satuan"),
    ]


def footer(height: int, source: str) -> list[str]:
    """The source line at the bottom of a chart."""
    return [text(16, height - 12, source, size=10, fill=MUTED, css="sumber")]
