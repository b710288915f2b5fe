"""Formal documents (Daftar Nominatif, BAST, realisation report) rendered from HTML templates to PDF.

The templates live in ``tepat/charts/templates/documents/``, beside the PDF
report of ``export.py``, and not among the web templates: the CLI prints the
same documents without a web server, and the documents are print layouts
(A4, page numbers, signature blocks) that share nothing with the pages. The
caller passes plain values; nothing here reads the database.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from tepat.domain.formatting import long_date, number, rupiah
from tepat.domain.terbilang import rupiah_words, terbilang, title_words

TEMPLATES = Path(__file__).resolve().parent / "templates" / "documents"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters.update(rupiah=rupiah, angka=number, tanggal=long_date, terbilang=terbilang,
                       rupiah_terbilang=lambda v: title_words(rupiah_words(int(v))))
    return env


def document_html(template: str, context: dict[str, Any]) -> str:
    """The document as standalone HTML (no external resources)."""
    return _environment().get_template(template).render(**context)


def document_pdf(template: str, context: dict[str, Any]) -> bytes:
    """The document as PDF bytes."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # only PDF output needs it

    pdf: bytes = HTML(string=document_html(template, context)).write_pdf()
    return pdf
