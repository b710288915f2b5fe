"""Jinja2 templates with Indonesian formatting filters (numbers, Rupiah, dates in Asia/Jakarta).

Every template gets ``actor`` (the logged-in user or ``None``), ``csrf_token``
and ``region_name`` from the context processor, so pages from any router can
extend ``base.html``.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates

from tepat.domain import formatting
from tepat.domain.access import Permission, Role
from tepat.domain.json_values import plain
from tepat.domain.validation import parse_date
from tepat.services.office import office_view
from tepat.web.feedback import Feedback
from tepat.web.json_twin import wants_json

TEMPLATES_DIR = Path(__file__).parent / "templates"
CSRF_SESSION_KEY = "csrf"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return str(token)


def tanggal(value: date | datetime | str | None) -> str:
    """A date as Indonesians write it: ``24 Juli 2025`` (datetimes in Asia/Jakarta)."""
    if isinstance(value, str):
        if not value:
            return "–"
        try:
            return formatting.long_date(parse_date(value))
        except ValueError:
            return value
    return formatting.long_date(value)


def ya_tidak(value: bool | None) -> str:
    if value is None:
        return "–"
    return "Ya" if value else "Tidak"


def office_of(request: Request) -> dict[str, Any]:
    """The signed-in user's office's names and whether it has a logo (``/logo``), for every page."""
    actor = getattr(request.state, "actor", None)
    return office_view(
        getattr(request.app.state, "settings", None),
        getattr(request.app.state, "db", None),
        actor.area_code if actor is not None else None,
    )


def _context(request: Request) -> dict[str, Any]:
    actor = getattr(request.state, "actor", None)
    db = getattr(request.app.state, "db", None)
    return {
        "actor": actor,
        "csrf_token": csrf_token(request) if "session" in request.scope else "",
        "region_name": db.regions.name if db is not None else (lambda code: code),
        "office": office_of(request),
        "Role": Role,
        "Permission": Permission,
    }


class Pages(Jinja2Templates):
    """The pages' templates. Routes answer with ``templates.page(...)``: a request for a page's JSON twin
    (``/siklus/12.json``, see ``web.json_twin``) gets the context the route handed to the template, as JSON, with
    the same status and headers."""

    def page(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        *,
        feedback: Feedback | None = None,
    ) -> Response:
        """The page ``name`` rendered with ``context`` — or, for its JSON twin, ``context`` as JSON. A form's page
        passes its ``feedback`` (``web.feedback``): its message, errors and conflict join the context, and its
        status is the answer's."""
        if feedback is not None:
            context, status_code = {**(context or {}), **feedback.context()}, feedback.status_code
        if wants_json(request):
            return JSONResponse(plain(context or {}), status_code=status_code, headers=headers)
        return self.TemplateResponse(request, name, context, status_code=status_code, headers=headers)


templates = Pages(directory=str(TEMPLATES_DIR), context_processors=[_context])
templates.env.filters.update(
    tanggal=tanggal,
    waktu=formatting.moment,
    angka=formatting.number,
    rupiah=formatting.rupiah,
    ya_tidak=ya_tidak,
)
