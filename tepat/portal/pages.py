"""The portal's own templates (a tiny base page: no JS, no CDN, one inline stylesheet) and date filters."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from tepat.domain.formatting import long_date

TEMPLATES_DIR = Path(__file__).parent / "templates"


_PATH = re.compile(r"(/layanan/[a-z]+)")


def tautan(text: str) -> Markup:
    """Plain text with its ``/layanan/...`` paths made into links (the text itself is escaped)."""
    return Markup(_PATH.sub(r'<a href="\1">\1</a>', str(escape(text))))


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters.update(tanggal=long_date, tautan=tautan)  # one date format for every page
