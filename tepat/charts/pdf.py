"""The shared PDF layout (ReportLab platypus): fonts, styles, the A4 page, the letterhead, tables, signatures.

Every PDF tepat prints (Daftar Nominatif, BAST, the realisation report, the
statistics report) is built from these pieces, so they look alike and a change
of letterhead or footer is made once. We draw with ReportLab rather than
converting HTML to PDF: an HTML engine lays out a 3,000-row list in about a
minute, ReportLab in a few seconds, which keeps printing inside a web request.

The fonts are the Bitstream Vera TTFs that ship inside the ``reportlab``
package: embedded as subsets with a ToUnicode map (the text can be searched,
copied and read back by ``pypdf``), and no system font is needed on the server.

Text that goes into a :class:`Paragraph` is markup, so values (names can hold
``&`` or ``<``) go through :func:`text` first; plain table cells are drawn as
they are and need no escaping.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    HRFlowable,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
)

from tepat.domain.formatting import long_date
from tepat.domain.office import Office

# ----------------------------------------------------------------- fonts

FONT, BOLD, ITALIC, BOLD_ITALIC = "Vera", "Vera-Bold", "Vera-Italic", "Vera-BoldItalic"
_FONT_FILES = {FONT: "Vera.ttf", BOLD: "VeraBd.ttf", ITALIC: "VeraIt.ttf", BOLD_ITALIC: "VeraBI.ttf"}


@lru_cache(maxsize=1)
def register_fonts() -> None:
    """Register the Vera family once per process (``<b>`` and ``<i>`` in paragraphs then pick its faces)."""
    folder = Path(reportlab.__file__).resolve().parent / "fonts"
    for name, filename in _FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / filename)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC)


register_fonts()  # at import: a Paragraph resolves its font when it is made, before anything is rendered


def text(value: object) -> str:
    """A value as Paragraph markup: ``&``, ``<`` and ``>`` escaped, so a name is printed as it is written."""
    return escape(str(value))


# ----------------------------------------------------------------- paragraph styles

INK = colors.HexColor("#111111")
BODY = ParagraphStyle(
    "body",
    fontName=FONT,
    fontSize=9,
    leading=13,
    textColor=INK,
    alignment=TA_JUSTIFY,
    spaceBefore=1.5 * mm,
    spaceAfter=1.5 * mm,
)
PLAIN = ParagraphStyle("plain", BODY, alignment=TA_LEFT, spaceBefore=0, spaceAfter=0, leading=11)
CENTRED = ParagraphStyle("centred", PLAIN, alignment=TA_CENTER)
TITLE = ParagraphStyle(
    "title",
    BODY,
    fontName=BOLD,
    fontSize=12,
    leading=15,
    alignment=TA_CENTER,
    spaceBefore=2 * mm,
    spaceAfter=1 * mm,
)
NUMBER_LINE = ParagraphStyle("number-line", CENTRED, spaceAfter=4 * mm)
HEADING = ParagraphStyle(
    "heading",
    BODY,
    fontName=BOLD,
    fontSize=10.5,
    leading=13,
    alignment=TA_LEFT,
    spaceBefore=5 * mm,
    spaceAfter=1 * mm,
    keepWithNext=1,
)
NOTE = ParagraphStyle("note", BODY, fontSize=7.5, leading=10, textColor=colors.HexColor("#333333"))


# ----------------------------------------------------------------- the page

MARGIN_TOP, MARGIN_SIDE, MARGIN_BOTTOM = 15 * mm, 14 * mm, 18 * mm
FOOTER_SIZE = 7.5


def page_size(orientation: str = "portrait") -> tuple[float, float]:
    """A4 in points, ``"portrait"`` or ``"landscape"``."""
    if orientation not in ("portrait", "landscape"):
        raise ValueError(f"orientation must be portrait or landscape, not {orientation!r}")
    return landscape(A4) if orientation == "landscape" else A4


def frame_width(orientation: str = "portrait") -> float:
    """The width text and tables may use between the side margins, in points."""
    return page_size(orientation)[0] - 2 * MARGIN_SIDE


class _FooterCanvas(Canvas):
    """A canvas that holds every page back until the end, so each footer can say "Halaman n dari total".

    ``showPage`` keeps the finished page's drawing state instead of writing it;
    ``save`` then knows the total, writes each page with its footer, and the file.
    """

    def __init__(self, *args: Any, footer: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer_text = footer
        self._held_pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._held_pages.append(dict(self.__dict__))
        self._startPage()  # type: ignore[attr-defined]  # Canvas's own page reset (not in the stubs)

    def save(self) -> None:
        total = len(self._held_pages)
        for number, state in enumerate(self._held_pages, start=1):
            self.__dict__.update(state)
            self._draw_footer(number, total)
            super().showPage()
        super().save()

    def _draw_footer(self, number: int, total: int) -> None:
        width = self._pagesize[0]  # type: ignore[attr-defined]  # set by Canvas, not in the stubs
        y = MARGIN_BOTTOM / 2
        self.saveState()
        self.setFont(FONT, FOOTER_SIZE)
        if self._footer_text:
            self.setFillColor(colors.HexColor("#555555"))
            self.drawString(MARGIN_SIDE, y, self._footer_text)
        self.setFillColor(INK)
        self.drawRightString(width - MARGIN_SIDE, y, f"Halaman {number} dari {total}")
        self.restoreState()


def render(
    story: Sequence[Flowable],
    *,
    orientation: str = "portrait",
    footer: str = "",
    title: str = "",
    author: str = "",
    on_page: Callable[[int], None] | None = None,
) -> bytes:
    """The flowables laid out on A4 pages with the footer, as PDF bytes; ``on_page(n)`` is told each page laid out
    (a long Daftar Nominatif shows its progress)."""
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=page_size(orientation),
        title=title,
        author=author,
        lang="id-ID",
        leftMargin=MARGIN_SIDE,
        rightMargin=MARGIN_SIDE,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
    )
    # One frame filling the margins exactly (no inner padding), so frame_width() is what a table may use.
    frame = Frame(
        doc.leftMargin,
        doc.bottomMargin,
        doc.width,
        doc.height,
        id="text",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])

    def canvas(*args: Any, **kwargs: Any) -> _FooterCanvas:
        return _FooterCanvas(*args, footer=footer, **kwargs)

    if on_page is not None:
        doc.setProgressCallBack(lambda kind, value: on_page(value) if kind == "PAGE" else None)
    doc.build(list(story), canvasmaker=canvas)
    return buffer.getvalue()


# ----------------------------------------------------------------- letterhead and titles


_KOP_GOVERNMENT = ParagraphStyle("kop-government", CENTRED, fontName=BOLD, fontSize=11, leading=13)
_KOP_OFFICE = ParagraphStyle("kop-office", CENTRED, fontName=BOLD, fontSize=13, leading=16)
_KOP_ADDRESS = ParagraphStyle("kop-address", CENTRED, fontSize=8, leading=10)


def kop(office: Office) -> list[Flowable]:
    """The letterhead (kop surat) of the office's Dinas Sosial, with the double rule under it."""
    return [
        Paragraph(text(office.government), _KOP_GOVERNMENT),
        Paragraph("DINAS SOSIAL", _KOP_OFFICE),
        *([Paragraph(text(office.address), _KOP_ADDRESS)] if office.address else []),
        HRFlowable(width="100%", thickness=0.7, color=INK, spaceBefore=2 * mm, spaceAfter=0.7),
        HRFlowable(width="100%", thickness=0.7, color=INK, spaceBefore=0, spaceAfter=4 * mm),
    ]


