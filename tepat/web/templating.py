"""Jinja2 templates with Indonesian formatting filters (Rupiah, dates in Asia/Jakarta).

(Skeleton: the web module owner fills this in.)
"""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
