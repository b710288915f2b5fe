"""The portal's own templates (a tiny base page: no JS, no CDN, one inline stylesheet) and date filters."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from tepat.domain.formatting import long_date

TEMPLATES_DIR = Path(__file__).parent / "templates"


_PATH = re.compile(r"(/layanan/[a-z]+)")


def tautan(text: str) -> Markup:
    """Plain text with its ``/layanan/...`` paths made into links (the text itself is escaped)."""
    return Markup(_PATH.sub(r'<a href="\1">\1</a>', str(escape(text))))


def _office(request: Request) -> dict[str, Any]:
    settings = getattr(request.app.state, "settings", None)
    return {"office": {"name": getattr(settings, "office_name", ""), "short_name": getattr(settings, "office_short_name", ""),
                       "logo": getattr(settings, "office_logo", None) is not None}}


templates = Jinja2Templates(directory=str(TEMPLATES_DIR), context_processors=[_office])
templates.env.filters.update(tanggal=long_date, tautan=tautan)  # one date format for every page