def title(words: str, number_line: str | None = None) -> list[Flowable]:
    """The title in capitals, and the centred markup line under it (cycle, number; ``<br/>`` allowed)."""
    out: list[Flowable] = [Paragraph(text(words.upper()), TITLE)]
    if number_line is not None:
        out.append(Paragraph(number_line, NUMBER_LINE))
    return out


def paragraph(markup: str, style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph of markup: escape the values in it with :func:`text`."""
    return Paragraph(markup, style)


# ----------------------------------------------------------------- tables

TABLE_SIZE = 8
_PAD_X, _PAD_Y = 1.5 * mm, 0.8 * mm
_CELL = ParagraphStyle("cell", fontName=FONT, fontSize=TABLE_SIZE, leading=TABLE_SIZE * 1.2, textColor=INK)
_CELL_BOLD = ParagraphStyle("cell-bold", _CELL, fontName=BOLD)
_HEAD = ParagraphStyle("head", _CELL_BOLD, alignment=TA_CENTER)


def info_table(
    rows: Sequence[Sequence[str]], widths: Sequence[float], spans: Iterable[tuple[int, int, int]] = ()
) -> Table:
    """A borderless label : value table of markup cells (escape values with :func:`text`).

    ``spans`` are ``(row, first column, last column)`` cells merged into one.
    """
    cells = [[Paragraph(c, PLAIN) if c else "" for c in row] for row in rows]
    style: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2 * mm),
        ("TOPPADDING", (0, 0), (-1, -1), 0.3 * mm),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 0.3 * mm),
    ]
    style += [("SPAN", (first, row), (last, row)) for row, first, last in spans]
    return Table(cells, colWidths=list(widths), style=style, hAlign="LEFT")


def natural_width(header: str, values: Iterable[str]) -> float:
    """The width a column needs for its values on one line and its header's longest word (bold, as totals are)."""
    words = max((pdfmetrics.stringWidth(w, BOLD, TABLE_SIZE) for w in header.split()), default=0.0)
    widest = max((pdfmetrics.stringWidth(v, BOLD, TABLE_SIZE) for v in set(values)), default=0.0)
    return max(words, widest) + 2 * _PAD_X


def share_width(width: float, columns: Sequence[Sequence[str]], *, most: float = 0.95) -> list[float]:
    """Split ``width`` between columns of free text (names, addresses) by what their values need.

    A column needs the width of its ``most`` longest values on one line (the 95th
    percentile, so one very long name does not take the page). The columns that
    need least are served first, each up to an equal share of what is left, so a
    short column never wraps to make room for a long one; the longest values of
    the remaining columns wrap. Width left over when every need is met is shared
    equally.
    """
    needs = []
    for values in columns:
        lengths = sorted(pdfmetrics.stringWidth(" ".join(str(v).split()), FONT, TABLE_SIZE) for v in values)
        widest = lengths[min(len(lengths) - 1, int(most * len(lengths)))] if lengths else 0.0
        needs.append(widest + 2 * _PAD_X + 0.5)  # half a point more, so rounding never wraps it
    given = [0.0] * len(needs)
    left = width
    for served, i in enumerate(sorted(range(len(needs)), key=needs.__getitem__)):
        given[i] = min(needs[i], left / (len(needs) - served))
        left -= given[i]
    return [g + left / len(needs) for g in given]


def fit(value: object, width: float, *, bold: bool = False) -> str | Paragraph:
    """A table cell that wraps inside ``width`` points: the plain string when it fits on one line.

    A Paragraph costs about a hundred times a plain string to lay out, and most
    names and addresses fit; only the long ones become (escaped) Paragraphs.
    """
    value = " ".join(str(value).split())
    if pdfmetrics.stringWidth(value, BOLD if bold else FONT, TABLE_SIZE) <= width - 2 * _PAD_X:
        return value
    return Paragraph(text(value), _CELL_BOLD if bold else _CELL)


def data_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    *,
    align: str = "",
    wrap: Iterable[int] = (),
    total_row: bool = False,
    total_style: Sequence[tuple[Any, ...]] = (),
    tail: Sequence[Flowable] = (),
) -> Flowable:
    """A bordered list: header repeated on every page, grid 0.5 pt, 8 pt text.

    ``align`` has one letter per column, ``L``, ``C`` or ``R`` (numbers right);
    the columns in ``wrap`` may hold long text (names, addresses) and wrap;
    ``total_row`` makes the last row bold on grey; ``total_style`` adds table
    style commands for that last row (row ``-1``), e.g. ``SPAN``; ``tail`` is drawn
    under the last row and stays on its page (see ``PagedTable``).
    """
    wrapping = set(wrap)
    last = len(rows) - 1
    body = [
        [
            fit(value, widths[i], bold=total_row and r == last) if i in wrapping else value
            for i, value in enumerate(row)
        ]
        for r, row in enumerate(rows)
    ]
    head = [Paragraph(text(c), _HEAD) for c in columns]
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT, TABLE_SIZE, TABLE_SIZE * 1.2),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#333333")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), _PAD_X),
        ("RIGHTPADDING", (0, 0), (-1, -1), _PAD_X),
        ("TOPPADDING", (0, 0), (-1, -1), _PAD_Y),
        ("BOTTOMPADDING", (0, 0), (-1, -1), _PAD_Y),
    ]
    for i, letter in enumerate(align):
        style.append(("ALIGN", (i, 1), (i, -1), {"L": "LEFT", "C": "CENTER", "R": "RIGHT"}[letter]))
    last_style = list(total_style)
    if total_row and rows:
        last_style[:0] = [
            ("FONT", (0, -1), (-1, -1), BOLD, TABLE_SIZE, TABLE_SIZE * 1.2),
            ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f2f2f2")),
        ]
    return PagedTable(head, body, list(widths), style, last_style, tail=tail)


