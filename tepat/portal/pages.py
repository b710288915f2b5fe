"""The portal's own templates (a tiny base page: no JS, no CDN, one inline stylesheet) and date filters."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from tepat.domain.formatting import long_date
from tepat.services.office import office_view

TEMPLATES_DIR = Path(__file__).parent / "templates"


_PATH = re.compile(r"(/layanan/[a-z]+)")


def tautan(text: str) -> Markup:
    """Plain text with its ``/layanan/...`` paths made into links (the text itself is escaped)."""
    return Markup(_PATH.sub(r'<a href="\1">\1</a>', str(escape(text))))


def _office(request: Request) -> dict[str, Any]:
    return {
        "office": office_view(
            getattr(request.app.state, "settings", None), getattr(request.app.state, "db", None)
        )
    }


templates = Jinja2Templates(directory=str(TEMPLATES_DIR), context_processors=[_office])
templates.env.filters.update(tanggal=long_date, tautan=tautan)  # one date format for every page
