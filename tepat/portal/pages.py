"""The portal's own templates (a tiny base page: no JS, no CDN, one inline stylesheet) and date filters."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

TEMPLATES_DIR = Path(__file__).parent / "templates"
TIMEZONE = ZoneInfo("Asia/Jakarta")


def tanggal(value: date | datetime | None) -> str:
    """``24 Juli 2025`` (datetimes shown in Asia/Jakarta)."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo("UTC"))
        value = value.astimezone(TIMEZONE).date()
    return format_date(value, format="long", locale="id_ID")


_PATH = re.compile(r"(/layanan/[a-z]+)")


def tautan(text: str) -> Markup:
    """Plain text with its ``/layanan/...`` paths made into links (the text itself is escaped)."""
    return Markup(_PATH.sub(r'<a href="\1">\1</a>', str(escape(text))))


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters.update(tanggal=tanggal, tautan=tautan)