class PagedTable(Flowable):
    """A long table that fills each page and starts the next one with its header again.

    ReportLab's ``Table(repeatRows=1)`` does this too, but at every page break
    it rebuilds a table of all the rows still left, so the work grows with the
    square of the rows (3,000 rows: over 10 s). Here the rows are measured once,
    and each page gets a small ``Table`` of the header and the rows that fit.
    ``last_style`` applies to the last row of the whole list (the total), so
    only on the last page.

    ``tail`` (a note, the signature block) is drawn right under the last row and
    never leaves it: when the rows fit on a page but the tail does not, the last
    ``KEEP_WITH_TAIL`` rows go over to the next page with it, so a signature
    never stands on a page of its own, detached from the list it signs.
    """

    KEEP_WITH_TAIL = 2  # the last recipient and the total

    def __init__(
        self,
        head: list[Any],
        body: list[list[Any]],
        widths: list[float],
        style: list[tuple[Any, ...]],
        last_style: list[tuple[Any, ...]],
        heights: tuple[float, list[float]] | None = None,
        tail: Sequence[Flowable] = (),
    ) -> None:
        super().__init__()
        self.hAlign = "LEFT"
        self._head, self._body, self._widths = head, body, widths
        self._style, self._last_style = style, last_style
        self._heights = heights  # (header, each row), in points, once measured
        self._tail = [part for f in tail for part in (f._content if isinstance(f, KeepTogether) else [f])]  # type: ignore[attr-defined]
        self._tail_heights: list[float] = []

    def _table(self) -> Table:
        return Table([self._head, *self._body], colWidths=self._widths, style=self._style + self._last_style)

    def _measure(self) -> tuple[float, list[float]]:
        if self._heights is None:
            table = self._table()
            table.wrapOn(self.canv, sum(self._widths), 1e9)
            heights = table._rowHeights  # type: ignore[attr-defined]  # set by wrap(); no public getter
            self._heights = (heights[0], list(heights[1:]))
        return self._heights

    def _tail_height(self, width: float) -> float:
        self._tail_heights = [f.wrapOn(self.canv, width, 1e9)[1] for f in self._tail]
        return sum(self._tail_heights)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        head, rows = self._measure()
        self.width, self.height = max(sum(self._widths), availWidth if self._tail else 0), head + sum(rows)
        self.height += self._tail_height(availWidth)
        return self.width, self.height

    def draw(self) -> None:
        table = self._table()
        table.wrapOn(self.canv, sum(self._widths), 1e9)
        below = sum(self._tail_heights)
        table.drawOn(self.canv, 0, below)
        for flowable, height in zip(self._tail, self._tail_heights, strict=True):
            below -= height
            flowable.drawOn(self.canv, 0, below)

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        head, rows = self._measure()
        used, n = head, 0
        while n < len(rows) and used + rows[n] <= availHeight:
            used += rows[n]
            n += 1
        keep = min(self.KEEP_WITH_TAIL, len(rows)) if self._tail else 0
        if n == len(rows) and used + self._tail_height(availWidth) <= availHeight:
            return [self]
        n = min(n, len(rows) - keep)  # the tail takes the last rows along to the next page
        if n <= 0:
            return []  # nothing can stay under the header: the whole list goes to the next page
        this_page = PagedTable(self._head, self._body[:n], self._widths, self._style, [], (head, rows[:n]))
        rest = PagedTable(
            self._head,
            self._body[n:],
            self._widths,
            self._style,
            self._last_style,
            (head, rows[n:]),
            tail=self._tail,
        )
        return [this_page, rest]


