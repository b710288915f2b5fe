"""JSON twins of the operator pages: ``/siklus/12.json`` answers with the view model ``/siklus/12`` renders.

Like datasette's ``.json``: the page's route runs as usual — the same login, permission and area checks, the
same audit of personal data read — and ``templating.Pages`` hands its context to ``domain.json_values.plain``
instead of the template. So cycles, payments, statistics and every other page have a read API without code of
their own; the token API under ``/api/v1`` stays the one for other systems.

Only ``GET`` and ``HEAD`` have twins, and never the residents' public pages (``/cek``, ``/layanan``), the APIs
(``/api``, ``/dci``) or static files, whose paths are left untouched.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

SUFFIX = ".json"
SCOPE_KEY = "tepat.json_twin"
NO_TWIN = ("/api/", "/dci/", "/static/", "/cek", "/layanan")


def twin_of(path: str) -> str | None:
    """The page path whose twin ``path`` asks for, or ``None`` when it asks for no twin."""
    if not path.startswith("/") or not path.endswith(SUFFIX) or path.startswith(NO_TWIN):
        return None
    return path[: -len(SUFFIX)] or "/"  # ``/.json`` is the home page's


def wants_json(request: Request) -> bool:
    """Whether this request asked for the page's JSON twin."""
    return bool(request.scope.get(SCOPE_KEY))


class JsonTwin:
    """Routes ``<page>.json`` to ``<page>`` and marks the request, so the page answers with JSON."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            page = twin_of(scope["path"])
            if page is not None:
                scope = {**scope, "path": page, "raw_path": page.encode(), SCOPE_KEY: True}
        await self.app(scope, receive, send)