# ----------------------------------------------------------------- the Indonesian signature block


class Signatory(Protocol):
    """Who signs: caption ("Mengetahui,"), title, name (dots when unknown) and NIP/NIK."""

    caption: str
    title: str
    name: str | None
    id_label: str | None
    id_number: str | None


DOTS = "......................................"
_SIGNATURE_NAME = ParagraphStyle("signature-name", CENTRED, fontName=BOLD)
_SIGN_SPACE = 20 * mm


def signature_block(place: str, signed_on: date, signatures: Sequence[Signatory], width: float) -> Flowable:
    """Place and date over the right column; per column the caption, title, space, "( name )" and NIP/NIK.

    A signatory without a title leaves its column empty. The block is kept on one page.
    """
    column = width / len(signatures)

    def cell(s: Signatory) -> list[Flowable] | str:
        if not s.title:
            return ""
        lines: list[Flowable] = [
            Paragraph(text(s.caption) or "&#160;", CENTRED),  # an empty caption still takes its line
            Paragraph(text(s.title), CENTRED),
            Spacer(1, _SIGN_SPACE),
            Paragraph(f"<u>( {text(s.name or DOTS)} )</u>", _SIGNATURE_NAME),
        ]
        if s.id_label:
            lines.append(Paragraph(f"{text(s.id_label)}. {text(s.id_number or DOTS)}", CENTRED))
        return lines

    dated = [""] * (len(signatures) - 1) + [
        Paragraph(f"{text(place)}, {text(long_date(signed_on))}", CENTRED)
    ]
    table = Table(
        [dated, [cell(s) for s in signatures]],
        colWidths=[column] * len(signatures),
        style=[
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3 * mm),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3 * mm),
        ],
    )
    return KeepTogether([Spacer(1, 8 * mm), table])
